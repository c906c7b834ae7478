"""/api/v1/incoming and /api/v1/registers/incoming: parse, call one operation, answer."""
from flask import Blueprint, jsonify, request

from docmgr.core import clock
from docmgr.core.api import current_user, json_body, listing, roles
from docmgr.core.auth import Role
from docmgr.core.values import parse_date, parse_int
from docmgr.core.web import (
    blobs,
    file_download,
    int_arg,
    page_args,
    pdf_response,
    read_upload,
    session,
)
from docmgr.inbound import operations as ops
from docmgr.inbound import register
from docmgr.inbound.serialize import document_dict
from docmgr.signing.context import trust_store

bp = Blueprint("inbound_api", __name__)

ANY = tuple(Role)


@bp.post("/incoming")
@roles(Role.CLERK)
def register_document():
    data = ops.parse_registration(request.form)
    checked, filename = read_upload()
    doc = ops.register(session(), blobs(), current_user(), data, checked, filename,
                       trust=trust_store())
    return jsonify(document_dict(doc)), 201


@bp.get("/incoming")
@roles(*ANY)
def list_documents():
    page = page_args(request.args)
    total, items = ops.list_documents(
        session(), current_user(), year=int_arg(request.args, "year"),
        status=request.args.get("status") or None, q=request.args.get("q") or None,
        queue=request.args.get("queue") or None, offset=page.offset, limit=page.per_page)
    return listing(total, page, [document_dict(d) for d in items])


@bp.get("/incoming/<int:doc_id>")
@roles(*ANY)
def get_document(doc_id):
    doc = ops.get_visible(session(), current_user(), doc_id, with_details=True)
    return jsonify(document_dict(doc, details=True))


@bp.get("/incoming/<int:doc_id>/file")
@roles(*ANY)
def get_file(doc_id):
    doc = ops.get_visible(session(), current_user(), doc_id, with_details=True)
    return pdf_response(doc.file, doc.notation, fallback=f"van-ban-den-{doc.id}")


@bp.post("/incoming/<int:doc_id>/assignments")
@roles(*ops.DISTRIBUTORS)
def assign(doc_id):
    body = json_body()
    assignment = ops.assign(
        session(), current_user(), doc_id,
        user_id=parse_int(body.get("user_id"), "user_id"),
        unit_id=parse_int(body.get("unit_id"), "unit_id"),
        role=str(body.get("role") or "main"),
        deadline=parse_date(body.get("deadline"), "deadline"),
        note=body.get("note"))
    doc = ops.get_visible(session(), current_user(), doc_id, with_details=True)
    return jsonify({**document_dict(doc, details=True), "assignment_id": assignment.id}), 201


@bp.post("/incoming/<int:doc_id>/start")
@roles(*ANY)
def start(doc_id):
    ops.start(session(), current_user(), doc_id)
    return jsonify(document_dict(ops.get_visible(session(), current_user(), doc_id,
                                                 with_details=True), details=True))


@bp.post("/incoming/<int:doc_id>/complete")
@roles(*ANY)
def complete(doc_id):
    ops.complete(session(), current_user(), doc_id, json_body().get("note"))
    return jsonify(document_dict(ops.get_visible(session(), current_user(), doc_id,
                                                 with_details=True), details=True))


@bp.post("/incoming/<int:doc_id>/accept")
@roles(Role.CLERK)
def accept(doc_id):
    ops.accept(session(), current_user(), doc_id)
    return jsonify(document_dict(ops.get_visible(session(), current_user(), doc_id,
                                                 with_details=True), details=True))


@bp.post("/incoming/<int:doc_id>/reject")
@roles(Role.CLERK)
def reject(doc_id):
    ops.reject(session(), current_user(), doc_id, json_body().get("reason"))
    return jsonify(document_dict(ops.get_visible(session(), current_user(), doc_id,
                                                 with_details=True), details=True))


@bp.get("/registers/incoming")
@roles(*register.READERS)
def export_register():
    year = int_arg(request.args, "year", clock.today().year)
    return file_download(*register.export(session(), current_user(), year,
                                          request.args.get("format", "csv")))
