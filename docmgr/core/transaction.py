"""The transaction of a request: opened on first use, ended in one place.

How a request ends
------------------
``session()`` opens the request's session the first time something needs the database:
read-only (a deferred BEGIN on SQLite) for GET, HEAD and OPTIONS, writing otherwise. Views
and API handlers never commit, roll back or catch a refusal: they parse, call one
operation, and render or redirect. When the answer is ready, ``_end_transaction`` (an
``after_request`` hook) settles the transaction once:

- a write request answered below 400 is committed;
- a refused request (a ``DomainError`` reached an error handler, which called
  ``refused``) was already rolled back before its answer was rendered, so the answer
  never shows half-done work — unless the refusal ``keeps_changes`` (a wrong PIN or
  password counts towards a lock-out): then what the operation wrote before refusing is
  committed with the refusal;
- anything else — a GET, any other 4xx or 5xx, an unexpected exception — is rolled back.

``close_session`` (teardown) rolls back whatever is still open: the safety net for an
exception that escaped every handler. Files reach the blob store before the row that names
them (a row never points at a missing file); the blobs a request created are removed again
when its transaction is not committed (``blob_journal``), so a refused upload leaves nothing
on disk.

The commit is in ``after_request`` rather than in each view so that no view can forget it,
commit half-way, or commit a refusal. If the commit itself fails (a full disk, the database
gone), the application's own error handlers answer it (maintenance/faults: 507, 503), as if
the view had raised it. What must happen only once the change is stored — the success
message, signing a user in — is queued with ``after_commit``: a failed commit never says
"Đã lưu".

How a refusal is answered
-------------------------
A ``DomainError`` simply propagates out of the view. The API blueprint answers it as JSON
(core/api.py). For pages, the handler installed here asks the view how to answer a refused
form post, declared next to its route:

- ``@form_action(back_to=..., success=...)``: a button on a page (start, approve, close a
  hồ sơ...). Success and refusal both return to the page, with the message flashed.
- ``@on_refusal(respond)``: a form that shows itself again (the registration form with its
  duplicate warning, the draft form, the signing page); ``show_again(page)`` covers the
  common "flash the reason, render the page with the error's status".
- Nothing declared, or a refused GET: the error page.

Why a registered error handler reading a declaration rather than a decorator that catches
the error: the transaction must be settled before anything is rendered, and in the same way
for pages and the API; a catching decorator would have to tell the boundary about the
refusal anyway. Errors raised while parsing the form (``read_upload``, ``parse_int``) are
refused exactly like the operation's own. A responder that is itself refused (the document
is not even visible) gives the error page for that refusal. Decorators between the route
and the declaration must use ``functools.wraps`` (they all do), which carries it outward.
"""
from functools import wraps

from flask import current_app, flash, g, has_request_context, redirect, request
from sqlalchemy import exists, or_, select

from docmgr.core.errors import DomainError
from docmgr.core.storage import BlobJournal

READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# Names in flask.g, one request's state. maintenance/faults discards "db_session" itself
# when the database has failed under the request.
_SESSION = "db_session"
_OUTCOME = "transaction_outcome"
_AFTER_COMMIT = "after_commit"
_BLOBS = "blob_journal"
KEEP, DISCARD = "keep", "discard"


def _read_only() -> bool:
    return request.method in READ_ONLY_METHODS


def session():
    """The request's session: one transaction, read-only (deferred on SQLite) for GET."""
    if _SESSION not in g:
        db = current_app.extensions["docmgr"].db
        setattr(g, _SESSION, (db.reader if _read_only() else db.writer)())
    return g.get(_SESSION)


def close_session(exc=None):
    """Teardown: roll back whatever is still open (the commit happened earlier, if due)."""
    sess = g.pop(_SESSION, None)
    if sess is not None:
        if exc is not None or sess.in_transaction():
            sess.rollback()
        sess.close()
    _discard_blobs()  # an exception escaped every handler: nothing was committed


def blob_journal() -> BlobJournal | None:
    """The blob store's journal of this write request (None outside one: a GET writes no
    blob, commands keep what they write)."""
    if not has_request_context() or _read_only():
        return None
    if _BLOBS not in g:
        setattr(g, _BLOBS, BlobJournal())
    return g.get(_BLOBS)


def _keep_blobs() -> None:
    journal = g.pop(_BLOBS, None)
    if journal is not None:
        journal.release()


def _discard_blobs() -> None:
    journal = g.pop(_BLOBS, None)
    if journal is not None:
        journal.discard(_blob_referenced)


def _blob_referenced(sha256: str) -> bool:
    """Whether a committed row names the blob (asked in a session of its own, so the state
    of the request's session does not matter); True when the database cannot say."""
    from docmgr.core.documents import StoredFile  # here: models import the web plumbing
    from docmgr.signing.models import OrgSeal, SignatureImage
    try:
        with current_app.extensions["docmgr"].db.reader() as check:
            return bool(check.scalar(select(or_(
                exists().where(StoredFile.sha256 == sha256),
                exists().where(SignatureImage.sha256 == sha256),
                exists().where(OrgSeal.sha256 == sha256)))))
    except Exception:  # noqa: BLE001 - unsure means keep: an orphan blob is harmless
        return True


def after_commit(callback) -> None:
    """Run ``callback()`` once this write request's changes are committed; never when it
    is refused, fails, or its commit fails."""
    g.setdefault(_AFTER_COMMIT, []).append(callback)


def flash_after_commit(message: str, category: str = "success") -> None:
    after_commit(lambda: flash(message, category))


def refused(exc: DomainError) -> None:
    """Settle the transaction of a refused request, before its answer is rendered.

    Called by every handler that answers a ``DomainError``: nothing of the refused action
    is kept, except the bookkeeping of a refusal that ``keeps_changes``."""
    g.pop(_AFTER_COMMIT, None)
    if exc.keeps_changes:
        setattr(g, _OUTCOME, KEEP)
        return
    setattr(g, _OUTCOME, DISCARD)
    sess = g.get(_SESSION)
    if sess is not None:
        sess.rollback()


def _end_transaction(response):
    outcome = g.pop(_OUTCOME, None)
    if outcome is None:
        outcome = KEEP if response.status_code < 400 else DISCARD
    if _read_only():
        outcome = DISCARD  # a GET never writes, whatever it tried
    callbacks = g.pop(_AFTER_COMMIT, ())
    sess = g.get(_SESSION)
    if sess is not None and outcome == KEEP:
        try:
            sess.commit()
        except Exception as exc:  # noqa: BLE001 - handed to the error handlers
            # Answered like the same error raised by the view (faults: 507, 503); an
            # exception nobody handles propagates: a 500, and teardown rolls back.
            return current_app.make_response(current_app.handle_user_exception(exc))
    elif sess is not None:
        sess.rollback()
    if outcome == KEEP and response.status_code < 400:
        _keep_blobs()
    else:  # refused, failed, or a refusal that keeps only its bookkeeping
        _discard_blobs()
    if outcome == KEEP:
        for callback in callbacks:
            callback()
    return response


def _refused_page(exc: DomainError, error_page):
    refused(exc)
    respond = getattr(current_app.view_functions.get(request.endpoint), "on_refusal", None)
    answered = exc
    if respond is None or _read_only():
        answer = error_page(exc)
    else:
        try:
            answer = respond(exc, **(request.view_args or {}))
        except DomainError as again:  # nothing to go back to: the page itself is refused
            answered, answer = again, error_page(again)
    response = current_app.make_response(answer)
    response.headers.update(answered.headers())  # e.g. Retry-After of a 429
    return response


def install(app, *, error_page) -> None:
    """Commit or roll back every request; answer refused pages (``error_page(exc)`` when
    the view declares nothing)."""
    app.after_request(_end_transaction)
    app.register_error_handler(DomainError, lambda exc: _refused_page(exc, error_page))


# --- declarations on page views -----------------------------------------------------------

def on_refusal(respond):
    """Declare how a refused form post of this view is answered: ``respond(exc,
    **view_args)`` returns the response, the refused work already rolled back (or, for a
    refusal that ``keeps_changes``, about to be committed). It may raise a DomainError to
    answer with the error page instead; flash after anything that may be refused, so the
    error page does not repeat the message."""
    def declare(view):
        view.on_refusal = respond
        return view
    return declare


def show_again(page):
    """A refusal answered by the form's own page: the reason flashed, then
    ``page(status=exc.status, **view_args)``."""
    def respond(exc, **view_args):
        flash(exc.message, "error")
        return page(status=exc.status, **view_args)
    return respond


def form_action(*, back_to, success):
    """A button on a page: the view calls one operation and returns its result; then
    ``success`` (a sentence, or a function of that result) is flashed once committed, and
    the browser returns to ``back_to(**view_args)``. A refusal returns there too, with the
    reason flashed and nothing kept."""
    def decorate(view):
        @wraps(view)
        def run(**view_args):
            result = view(**view_args)
            flash_after_commit(success(result) if callable(success) else success)
            return redirect(back_to(**view_args))

        def go_back(exc, **view_args):
            target = back_to(**view_args)
            flash(exc.message, "error")
            return redirect(target)

        run.on_refusal = go_back
        return run
    return decorate
