"""Pages of hồ sơ. Thin: parse the form, call one operation, render or redirect."""
from flask import Blueprint, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from sqlalchemy import select

from docmgr.core import clock
from docmgr.core.auth import Unit
from docmgr.core.errors import Conflict, DomainError, ValidationFailed
from docmgr.core.transaction import flash_after_commit, form_action, on_refusal
from docmgr.core.values import parse_int
from docmgr.core.views import ANY_ROLE, roles_required
from docmgr.core.web import blobs, int_arg, page_args, session
from docmgr.records import export
from docmgr.records import operations as ops
from docmgr.records.models import RIGHTS_LABELS, STATUS_LABELS

bp = Blueprint("records", __name__, template_folder="templates", url_prefix="/records")

DOCUMENT_PAGES = {"incoming": "inbound.show", "outgoing": "outbound.show"}
RETENTION_SUGGESTIONS = ("5", "10", "20", "50", "70", "Vĩnh viễn")


@bp.record_once
def _template_helpers(state):
    # The "Lưu vào hồ sơ" box is included in the inbound and outbound document pages,
    # whose views know nothing of hồ sơ: it asks for its own data through this global.
    state.app.jinja_env.globals["records_filing"] = _filing_for


def _filing_for(doc):
    kind = {"incoming_documents": "incoming",
            "outgoing_documents": "outgoing"}.get(getattr(doc, "__tablename__", None))
    if kind is None or not current_user.is_authenticated:
        return None
    try:
        return ops.filing_options(session(), current_user, kind, doc.id)
    except DomainError:
        return None


def _catalogue_page(values: dict | None = None, status: int = 200, error_field=None):
    args = request.args
    page = page_args(args)
    # The current year unless another (or every year, an empty value) is picked.
    year = int_arg(args, "year") if "year" in args else clock.today().year
    filters = {"year": year, "status": args.get("status") or None, "due": args.get("due") == "1"}
    total, items = ops.list_dossiers(session(), current_user, **filters, offset=page.offset,
                                     limit=page.per_page)
    creating = current_user.role in ops.CREATORS
    defaults = {"year": str(clock.today().year), "owner_id": str(current_user.id),
                "rights": "public", "retention": "10"}
    return render_template(
        "records/list.html", items=items, total=total, page=page, filters=filters,
        counts=ops.document_counts(session(), [d.id for d in items]),
        spans=ops.visible_spans(session(), current_user, [d.id for d in items]),
        due_count=ops.due_count(session(), current_user), statuses=STATUS_LABELS,
        creating=creating, values={**defaults, **(values or {})}, error_field=error_field,
        owners=ops.owner_choices(session(), current_user) if creating else [],
        units=session().scalars(select(Unit).where(Unit.org_id == current_user.org_id)
                                .order_by(Unit.name)).all() if creating else [],
        rights=RIGHTS_LABELS, retention_suggestions=RETENTION_SUGGESTIONS), status


@bp.get("/")
@roles_required(*ANY_ROLE)
def index():
    return _catalogue_page()


def _create_refused(exc: DomainError):
    flash(exc.message, "error")
    return _catalogue_page(request.form.to_dict(), 409 if isinstance(exc, Conflict) else 400,
                           exc.field)


@bp.post("/")
@roles_required(*ops.CREATORS)
@on_refusal(_create_refused)
def create():
    dossier = ops.create(session(), current_user, ops.parse_dossier(request.form, current_user))
    flash_after_commit(f"Đã tạo hồ sơ {dossier.code}: {dossier.title}.")
    return redirect(url_for(".show", dossier_id=dossier.id))


@bp.get("/<int:dossier_id>")
@roles_required(*ANY_ROLE)
def show(dossier_id):
    dossier = ops.get_in_org(session(), current_user, dossier_id)
    seen = ops.contents(session(), current_user, dossier)
    shown = seen.entries
    return render_template(
        "records/show.html", dossier=dossier, entries=shown, hidden=seen.hidden,
        start_date=seen.start_date, end_date=seen.end_date,
        actions=ops.allowed_actions(current_user, dossier),
        unfilable={(e.kind, e.doc.id) for e in shown if ops.may_unfile(current_user, dossier, e)},
        warning=dossier.archive_state(clock.today()), events=ops.timeline(session(), dossier),
        document_pages=DOCUMENT_PAGES, retention_suggestions=RETENTION_SUGGESTIONS)


def _dossier_page(dossier_id: int, **_document) -> str:
    return url_for(".show", dossier_id=dossier_id)


@bp.post("/<int:dossier_id>/close")
@roles_required(*ANY_ROLE)
@form_action(back_to=_dossier_page, success=lambda d: f"Đã đóng hồ sơ {d.code}.")
def close(dossier_id):
    return ops.close(session(), current_user, dossier_id)


@bp.post("/<int:dossier_id>/retention")
@roles_required(*ANY_ROLE)
@form_action(back_to=_dossier_page,
             success=lambda d: f"Thời hạn bảo quản của hồ sơ {d.code}: {d.retention_label}.")
def extend_retention(dossier_id):
    return ops.extend_retention(session(), current_user, dossier_id,
                                request.form.get("retention"))


@bp.post("/<int:dossier_id>/submit")
@roles_required(*ops.SUBMITTERS)
@form_action(back_to=_dossier_page,
             success=lambda d: f"Đã ghi nhận hồ sơ {d.code} nộp lưu cơ quan.")
def submit(dossier_id):
    return ops.mark_submitted(session(), current_user, dossier_id)


@bp.post("/<int:dossier_id>/documents/<kind>/<int:doc_id>/remove")
@roles_required(*ANY_ROLE)
@form_action(back_to=_dossier_page, success="Đã bỏ văn bản khỏi hồ sơ.")
def unfile(dossier_id, kind, doc_id):
    return ops.unfile_document(session(), current_user, dossier_id, kind, doc_id)


@bp.get("/<int:dossier_id>/export")
@roles_required(*ANY_ROLE)
def export_zip(dossier_id):
    body, filename = export.build(session(), blobs(), current_user, dossier_id)
    return send_file(body, mimetype="application/zip", as_attachment=True,
                     download_name=filename)


@bp.get("/file")
@roles_required(*ANY_ROLE)
def file_page():
    """Lưu vào hồ sơ, as a page of its own (GET /records/file?kind=incoming&id=12)."""
    kind = ops.parse_kind(request.args.get("kind"))
    doc_id = int_arg(request.args, "id")
    options = ops.filing_options(session(), current_user, kind, doc_id or 0)
    return render_template("records/file.html", filing=options, back_to_page=True,
                           back=url_for(DOCUMENT_PAGES[kind], doc_id=options.doc_id))


def _filed_document() -> tuple[str, int]:
    """(kind, id) of the document a filing form is about; a wrong one is refused with the
    error page, there being no page to go back to."""
    return ops.parse_kind(request.form.get("kind")), parse_int(request.form.get("id"), "id") or 0


def _filing_form_page() -> str:
    """Back where the filing form was: the document's page, or the page of its own."""
    kind, doc_id = _filed_document()
    if request.form.get("back") == "page":
        return url_for(".file_page", kind=kind, id=doc_id)
    return url_for(DOCUMENT_PAGES[kind], doc_id=doc_id)


def _filed_message(outcome) -> str:
    dossier, created = outcome
    return (f"Đã lưu văn bản vào hồ sơ {dossier.code}." if created
            else f"Văn bản đã có trong hồ sơ {dossier.code}.")


@bp.post("/file")
@roles_required(*ANY_ROLE)
@form_action(back_to=_filing_form_page, success=_filed_message)
def file_document():
    kind, doc_id = _filed_document()
    dossier_id = parse_int(request.form.get("dossier_id"), "dossier_id")
    if dossier_id is None:
        raise ValidationFailed("Vui lòng chọn hồ sơ.", field="dossier_id")
    link, created = ops.file_document(session(), current_user, dossier_id, kind, doc_id)
    return ops.get_in_org(session(), current_user, link.dossier_id), created
