"""The rules of keys, PINs, signature images and seals. Sessions and plain values in;
``Credential`` objects out, for the engine to sign with."""
import io
from datetime import timedelta

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from PIL import Image, UnidentifiedImageError
from sqlalchemy import and_, select

from docmgr.core import audit, clock
from docmgr.core.auth import Organization, Role, User, require_role
from docmgr.core.errors import Forbidden, NotFound, ValidationFailed
from docmgr.core.storage import BlobStore
from docmgr.signing import appearance, keystore
from docmgr.signing.engine import Credential
from docmgr.signing.models import OrgSeal, SignatureImage, SigningKey
from docmgr.signing.pki import BuiltinCA

MAX_PIN_FAILURES = 5
LOCK_MINUTES = 15
MAX_IMAGE_BYTES = 2 * 1024 * 1024
MAX_IMAGE_PIXELS = 4000 * 4000
SEAL_DIAMETER_MM = (30.0, 50.0)


class PinRefused(Forbidden):
    """Wrong PIN or locked key. The failure count must still be committed."""
    code = "wrong_pin"
    keeps_changes = True


# --- keys and certificates --------------------------------------------------------------

def _check_pin(pin: str) -> None:
    if not pin or len(pin) < keystore.MIN_PIN_LENGTH:
        raise ValidationFailed(f"Mã PIN phải có ít nhất {keystore.MIN_PIN_LENGTH} ký tự.",
                               field="pin")


def _common_name(name: x509.Name) -> str:
    values = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return values[0].value if values else name.rfc4514_string()


def _store_key(session, *, org_id: int, user_id: int | None, certificate: x509.Certificate,
               private_key, chain: list[x509.Certificate], pin: str) -> SigningKey:
    _check_pin(pin)
    sealed = keystore.seal(private_key, pin)
    for previous in session.scalars(select(SigningKey).where(_owner(org_id, user_id))):
        previous.active = False  # a new certificate replaces the old one
    key = SigningKey(
        org_id=org_id, user_id=user_id, subject_cn=_common_name(certificate.subject),
        issuer_cn=_common_name(certificate.issuer), serial=format(certificate.serial_number, "x"),
        not_before=certificate.not_valid_before_utc, not_after=certificate.not_valid_after_utc,
        certificate=certificate.public_bytes(serialization.Encoding.DER),
        chain_pem="".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in chain),
        ciphertext=sealed.ciphertext, salt=sealed.salt, nonce=sealed.nonce, kdf=sealed.kdf)
    session.add(key)
    session.flush()
    return key


def issue_user_certificate(session, ca: BuiltinCA, user: User, pin: str) -> SigningKey:
    """A personal certificate from the built-in test CA (CN = full name)."""
    _check_pin(pin)
    issued = ca.issue(user.full_name, user.org.name)
    key = _store_key(session, org_id=user.org_id, user_id=user.id,
                     certificate=issued.certificate, private_key=issued.private_key,
                     chain=issued.chain, pin=pin)
    audit.record(session, "signing.certificate_issued", org_id=user.org_id, obj=key,
                 holder=user.full_name, serial=key.serial)
    return key


def issue_org_certificate(session, ca: BuiltinCA, org: Organization, pin: str) -> SigningKey:
    """The organisation's digital seal from the built-in test CA (CN = organisation name)."""
    _check_pin(pin)
    issued = ca.issue(org.name, org.name)
    key = _store_key(session, org_id=org.id, user_id=None, certificate=issued.certificate,
                     private_key=issued.private_key, chain=issued.chain, pin=pin)
    audit.record(session, "signing.certificate_issued", org_id=org.id, obj=key,
                 holder=org.name, serial=key.serial)
    return key


def import_pkcs12(session, user: User, data: bytes, password: str, pin: str) -> SigningKey:
    """A real certificate and key from a PKCS#12 file, re-sealed under the user's PIN."""
    _check_pin(pin)
    try:
        private_key, certificate, extra = pkcs12.load_key_and_certificates(
            data, password.encode() if password else None)
    except ValueError:
        raise ValidationFailed("Không mở được tệp PKCS#12: sai mật khẩu hoặc tệp hỏng.",
                               field="p12") from None
    if private_key is None or certificate is None:
        raise ValidationFailed("Tệp PKCS#12 không chứa khóa bí mật và chứng thư.", field="p12")
    key = _store_key(session, org_id=user.org_id, user_id=user.id, certificate=certificate,
                     private_key=private_key, chain=list(extra or []), pin=pin)
    audit.record(session, "signing.certificate_imported", org_id=user.org_id, obj=key,
                 holder=user.full_name, subject=key.subject_cn, serial=key.serial)
    return key


def _owner(org_id: int, user_id: int | None):
    """The active key of a person (user_id) or of the organisation itself (None)."""
    person = SigningKey.user_id.is_(None) if user_id is None else SigningKey.user_id == user_id
    return and_(SigningKey.org_id == org_id, person, SigningKey.active)


def active_key(session, *, org_id: int, user_id: int | None) -> SigningKey:
    key = session.scalar(select(SigningKey).where(_owner(org_id, user_id)))
    if key is None:
        whose = "Cơ quan" if user_id is None else "Người ký"
        raise NotFound(f"{whose} chưa có chứng thư số để ký.", code="no_certificate")
    return key


def unlock(session, key: SigningKey, pin: str, actor: User) -> Credential:
    """Decrypt the key for one signing call. A wrong PIN counts towards a temporary lock;
    the caller commits even when this raises PinRefused, so the count is kept."""
    moment = clock.now()
    if key.locked_until and key.locked_until > moment:
        minutes = max(1, int((key.locked_until - moment).total_seconds() // 60) + 1)
        raise PinRefused(f"Khóa ký đang bị tạm khóa do nhập sai PIN nhiều lần; thử lại sau "
                         f"{minutes} phút.", code="key_locked", field="pin")
    if moment > key.not_after:
        raise Forbidden("Chứng thư số đã hết hạn.", code="certificate_expired")
    try:
        pkcs8 = keystore.unseal(keystore.SealedKey(key.ciphertext, key.salt, key.nonce,
                                                   key.kdf), pin or "")
    except keystore.WrongPin:
        key.failed_pins += 1
        locked = key.failed_pins >= MAX_PIN_FAILURES
        if locked:
            key.locked_until = moment + timedelta(minutes=LOCK_MINUTES)
            key.failed_pins = 0
        audit.record(session, "signing.key_locked" if locked else "signing.wrong_pin",
                     actor=actor, org_id=key.org_id, obj=key)
        raise PinRefused("Mã PIN không đúng." + (
            f" Khóa ký bị tạm khóa {LOCK_MINUTES} phút." if locked else ""),
            field="pin") from None
    key.failed_pins = 0
    chain = [c.public_bytes(serialization.Encoding.DER)
             for c in x509.load_pem_x509_certificates(key.chain_pem.encode())] \
        if key.chain_pem else []
    return Credential.from_der(key.certificate, pkcs8, chain)


# --- signature images and seals ---------------------------------------------------------

def _checked_png(data: bytes, field: str) -> Image.Image:
    if not data:
        raise ValidationFailed("Vui lòng chọn tệp ảnh PNG.", field=field)
    if len(data) > MAX_IMAGE_BYTES:
        raise ValidationFailed("Ảnh quá lớn (tối đa 2 MB).", field=field)
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        raise ValidationFailed("Ảnh phải là tệp PNG.", field=field)
    too_large = ValidationFailed("Ảnh có kích thước quá lớn.", field=field)
    try:
        picture = Image.open(io.BytesIO(data))
        if picture.width * picture.height > MAX_IMAGE_PIXELS:
            raise too_large
        picture.load()
    except Image.DecompressionBombError:  # Pillow refuses the header before we can look
        raise too_large from None
    except (UnidentifiedImageError, OSError, SyntaxError):
        raise ValidationFailed("Tệp PNG bị hỏng.", field=field) from None
    rgba = picture.convert("RGBA")
    alpha = rgba.getchannel("A").getextrema()
    if alpha[0] == 255:
        raise ValidationFailed("Ảnh phải có nền trong suốt (PNG có kênh alpha).", field=field)
    if alpha[1] == 0:
        raise ValidationFailed("Ảnh trong suốt hoàn toàn, không có nét nào.", field=field)
    return rgba


def set_signature_image(session, blobs: BlobStore, user: User, data: bytes) -> SignatureImage:
    _checked_png(data, "image")
    digest = blobs.put(data)
    row = session.scalar(select(SignatureImage).where(SignatureImage.user_id == user.id))
    if row is None:
        row = SignatureImage(user_id=user.id, sha256=digest)
        session.add(row)
    row.sha256, row.uploaded_at = digest, clock.now()
    session.flush()
    audit.record(session, "signing.signature_image_set", actor=user, obj=row, sha256=digest)
    return row


def set_org_seal(session, blobs: BlobStore, actor: User, data: bytes,
                 diameter_mm: float) -> OrgSeal:
    require_role(actor, Role.ADMIN)
    low, high = SEAL_DIAMETER_MM
    if not low <= diameter_mm <= high:
        raise ValidationFailed(f"Đường kính con dấu phải từ {low:g} đến {high:g} mm.",
                               field="diameter_mm")
    _checked_png(data, "image")
    digest = blobs.put(data)
    row = session.scalar(select(OrgSeal).where(OrgSeal.org_id == actor.org_id))
    if row is None:
        row = OrgSeal(org_id=actor.org_id, sha256=digest)
        session.add(row)
    row.sha256, row.diameter_mm, row.uploaded_at = digest, diameter_mm, clock.now()
    session.flush()
    audit.record(session, "signing.seal_set", actor=actor, obj=row, sha256=digest,
                 diameter_mm=diameter_mm)
    return row


def signature_picture(session, blobs: BlobStore, user: User) -> Image.Image:
    """The user's uploaded handwritten signature, or a generated one."""
    row = session.scalar(select(SignatureImage).where(SignatureImage.user_id == user.id))
    if row is None:
        return appearance.generated_signature(user.full_name)
    return appearance.load_png(blobs.get(row.sha256))


def org_seal(session, org_id: int) -> OrgSeal:
    row = session.scalar(select(OrgSeal).where(OrgSeal.org_id == org_id))
    if row is None:
        raise ValidationFailed("Cơ quan chưa có hình ảnh con dấu; quản trị cần tải lên ảnh "
                               "con dấu (PNG nền trong suốt) trước khi phát hành.",
                               code="seal_missing")
    return row


DEFAULT_SEAL_MM = 36.0


def seal_diameter_mm(session, org_id: int) -> float:
    """The seal's real diameter, so its field can be sized before anyone signs."""
    row = session.scalar(select(OrgSeal).where(OrgSeal.org_id == org_id))
    return row.diameter_mm if row else DEFAULT_SEAL_MM


def seal_picture(session, blobs: BlobStore, org_id: int) -> tuple[Image.Image, float]:
    row = org_seal(session, org_id)
    return appearance.load_png(blobs.get(row.sha256)), row.diameter_mm
