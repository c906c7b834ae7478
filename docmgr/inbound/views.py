"""Pages of văn bản đến. Thin: parse the form, call one operation, render or redirect."""
from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from docmgr.core import clock
from docmgr.core.auth import Role
from docmgr.core.errors import Conflict, DomainError
from docmgr.core.transaction import flash_after_commit, form_action, on_refusal
from docmgr.core.values import parse_date, parse_int
from docmgr.core.views import ANY_ROLE, roles_required
from docmgr.core.web import (
    blobs,
    file_download,
    int_arg,
    page_args,
    page_image_response,
    pdf_response,
    read_upload,
    session,
)
from docmgr.inbound import operations as ops
from docmgr.inbound import register
from docmgr.inbound.models import STATUS_LABELS
from docmgr.search.highlight import marks_for
from docmgr.signing.context import trust_store

bp = Blueprint("inbound", __name__, template_folder="templates", url_prefix="/incoming")


@bp.get("/")
@roles_required(*ANY_ROLE)
def index():
    page = page_args(request.args)
    # The current year unless the clerk picks another (or "Mọi năm", an empty value).
    year = int_arg(request.args, "year") if "year" in request.args else clock.today().year
    filters = {"year": year, "status": request.args.get("status") or None,
               "q": request.args.get("q") or None, "queue": request.args.get("queue") or None}
    total, items = ops.list_documents(session(), current_user, **filters, offset=page.offset,
                                      limit=page.per_page)
    return render_template("inbound/list.html", items=items, total=total, page=page,
                           filters=filters, statuses=STATUS_LABELS, queues=ops.QUEUES)


def _registration_page(status: int = 200, duplicate: dict | None = None,
                       error_field: str | None = None):
    """The form, with what was typed, or the proposals for a new entry."""
    defaults = {"doc_date": clock.today().isoformat(), "received_via": "electronic",
                "sender": ops.last_sender(session(), current_user), "doc_type": "CV",
                "urgency": "normal", "secrecy": "normal"}
    done = int_arg(request.args, "done")
    return render_template("inbound/new.html", values={**defaults, **request.form.to_dict()},
                           duplicate=duplicate, error_field=error_field,
                           done=ops.get_visible(session(), current_user, done) if done else None
                           ), status


def _registration_refused(exc: DomainError):
    if isinstance(exc, Conflict):  # the warning box above the form says it, with a link
        return _registration_page(409, duplicate={"id": exc.extra.get("id"),
                                                  "message": exc.message})
    flash(exc.message, "error")
    return _registration_page(400, error_field=exc.field)


@bp.route("/new", methods=["GET", "POST"])
@roles_required(Role.CLERK)
@on_refusal(_registration_refused)
def new():
    if request.method == "GET":
        return _registration_page()
    data = ops.parse_registration(request.form)
    checked, filename = read_upload()
    doc = ops.register(session(), blobs(), current_user, data, checked, filename,
                       trust=trust_store())
    flash_after_commit(f"Đã vào sổ văn bản đến số {doc.arrival_number}: {doc.notation}.")
    return redirect(url_for(".new", done=doc.id))


@bp.get("/check-duplicate")
@roles_required(Role.CLERK)
def check_duplicate():
    """Asked by the registration form while the clerk types, to warn before saving."""
    args = request.args
    try:
        doc_date = parse_date(args.get("doc_date"), "doc_date")
    except DomainError:
        doc_date = None
    if not (args.get("sender") and args.get("notation") and doc_date):
        return jsonify({"duplicate": None})
    twin = ops.find_duplicate(session(), current_user, args["sender"], args["notation"],
                              doc_date)
    if twin is None:
        return jsonify({"duplicate": None})
    if twin.id is None:  # a classified twin the clerk may not open: only that it exists
        return jsonify({"duplicate": {"message": twin.message}})
    return jsonify({"duplicate": {"message": twin.message, "id": twin.id,
                                  "arrival_number": twin.arrival_number,
                                  "url": url_for(".show", doc_id=twin.id)}})


@bp.get("/<int:doc_id>")
@roles_required(*ANY_ROLE)
def show(doc_id):
    doc = ops.get_visible(session(), current_user, doc_id, with_details=True)
    actions = ops.allowed_actions(session(), current_user, doc)
    people, units = (ops.assignable_targets(session(), current_user)
                     if "assign" in actions else ([], []))
    return render_template("inbound/show.html", doc=doc, actions=actions, people=people,
                           units=units, events=ops.timeline(session(), doc),
                           overdue=ops.is_overdue(doc))


def _document_page(doc_id: int) -> str:
    return url_for(".show", doc_id=doc_id)


@bp.post("/<int:doc_id>/assign")
@roles_required(*ops.DISTRIBUTORS)
@form_action(back_to=_document_page, success="Đã chuyển xử lý văn bản.")
def assign(doc_id):
    form = request.form
    kind, _, ident = form.get("target", "").partition(":")
    return ops.assign(session(), current_user, doc_id,
                      user_id=parse_int(ident, "target") if kind == "user" else None,
                      unit_id=parse_int(ident, "target") if kind == "unit" else None,
                      role=form.get("role", "main"),
                      deadline=parse_date(form.get("deadline"), "deadline"),
                      note=form.get("note", ""))


@bp.post("/<int:doc_id>/start")
@roles_required(*ANY_ROLE)
@form_action(back_to=_document_page, success="Đã nhận xử lý văn bản.")
def start(doc_id):
    return ops.start(session(), current_user, doc_id)


@bp.post("/<int:doc_id>/complete")
@roles_required(*ANY_ROLE)
@form_action(back_to=_document_page, success="Đã hoàn thành xử lý văn bản.")
def complete(doc_id):
    return ops.complete(session(), current_user, doc_id, request.form.get("note", ""))


@bp.post("/<int:doc_id>/accept")
@roles_required(Role.CLERK)
@form_action(back_to=_document_page,
             success=lambda doc: f"Đã tiếp nhận và vào sổ văn bản đến số {doc.arrival_number}: "
             f"{doc.notation}.")
def accept(doc_id):
    """Tiếp nhận an electronic document dispatched by another organisation: số đến."""
    return ops.accept(session(), current_user, doc_id)


@bp.post("/<int:doc_id>/reject")
@roles_required(Role.CLERK)
@form_action(back_to=_document_page, success="Đã trả lại văn bản cho nơi gửi.")
def reject(doc_id):
    """Return a pending electronic document to its sender, with the reason."""
    return ops.reject(session(), current_user, doc_id, request.form.get("reason", ""))


@bp.get("/<int:doc_id>/file")
@roles_required(*ANY_ROLE)
def file(doc_id):
    doc = ops.get_visible(session(), current_user, doc_id, with_details=True)
    return pdf_response(doc.file, doc.notation, fallback=f"van-ban-den-{doc.id}",
                        inline=request.args.get("download") != "1")


@bp.get("/<int:doc_id>/pages/<int:number>.png")
@roles_required(*ANY_ROLE)
def page_image(doc_id, number):
    doc = ops.get_visible(session(), current_user, doc_id, with_details=True)
    return page_image_response(doc.file, number, marks_for(request.args.get("hl")))


@bp.get("/register")
@roles_required(*register.READERS)
def register_book():
    year = int_arg(request.args, "year", clock.today().year)
    page = page_args(request.args, default_per_page=50)
    sender = request.args.get("sender") or None
    doc_type = request.args.get("doc_type") or None
    total, page_rows = register.page(session(), current_user, year, page.offset, page.per_page,
                                     sender=sender, doc_type=doc_type)
    return render_template("inbound/register.html", rows=[register.row(d) for d in page_rows],
                           total=total, page=page, year=year, sender=sender or "",
                           doc_type=doc_type or "", columns=register.COLUMNS)


@bp.get("/register/export")
@roles_required(*register.READERS)
def export_register_page():
    year = int_arg(request.args, "year", clock.today().year)
    return file_download(*register.export(session(), current_user, year,
                                          request.args.get("format", "xlsx")))
