"""Pages of chữ ký số: check the signatures of a PDF and read the report in Vietnamese."""
from flask import (
    Blueprint,
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
from docmgr.core.transaction import flash_after_commit, on_refusal, show_again
from docmgr.core.values import parse_float
from docmgr.core.views import ANY_ROLE, roles_required
from docmgr.core.web import blobs, read_upload_bytes, session
from docmgr.signing import appearance, validation
from docmgr.signing import operations as signing
from docmgr.signing.api import read_pdf_for_validation
from docmgr.signing.context import trust_store
from docmgr.signing.models import OrgSeal, SignatureImage, SigningKey

bp = Blueprint("signing", __name__, template_folder="templates", url_prefix="/signatures")


def _validation_page(report=None, filename: str | None = None, status: int = 200):
    return render_template("signing/validate.html", report=report, filename=filename,
                           labels=_LABELS, describe_change=validation.notes.field_change,
                           describe_lock=validation.notes.locked_fields), status


@bp.route("/validate", methods=["GET", "POST"])
@roles_required(*ANY_ROLE)
@on_refusal(show_again(_validation_page))
def validate():
    if request.method == "GET":
        return _validation_page()
    data, filename = read_pdf_for_validation()
    return _validation_page(validation.validate_upload(data, trust_store()), filename)


_LABELS = {
    "verdict": validation.VERDICT_LABELS,
    "modification": validation.MODIFICATION_LABELS,
    "coverage": validation.COVERAGE_LABELS,
    "revocation": validation.REVOCATION_LABELS,
    "kind": validation.KIND_LABELS,
}


def _profile_page(status: int = 200):
    key = session().scalar(select(SigningKey).where(
        SigningKey.user_id == current_user.id, SigningKey.active))
    has_image = session().scalar(select(SignatureImage.id).where(
        SignatureImage.user_id == current_user.id)) is not None
    return render_template("signing/profile.html", key=key, has_image=has_image,
                           now=clock.now()), status


@bp.route("/profile", methods=["GET", "POST"])
@roles_required(*ANY_ROLE)
@on_refusal(show_again(_profile_page))
def profile():
    """The user's certificate and handwritten-signature image."""
    if request.method == "GET":
        return _profile_page()
    data, _ = read_upload_bytes("image")
    signing.set_signature_image(session(), blobs(), current_user, data)
    flash_after_commit("Đã lưu hình ảnh chữ ký.")
    return redirect(url_for(".profile"))


@bp.get("/profile/signature.png")
@roles_required(*ANY_ROLE)
def signature_image():
    picture = signing.signature_picture(session(), blobs(), current_user)
    return _png_response(appearance.png_bytes(picture))


def _seal_page(status: int = 200):
    row = session().scalar(select(OrgSeal).where(OrgSeal.org_id == current_user.org_id))
    return render_template("signing/seal.html", seal=row), status


def _diameter_mm(raw: str | None) -> float:
    # Left empty, it is 0: the operation then says which diameters are allowed.
    return parse_float(raw, "diameter_mm", label="Đường kính con dấu") or 0.0


@bp.route("/seal", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
@on_refusal(show_again(_seal_page))
def seal():
    """The organisation's seal image, uploaded by an administrator."""
    if request.method == "GET":
        return _seal_page()
    data, _ = read_upload_bytes("image")
    diameter = _diameter_mm(request.form.get("diameter_mm"))
    signing.set_org_seal(session(), blobs(), current_user, data, diameter)
    flash_after_commit("Đã lưu hình ảnh con dấu.")
    return redirect(url_for(".seal"))


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
