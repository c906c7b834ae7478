"""Pages of văn bản đi. Thin: parse the form, call one operation, render or redirect."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from docmgr.core import clock
from docmgr.core.auth import Role, User
from docmgr.core.documents import StoredFile
from docmgr.core.errors import DomainError, Forbidden, NotFound, ValidationFailed
from docmgr.core.transaction import flash_after_commit, form_action, on_refusal, show_again
from docmgr.core.values import parse_int
from docmgr.core.views import ANY_ROLE, roles_required
from docmgr.core.web import (
    blobs,
    file_download,
    int_arg,
    page_args,
    page_image_response,
    pdf_response,
    read_attachments,
    read_upload,
    session,
    settings,
)
from docmgr.outbound import authority, register
from docmgr.outbound import operations as ops
from docmgr.outbound.models import (
    DECISION_LABELS,
    RECIPIENT_LABELS,
    STATUS_LABELS,
    Authority,
    OutgoingDocument,
    SignerKind,
)
from docmgr.search.highlight import marks_for
from docmgr.signing import appearance, engine
from docmgr.signing import operations as signing
from docmgr.signing.context import timestamper, trust_store
from docmgr.signing.validation import VERDICT_LABELS

bp = Blueprint("outbound", __name__, template_folder="templates", url_prefix="/outgoing")

REVIEWER_SLOTS = 3  # empty reviewer selects offered on the new-draft form
EVENT_LABELS = {
    "outgoing.drafted": "tạo dự thảo",
    "outgoing.version_added": "tải lên phiên bản mới",
    "outgoing.signer_changed": "đổi người ký",
    "outgoing.submitted": "trình",
    "outgoing.approved": "đồng ý",
    "outgoing.returned": "trả lại",
    "outgoing.signed": "ký số",
    "outgoing.issued": "cấp số, ký số cơ quan và phát hành",
}


bp.add_app_template_global(ops.waiting_too_long, "waiting_too_long")


@bp.app_template_global()
def outgoing_labels():
    return {"status": STATUS_LABELS, "recipient": RECIPIENT_LABELS, "verdict": VERDICT_LABELS,
            "decision": DECISION_LABELS, "event": EVENT_LABELS}


# --- lists -------------------------------------------------------------------------------

@bp.get("/")
@roles_required(*ANY_ROLE)
def index():
    page = page_args(request.args)
    queue = request.args.get("queue") or None
    if queue is not None and queue not in ops.QUEUES:
        raise ValidationFailed("Hàng đợi không hợp lệ.", field="queue")
    filters = {"queue": queue, "status": request.args.get("status") or None,
               "year": int_arg(request.args, "year")}
    total, items = ops.list_documents(session(), current_user, **filters, offset=page.offset,
                                      limit=page.per_page)
    counts = ops.queue_counts(session(), current_user)
    counts["issued"], _ = ops.list_documents(session(), current_user, queue="issued", limit=0)
    return render_template("outbound/list.html", items=items, total=total, page=page,
                           filters=filters, counts=counts, queues=_queues_for(current_user))


def _queues_for(user: User) -> dict:
    """The queue tabs that can ever hold something for this user."""
    hidden = set()
    if user.role not in ops.DRAFTERS:
        hidden.add("mine")
    if user.role not in ops.SIGNERS:
        hidden.add("to_sign")
    if user.role != Role.CLERK:
        hidden.add("to_issue")
    return {code: label for code, label in ops.QUEUES.items() if code not in hidden}


# --- drafting ----------------------------------------------------------------------------

def _form_choices():
    return ops.draft_choices(session(), current_user)


def _draft_defaults(signers, reviewers) -> dict:
    """Công văn, thường, one copy; the unit's head reviews a specialist's draft and a
    leader signs."""
    leader = next((u for u in signers if u.role == Role.LEADER and u.id != current_user.id),
                  None)
    head = next((u for u in reviewers if u.role == Role.HEAD and current_user.unit_id
                 and u.unit_id == current_user.unit_id), None)
    return {"doc_type": "CV", "urgency": "normal", "secrecy": "normal", "copies": "1",
            "signer_id": str(leader.id) if leader else "",
            "reviewer_ids": [str(head.id)] if head and current_user.role == Role.SPECIALIST
            else [], "recipient_orgs": [], "external": ""}


def _draft_input(form) -> ops.DraftInput:
    recipients = [code for code in form.getlist("recipient_orgs") if code.strip()]
    recipients += [line for line in form.get("external", "").splitlines() if line.strip()]
    return ops.parse_draft({
        "doc_type": form.get("doc_type"), "subject": form.get("subject"),
        "signer_id": form.get("signer_id"),
        "reviewer_ids": [r for r in form.getlist("reviewer_ids") if r.strip()],
        "recipients": recipients, "urgency": form.get("urgency"),
        "secrecy": form.get("secrecy"), "legal_normative": form.get("legal_normative"),
        "reply_deadline": form.get("reply_deadline"), "copies": form.get("copies")})


def _draft_page(values: dict | None = None, error_field: str | None = None,
                status: int = 200):
    """The new-draft form: the proposals, or what was typed."""
    signers, reviewers, orgs = _form_choices()
    if values is None:
        values = _draft_defaults(signers, reviewers)
    slots = max(REVIEWER_SLOTS, len(values["reviewer_ids"]) + 1)
    return render_template("outbound/new.html", values=values, error_field=error_field,
                           signers=signers, reviewers=reviewers, orgs=orgs,
                           slots=slots), status


def _draft_refused(exc: DomainError):
    flash(exc.message, "error")
    form = request.form
    typed = {**form.to_dict(), "legal_normative": form.get("legal_normative"),
             "reviewer_ids": [r for r in form.getlist("reviewer_ids") if r.strip()],
             "recipient_orgs": form.getlist("recipient_orgs")}
    return _draft_page(typed, exc.field, 400)


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*ops.DRAFTERS)
@on_refusal(_draft_refused)
def new():
    if request.method == "GET":
        return _draft_page()
    data = _draft_input(request.form)
    checked, filename = read_upload(accept_docx=True)
    doc = ops.create_draft(session(), blobs(), current_user, data, checked, filename,
                           read_attachments())
    flash_after_commit("Đã tạo dự thảo. Kiểm tra lại rồi bấm “Trình” để gửi xem xét.")
    return redirect(url_for(".show", doc_id=doc.id))


# --- one document --------------------------------------------------------------------------

def _shown_file(doc) -> StoredFile:
    """The signed (or issued) file once there is one; the current draft version before."""
    return session().get(StoredFile, doc.signed_file_id or doc.file_id)


def _current_reviewer(doc) -> int | None:
    if doc.status != "in_review":
        return None
    return next((s.reviewer_id for s in doc.route if s.position == doc.current_step), None)


@bp.get("/<int:doc_id>")
@roles_required(*ANY_ROLE)
def show(doc_id):
    doc = ops.get_visible(session(), current_user, doc_id, with_details=True)
    shown = _shown_file(doc)
    actions = ops.allowed_actions(current_user, doc, _current_reviewer(doc))
    dispatch = ops.dispatch_status(session(), doc) if doc.status == "issued" else None
    issuer = session().get(User, doc.issued_by_id) if doc.issued_by_id else None
    version_no, pending = ops.review_state(doc)
    signers = (ops.signer_choices(session(), current_user) if "change_signer" in actions
               else [])
    return render_template("outbound/show.html", doc=doc, shown=shown, actions=actions,
                           dispatch=dispatch, issuer=issuer, version_no=version_no,
                           next_step=pending[0] if pending else None, signers=signers,
                           authority_prefix=authority.prefix,
                           events=ops.timeline(session(), doc))


def _document_page(doc_id: int) -> str:
    return url_for(".show", doc_id=doc_id)


@bp.post("/<int:doc_id>/versions")
@roles_required(*ops.DRAFTERS)
@form_action(back_to=_document_page,
             success=lambda version: f"Đã tải lên phiên bản {version.number}.")
def new_version(doc_id):
    checked, filename = read_upload(accept_docx=True)
    return ops.add_version(session(), blobs(), current_user, doc_id, checked, filename,
                           request.form.get("note", ""))


@bp.post("/<int:doc_id>/signer")
@roles_required(*ops.DRAFTERS)
@form_action(back_to=_document_page,
             success=lambda doc: "Đã đổi người ký: "
             f"{session().get(User, doc.signer_id).full_name}.")
def change_signer(doc_id):
    signer_id = parse_int(request.form.get("signer_id"), "signer_id")
    if signer_id is None:
        raise ValidationFailed("Vui lòng chọn người ký.", field="signer_id")
    return ops.change_signer(session(), current_user, doc_id, signer_id)


@bp.post("/<int:doc_id>/submit")
@roles_required(*ops.DRAFTERS)
@form_action(back_to=_document_page,
             success=lambda doc: "Đã trình ký." if doc.status == "awaiting_signature"
             else "Đã trình xem xét.")
def submit(doc_id):
    return ops.submit(session(), current_user, doc_id)


@bp.post("/<int:doc_id>/approve")
@roles_required(*ANY_ROLE)
@form_action(back_to=_document_page,
             success=lambda doc: "Đã đồng ý; dự thảo chuyển " + (
                 "người ký." if doc.status == "awaiting_signature"
                 else "người xem xét tiếp theo."))
def approve(doc_id):
    return ops.approve(session(), current_user, doc_id, request.form.get("comment", ""))


@bp.post("/<int:doc_id>/return")
@roles_required(*ANY_ROLE)
@form_action(back_to=_document_page, success="Đã trả lại dự thảo cho người soạn thảo.")
def return_draft(doc_id):
    return ops.return_draft(session(), current_user, doc_id, request.form.get("comment", ""))


@bp.post("/<int:doc_id>/issue")
@roles_required(Role.CLERK)
@form_action(back_to=_document_page,
             success=lambda doc: f"Đã phát hành văn bản số {doc.notation}.")
def issue(doc_id):
    # A wrong PIN (PinRefused) keeps its failure count and the key's lock, nothing else.
    return ops.issue(session(), blobs(), current_user, doc_id, request.form.get("pin", ""),
                     timestamper=timestamper(), trust=trust_store())


# --- signing ---------------------------------------------------------------------------------

def _signing_page(doc, chosen: ops.Placement | None, status: int = 200):
    layout = ops.signature_layout(session(), blobs(), doc, current_user)
    box = layout.personal
    proposed = {"page": box.page + 1, "x": box.x0, "y": box.y0}
    placed = ({"page": chosen.page, "x": chosen.x, "y": chosen.y} if chosen else proposed)
    try:
        signing.active_key(session(), org_id=current_user.org_id, user_id=current_user.id)
        no_key = None
    except NotFound as exc:  # said before the PIN is typed, not after
        no_key = exc.message
    seal = signing.seal_diameter_mm(session(), doc.org_id) * appearance.MM
    # Issuing puts the seal over the left third of the signature and keeps it on the page.
    min_x = max(0.0, engine.SEAL_MARGIN + seal - box.width / 3)
    current = session().get(StoredFile, doc.file_id)
    return render_template("outbound/sign.html", doc=doc, layout=layout, proposed=proposed,
                           placed=placed, chosen=chosen, box_w=box.width, box_h=box.height,
                           seal=seal, min_x=min_x, no_key=no_key, current=current,
                           stated=ops.stated_authority(blobs(), current, current_user)), status


def _signable(doc_id):
    """The document, when it waits for the current user's signature; else a redirect
    (with the reason: not waiting, an approval of an earlier version, no authority)."""
    doc = ops.get_visible(session(), current_user, doc_id, with_details=True)
    if doc.signer_id != current_user.id:
        raise Forbidden("Chỉ người ký được chỉ định mới ký được văn bản này.")
    if doc.status != "awaiting_signature":
        flash("Văn bản không ở trạng thái chờ ký.", "warning")
        return None
    obstacle = ops.signing_obstacle(session(), blobs(), doc, current_user)
    if obstacle:
        flash(obstacle, "error")
        return None
    return doc


def _sign_refused(exc: DomainError, doc_id: int):
    """The signing page again, unless the document no longer waits for this signer."""
    doc = ops.get_visible(session(), current_user, doc_id, with_details=True)
    if doc.signer_id != current_user.id:  # refused before signing: not this user's to sign
        raise exc
    flash(exc.message, "error")
    if doc.status != "awaiting_signature":
        return redirect(url_for(".show", doc_id=doc_id))
    # Back to the proposal rather than repeat an impossible place.
    chosen = None if exc.field in ops.PLACE_FIELDS else ops.chosen_place(request.form)
    return _signing_page(doc, chosen, exc.status)


@bp.route("/<int:doc_id>/sign", methods=["GET", "POST"])
@roles_required(*ops.SIGNERS)
@on_refusal(_sign_refused)
def sign(doc_id):
    doc = _signable(doc_id)
    if doc is None:
        return redirect(url_for(".show", doc_id=doc_id))
    if request.method == "GET":
        return _signing_page(doc, None)
    # A wrong PIN (PinRefused, 403) keeps its failure count and the key's lock.
    ops.sign(session(), blobs(), current_user, doc_id, request.form.get("pin", ""),
             chosen=ops.chosen_place(request.form), timestamper=timestamper(), trust=trust_store())
    flash_after_commit("Đã ký số văn bản. Văn bản chuyển văn thư cấp số và phát hành.")
    return redirect(url_for(".show", doc_id=doc_id))


def _batch_page(results: list | None = None, status: int = 200):
    total, items = ops.list_documents(session(), current_user, queue="to_sign",
                                      limit=settings().sign_batch_max)
    layouts_found = {}
    for doc in items:
        try:
            layouts_found[doc.id] = ops.signature_layout(session(), blobs(), doc,
                                                         current_user).found
        except Exception:  # noqa: BLE001 — an unreadable file: the signer sees the warning
            layouts_found[doc.id] = False
    titles = {}
    if results:
        rows = session().scalars(select(OutgoingDocument).where(
            OutgoingDocument.id.in_([r.id for r in results]),
            ops.visible_clause(current_user))).all()
        titles = {d.id: d for d in rows}
    return render_template("outbound/sign_batch.html", items=items, total=total,
                           results=results, titles=titles, layouts_found=layouts_found,
                           checked=set(request.form.getlist("ids")) if status != 200
                           else None), status


@bp.route("/sign-batch", methods=["GET", "POST"])
@roles_required(*ops.SIGNERS)
@on_refusal(show_again(_batch_page))  # a wrong PIN (403) keeps its failure count
def sign_batch():
    if request.method == "GET":
        return _batch_page()
    return _batch_page(ops.sign_batch(session(), blobs(), current_user,
                                      request.form.getlist("ids"), request.form.get("pin", ""),
                                      limit=settings().sign_batch_max,
                                      timestamper=timestamper(), trust=trust_store()))


# --- files and images ------------------------------------------------------------------------

def _file_of(doc, file_id: int | None) -> StoredFile:
    """One of the document's own files (a version or the signed file); the shown one by
    default."""
    if file_id is None:
        return _shown_file(doc)
    allowed = {v.file_id for v in doc.versions} | {doc.signed_file_id, doc.file_id}
    if file_id not in allowed:
        raise NotFound("Tệp không thuộc văn bản này.")
    return session().get(StoredFile, file_id)


@bp.get("/<int:doc_id>/pages/<int:number>.png")
@roles_required(*ANY_ROLE)
def page_image(doc_id, number):
    doc = ops.get_visible(session(), current_user, doc_id, with_details=True)
    return page_image_response(_file_of(doc, int_arg(request.args, "f")), number,
                               marks_for(request.args.get("hl")))


@bp.get("/<int:doc_id>/file")
@roles_required(*ANY_ROLE)
def file(doc_id):
    doc = ops.get_visible(session(), current_user, doc_id, with_details=True)
    return pdf_response(_file_of(doc, int_arg(request.args, "f")), doc.notation,
                        fallback=f"van-ban-di-{doc.id}",
                        inline=request.args.get("download") != "1")


# --- thẩm quyền ký ----------------------------------------------------------------------------

@bp.get("/signing-authority")
@roles_required(*ANY_ROLE)
def signing_authority():
    """The organisation's signing-authority rules: read by everyone (a drafter choosing a
    signer), changed by the administrator."""
    return render_template("outbound/signing_authority.html",
                           lines=authority.table(session(), current_user.org_id),
                           kinds=list(SignerKind), prefix=authority.prefix,
                           editable=current_user.role == Role.ADMIN)


@bp.post("/signing-authority")
@roles_required(Role.ADMIN)
@form_action(back_to=lambda: url_for(".signing_authority"),
             success=lambda row: "Đã cập nhật thẩm quyền ký: "
             f"{authority.class_label(row.doc_class)}, {row.signer.label.lower()} ký "
             f"{authority.prefix(row.authority) or 'trực tiếp'} — "
             f"{'được phép' if row.allowed else 'không được phép'}.")
def change_signing_authority():
    form = request.form
    signer, capacity = form.get("signer", ""), form.get("authority", "")
    if signer not in set(SignerKind) or capacity not in set(Authority):
        raise ValidationFailed("Thẩm quyền ký không hợp lệ.", field="authority")
    return authority.set_allowed(session(), current_user, form.get("doc_class", ""),
                                 SignerKind(signer), Authority(capacity),
                                 form.get("allowed") == "1")


# --- sổ đăng ký văn bản đi -------------------------------------------------------------------

@bp.get("/<int:doc_id>/attachments/<int:attachment_id>")
@roles_required(*ANY_ROLE)
def attachment(doc_id, attachment_id):
    stored = ops.attachment_file(session(), current_user, doc_id, attachment_id)
    return pdf_response(stored, *ops.attachment_name(session(), doc_id, attachment_id),
                        inline=request.args.get("download") != "1")


@bp.get("/register")
@roles_required(*register.READERS)
def register_book():
    year = int_arg(request.args, "year", clock.today().year)
    page = page_args(request.args, default_per_page=50)
    total, docs = register.page(session(), current_user, year, page.offset, page.per_page)
    return render_template("outbound/register.html", rows=[(d, register.row(d)) for d in docs],
                           total=total, page=page, year=year, columns=register.COLUMNS)


@bp.get("/register/export")
@roles_required(*register.READERS)
def export_register_page():
    year = int_arg(request.args, "year", clock.today().year)
    return file_download(*register.export(session(), current_user, year,
                                          request.args.get("format", "xlsx")))
