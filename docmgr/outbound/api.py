"""/api/v1/drafts, /api/v1/outgoing and /api/v1/registers/outgoing."""
from flask import Blueprint, jsonify, request

from docmgr.core import clock
from docmgr.core.api import current_user, json_body, listing, roles
from docmgr.core.auth import Role
from docmgr.core.documents import StoredFile
from docmgr.core.errors import ValidationFailed
from docmgr.core.values import parse_int
from docmgr.core.web import (
    blobs,
    file_download,
    int_arg,
    page_args,
    pdf_response,
    read_attachments,
    read_upload,
    session,
    settings,
)
from docmgr.outbound import authority, register
from docmgr.outbound import operations as ops
from docmgr.outbound.serialize import document_dict
from docmgr.signing.context import timestamper, trust_store

bp = Blueprint("outbound_api", __name__)
ANY = tuple(Role)


def _details(doc_id: int, status: int = 200):
    doc = ops.get_visible(session(), current_user(), doc_id, with_details=True)
    dispatch = ops.dispatch_status(session(), doc) if doc.status == "issued" else None
    return jsonify(document_dict(doc, details=True, dispatch=dispatch)), status


@bp.post("/drafts")
@roles(*ops.DRAFTERS)
def create():
    data = ops.parse_draft(request.form)
    checked, filename = read_upload(accept_docx=True)
    doc = ops.create_draft(session(), blobs(), current_user(), data, checked, filename,
                           read_attachments())
    return _details(doc.id, 201)


@bp.get("/drafts")
@roles(*ANY)
def index():
    page = page_args(request.args)
    total, items = ops.list_documents(
        session(), current_user(), queue=request.args.get("queue") or None,
        status=request.args.get("status") or None, year=int_arg(request.args, "year"),
        offset=page.offset, limit=page.per_page)
    return listing(total, page, [document_dict(d) for d in items])


@bp.get("/drafts/<int:doc_id>")
@bp.get("/outgoing/<int:doc_id>")
@roles(*ANY)
def show(doc_id):
    return _details(doc_id)


@bp.post("/drafts/<int:doc_id>/versions")
@roles(*ops.DRAFTERS)
def new_version(doc_id):
    checked, filename = read_upload(accept_docx=True)
    ops.add_version(session(), blobs(), current_user(), doc_id, checked, filename,
                    request.form.get("note", ""))
    return _details(doc_id, 201)


@bp.post("/drafts/<int:doc_id>/signer")
@roles(*ops.DRAFTERS)
def change_signer(doc_id):
    signer_id = parse_int(json_body().get("signer_id"), "signer_id")
    if signer_id is None:
        raise ValidationFailed("Vui lòng chọn người ký.", field="signer_id")
    ops.change_signer(session(), current_user(), doc_id, signer_id)
    return _details(doc_id)


@bp.post("/drafts/<int:doc_id>/submit")
@roles(*ops.DRAFTERS)
def submit(doc_id):
    ops.submit(session(), current_user(), doc_id)
    return _details(doc_id)


@bp.post("/drafts/<int:doc_id>/approve")
@roles(*ANY)
def approve(doc_id):
    ops.approve(session(), current_user(), doc_id, json_body().get("comment"))
    return _details(doc_id)


@bp.post("/drafts/<int:doc_id>/return")
@roles(*ANY)
def return_draft(doc_id):
    ops.return_draft(session(), current_user(), doc_id, json_body().get("comment"))
    return _details(doc_id)


@bp.post("/drafts/<int:doc_id>/sign")
@roles(*ops.SIGNERS)
def sign(doc_id):
    body = json_body()
    ops.sign(session(), blobs(), current_user(), doc_id, str(body.get("pin") or ""),
             chosen=ops.chosen_place(body), timestamper=timestamper(), trust=trust_store())
    return _details(doc_id)


@bp.post("/drafts/sign-batch")
@roles(*ops.SIGNERS)
def sign_batch():
    body = json_body()
    results = ops.sign_batch(session(), blobs(), current_user(), body.get("ids", []),
                             str(body.get("pin") or ""), limit=settings().sign_batch_max,
                             timestamper=timestamper(), trust=trust_store())
    return jsonify({"results": [r.__dict__ for r in results],
                    "signed": sum(r.ok for r in results), "total": len(results)})


@bp.post("/drafts/<int:doc_id>/issue")
@roles(Role.CLERK)
def issue(doc_id):
    pin = str(json_body().get("pin") or "")
    ops.issue(session(), blobs(), current_user(), doc_id, pin, timestamper=timestamper(),
              trust=trust_store())
    return _details(doc_id)


@bp.get("/drafts/<int:doc_id>/file")
@bp.get("/outgoing/<int:doc_id>/file")
@roles(*ANY)
def file(doc_id):
    """The final signed PDF once signed or issued; the current draft version before."""
    doc = ops.get_visible(session(), current_user(), doc_id)
    return pdf_response(session().get(StoredFile, doc.signed_file_id or doc.file_id),
                        doc.notation, fallback=f"van-ban-di-{doc.id}")


@bp.get("/outgoing/<int:doc_id>/attachments/<int:attachment_id>")
@roles(*ANY)
def attachment(doc_id, attachment_id):
    stored = ops.attachment_file(session(), current_user(), doc_id, attachment_id)
    return pdf_response(stored, *ops.attachment_name(session(), doc_id, attachment_id))


@bp.get("/signing-authorities")
@roles(*ANY)
def signing_authorities():
    """The organisation's thẩm quyền ký: one item per (class of documents, kind of signer,
    capacity), allowed or not."""
    items = authority.table_dict(authority.table(session(), current_user().org_id))
    return jsonify({"org_code": current_user().org.code, "total": len(items), "items": items})


@bp.get("/registers/outgoing")
@roles(*register.READERS)
def export_register():
    year = int_arg(request.args, "year", clock.today().year)
    return file_download(*register.export(session(), current_user(), year,
                                          request.args.get("format", "csv")))
