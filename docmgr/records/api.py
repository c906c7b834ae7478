"""/api/v1/records: the danh mục hồ sơ, filing, closing, retention and the ZIP export."""
from flask import Blueprint, jsonify, request, send_file

from docmgr.core.api import current_user, json_body, listing, roles
from docmgr.core.auth import Role
from docmgr.core.errors import ValidationFailed
from docmgr.core.values import parse_int
from docmgr.core.web import blobs, int_arg, page_args, session
from docmgr.records import export
from docmgr.records import operations as ops
from docmgr.records.serialize import dossier_dict

bp = Blueprint("records_api", __name__)
ANY = tuple(Role)


def _details(dossier_id: int, status: int = 200):
    dossier = ops.get_in_org(session(), current_user(), dossier_id)
    seen = ops.contents(session(), current_user(), dossier)
    body = dossier_dict(dossier, doc_total=seen.total, span=(seen.start_date, seen.end_date),
                        entries=seen.entries, hidden=seen.hidden)
    return jsonify(body), status


@bp.get("/records")
@roles(*ANY)
def list_dossiers():
    page = page_args(request.args)
    total, items = ops.list_dossiers(
        session(), current_user(), year=int_arg(request.args, "year"),
        status=request.args.get("status") or None, due=request.args.get("due") == "1",
        offset=page.offset, limit=page.per_page)
    ids = [d.id for d in items]
    counts = ops.document_counts(session(), ids)
    spans = ops.visible_spans(session(), current_user(), ids)
    return listing(total, page, [dossier_dict(d, doc_total=counts.get(d.id, 0),
                                              span=spans.get(d.id, (None, None)))
                                 for d in items])


@bp.post("/records")
@roles(*ops.CREATORS)
def create():
    dossier = ops.create(session(), current_user(), ops.parse_dossier(json_body(),
                                                                     current_user()))
    return _details(dossier.id, 201)


@bp.get("/records/<int:dossier_id>")
@roles(*ANY)
def get_dossier(dossier_id):
    return _details(dossier_id)


@bp.post("/records/<int:dossier_id>/documents")
@roles(*ANY)
def file_document(dossier_id):
    """{"kind": "incoming" | "outgoing", "id"}: 201 when filed, 200 when already there."""
    body = json_body()
    doc_id = parse_int(body.get("id"), "id")
    if doc_id is None:
        raise ValidationFailed("Vui lòng cho biết mã văn bản (id).", field="id")
    _, created = ops.file_document(session(), current_user(), dossier_id, body.get("kind"),
                                   doc_id)
    return _details(dossier_id, 201 if created else 200)


@bp.delete("/records/<int:dossier_id>/documents/<kind>/<int:doc_id>")
@roles(*ANY)
def unfile_document(dossier_id, kind, doc_id):
    ops.unfile_document(session(), current_user(), dossier_id, kind, doc_id)
    return _details(dossier_id)


@bp.post("/records/<int:dossier_id>/close")
@roles(*ANY)
def close(dossier_id):
    ops.close(session(), current_user(), dossier_id)
    return _details(dossier_id)


@bp.post("/records/<int:dossier_id>/retention")
@roles(*ANY)
def extend_retention(dossier_id):
    """{"retention": years | "permanent"}; shortening is refused."""
    ops.extend_retention(session(), current_user(), dossier_id, json_body().get("retention"))
    return _details(dossier_id)


@bp.post("/records/<int:dossier_id>/submit")
@roles(*ops.SUBMITTERS)
def submit(dossier_id):
    ops.mark_submitted(session(), current_user(), dossier_id)
    return _details(dossier_id)


@bp.get("/records/<int:dossier_id>/export")
@roles(*ANY)
def export_zip(dossier_id):
    body, filename = export.build(session(), blobs(), current_user(), dossier_id)
    return send_file(body, mimetype="application/zip", as_attachment=True,
                     download_name=filename)
