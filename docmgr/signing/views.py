"""Pages of chữ ký số: check the signatures of a PDF and read the report in Vietnamese."""
from flask import (
    Blueprint,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select

from docmgr.core import clock
from docmgr.core.auth import Role
from docmgr.core.errors import DomainError
from docmgr.core.views import ANY_ROLE, roles_required
from docmgr.core.web import blobs, commit, read_upload_bytes, session
from docmgr.signing import appearance, validation
from docmgr.signing import operations as signing
from docmgr.signing.api import read_pdf_for_validation
from docmgr.signing.context import trust_store
from docmgr.signing.models import OrgSeal, SignatureImage, SigningKey

bp = Blueprint("signing", __name__, template_folder="templates", url_prefix="/signatures")


@bp.route("/validate", methods=["GET", "POST"])
@roles_required(*ANY_ROLE)
def validate():
    report = filename = None
    status = 200
    if request.method == "POST":
        try:
            data, filename = read_pdf_for_validation()
            report = validation.validate_pdf(data, trust_store())
        except DomainError as exc:
            flash(exc.message, "error")
            status = exc.status
    return render_template("signing/validate.html", report=report, filename=filename,
                           labels=_LABELS), status


_LABELS = {
    "verdict": validation.VERDICT_LABELS,
    "modification": validation.MODIFICATION_LABELS,
    "coverage": validation.COVERAGE_LABELS,
    "revocation": validation.REVOCATION_LABELS,
    "kind": validation.KIND_LABELS,
}


@bp.route("/profile", methods=["GET", "POST"])
@roles_required(*ANY_ROLE)
def profile():
    """The user's certificate and handwritten-signature image."""
    status = 200
    if request.method == "POST":
        try:
            data, _ = read_upload_bytes("image")
            signing.set_signature_image(session(), blobs(), current_user, data)
            commit()
            flash("Đã lưu hình ảnh chữ ký.", "success")
            return redirect(url_for(".profile"))
        except DomainError as exc:
            session().rollback()
            flash(exc.message, "error")
            status = exc.status
    key = session().scalar(select(SigningKey).where(
        SigningKey.user_id == current_user.id, SigningKey.active))
    has_image = session().scalar(select(SignatureImage.id).where(
        SignatureImage.user_id == current_user.id)) is not None
    return render_template("signing/profile.html", key=key, has_image=has_image,
                           now=clock.now()), status


@bp.get("/profile/signature.png")
@roles_required(*ANY_ROLE)
def signature_image():
    picture = signing.signature_picture(session(), blobs(), current_user)
    return _png_response(appearance.png_bytes(picture))


@bp.route("/seal", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def seal():
    """The organisation's seal image, uploaded by an administrator."""
    status = 200
    if request.method == "POST":
        try:
            data, _ = read_upload_bytes("image")
            diameter = float(request.form.get("diameter_mm") or 0)
            signing.set_org_seal(session(), blobs(), current_user, data, diameter)
            commit()
            flash("Đã lưu hình ảnh con dấu.", "success")
            return redirect(url_for(".seal"))
        except ValueError:
            flash("Đường kính phải là số.", "error")
            status = 400
        except DomainError as exc:
            session().rollback()
            flash(exc.message, "error")
            status = exc.status
    row = session().scalar(select(OrgSeal).where(OrgSeal.org_id == current_user.org_id))
    return render_template("signing/seal.html", seal=row), status


@bp.get("/seal/seal.png")
@roles_required(*ANY_ROLE)
def seal_image():
    row = signing.org_seal(session(), current_user.org_id)
    return _png_response(blobs().get(row.sha256))


def _png_response(data: bytes):
    response = make_response(data)
    response.headers["Content-Type"] = "image/png"
    response.headers["Cache-Control"] = "private, no-cache"
    return response
