"""Pages of hồ sơ. Thin: parse the form, call one operation, render or redirect."""
from flask import Blueprint, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from sqlalchemy import select

from docmgr.core import clock
from docmgr.core.auth import Unit
from docmgr.core.errors import Conflict, DomainError, ValidationFailed
from docmgr.core.values import parse_int
from docmgr.core.views import ANY_ROLE, perform, refuse, roles_required
from docmgr.core.web import blobs, commit, int_arg, page_args, session
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


@bp.post("/")
@roles_required(*ops.CREATORS)
def create():
    form = request.form
    try:
        dossier = ops.create(session(), current_user, ops.parse_dossier(form, current_user))
        commit()
    except DomainError as exc:
        refuse(exc)
        return _catalogue_page(form.to_dict(), 409 if isinstance(exc, Conflict) else 400,
                               exc.field)
    flash(f"Đã tạo hồ sơ {dossier.code}: {dossier.title}.", "success")
    return redirect(url_for(".show", dossier_id=dossier.id))


@bp.get("/<int:dossier_id>")
@roles_required(*ANY_ROLE)
def show(dossier_id):
    dossier = ops.get_in_org(session(), current_user, dossier_id)
    shown, hidden = ops.contents(session(), current_user, dossier)
    return render_template(
        "records/show.html", dossier=dossier, entries=shown, hidden=hidden,
        actions=ops.allowed_actions(current_user, dossier),
        unfilable={(e.kind, e.doc.id) for e in shown if ops.may_unfile(current_user, dossier, e)},
        warning=dossier.archive_state(clock.today()), events=ops.timeline(session(), dossier),
        document_pages=DOCUMENT_PAGES, retention_suggestions=RETENTION_SUGGESTIONS)


@bp.post("/<int:dossier_id>/close")
@roles_required(*ANY_ROLE)
def close(dossier_id):
    return perform(lambda: ops.close(session(), current_user, dossier_id),
                   lambda d: f"Đã đóng hồ sơ {d.code}.", url_for(".show", dossier_id=dossier_id))


@bp.post("/<int:dossier_id>/retention")
@roles_required(*ANY_ROLE)
def extend_retention(dossier_id):
    return perform(lambda: ops.extend_retention(session(), current_user, dossier_id,
                                                request.form.get("retention")),
                   lambda d: f"Thời hạn bảo quản của hồ sơ {d.code}: {d.retention_label}.",
                   url_for(".show", dossier_id=dossier_id))


@bp.post("/<int:dossier_id>/submit")
@roles_required(*ops.SUBMITTERS)
def submit(dossier_id):
    return perform(lambda: ops.mark_submitted(session(), current_user, dossier_id),
                   lambda d: f"Đã ghi nhận hồ sơ {d.code} nộp lưu cơ quan.",
                   url_for(".show", dossier_id=dossier_id))


@bp.post("/<int:dossier_id>/documents/<kind>/<int:doc_id>/remove")
@roles_required(*ANY_ROLE)
def unfile(dossier_id, kind, doc_id):
    return perform(lambda: ops.unfile_document(session(), current_user, dossier_id, kind,
                                               doc_id),
                   "Đã bỏ văn bản khỏi hồ sơ.", url_for(".show", dossier_id=dossier_id))


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


@bp.post("/file")
@roles_required(*ANY_ROLE)
def file_document():
    form = request.form
    kind = ops.parse_kind(form.get("kind"))
    doc_id = parse_int(form.get("id"), "id") or 0
    back = (url_for(".file_page", kind=kind, id=doc_id) if form.get("back") == "page"
            else url_for(DOCUMENT_PAGES[kind], doc_id=doc_id))

    def file_it():
        dossier_id = parse_int(form.get("dossier_id"), "dossier_id")
        if dossier_id is None:
            raise ValidationFailed("Vui lòng chọn hồ sơ.", field="dossier_id")
        link, created = ops.file_document(session(), current_user, dossier_id, kind, doc_id)
        dossier = ops.get_in_org(session(), current_user, link.dossier_id)
        return (f"Đã lưu văn bản vào hồ sơ {dossier.code}." if created
                else f"Văn bản đã có trong hồ sơ {dossier.code}.")
    return perform(file_it, lambda message: message, back)
