"""Keys sealed under a PIN, the lock after repeated wrong PINs, images and seals, CLI."""
import io
import zlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from PIL import Image
from sqlalchemy import select

from docmgr.core import audit
from docmgr.core.auth import Organization, User
from docmgr.core.errors import ValidationFailed
from docmgr.signing import operations as signing
from docmgr.signing.models import SigningKey
from docmgr.signing.pki import BuiltinCA

PIN = "246810"


@pytest.fixture
def ca(app):
    return BuiltinCA(app.config["DATA_DIR"])


def _issue(db, ca, username="leader"):
    with db.transaction() as s:
        user = s.scalar(select(User).where(User.username == username))
        return signing.issue_user_certificate(s, ca, user, PIN).id


def test_key_is_stored_only_encrypted(db, ca, world):
    key_id = _issue(db, ca)
    with db.transaction() as s:
        key = s.get(SigningKey, key_id)
        cert = x509.load_der_x509_certificate(key.certificate)
        assert key.subject_cn == "Phạm Minh Quang" and key.issuer_cn == "docmgr Test Issuing CA"
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
        assert usage.digital_signature and usage.content_commitment
        assert PIN.encode() not in key.ciphertext + key.salt + key.nonce
        assert b"PRIVATE KEY" not in key.ciphertext and key.kdf.startswith("scrypt:")
        credential = signing.unlock(s, key, PIN, s.get(User, world.users["leader"].id))
        assert credential.certificate.subject.native["common_name"] == "Phạm Minh Quang"
        assert len(credential.chain) == 2


def test_wrong_pins_lock_the_key_and_are_audited(db, ca, world):
    key_id = _issue(db, ca)
    for _ in range(signing.MAX_PIN_FAILURES):
        with db.transaction() as s:
            key = s.get(SigningKey, key_id)
            with pytest.raises(signing.PinRefused) as refused:
                signing.unlock(s, key, "000000", s.get(User, world.users["leader"].id))
            assert refused.value.status == 403
    with db.transaction() as s:
        key = s.get(SigningKey, key_id)
        assert key.locked_until is not None
        with pytest.raises(signing.PinRefused) as locked:
            signing.unlock(s, key, PIN, s.get(User, world.users["leader"].id))
        assert locked.value.code == "key_locked"
        actions = s.scalars(select(audit.AuditEvent.action)).all()
    assert actions.count("signing.wrong_pin") == signing.MAX_PIN_FAILURES - 1
    assert actions.count("signing.key_locked") == 1


def test_short_pin_is_refused(db, ca, world):
    with pytest.raises(ValidationFailed):
        with db.transaction() as s:
            signing.issue_user_certificate(s, ca, s.get(User, world.users["leader"].id), "12")


def test_new_certificate_replaces_the_old_one(db, ca, world):
    first, second = _issue(db, ca), _issue(db, ca)
    with db.transaction() as s:
        assert not s.get(SigningKey, first).active and s.get(SigningKey, second).active
        assert signing.active_key(s, org_id=world.org.id,
                                  user_id=world.users["leader"].id).id == second


def test_organisation_key(db, ca, world):
    with db.transaction() as s:
        key = signing.issue_org_certificate(s, ca, s.get(Organization, world.org.id), PIN)
        assert key.user_id is None and key.subject_cn == "Văn phòng UBND tỉnh Quảng Ngãi"
        assert signing.active_key(s, org_id=world.org.id, user_id=None).id == key.id
    with db.transaction() as s, pytest.raises(signing.NotFound):
        signing.active_key(s, org_id=world.other_org.id, user_id=None)


def _png(mode="RGBA", colour=(20, 40, 160, 255), size=(60, 30)) -> bytes:
    picture = Image.new(mode, size, (0, 0, 0, 0) if mode == "RGBA" else (255, 255, 255))
    for x in range(10, 50):
        picture.putpixel((x, 15), colour if mode == "RGBA" else (0, 0, 0))
    out = io.BytesIO()
    picture.save(out, format="PNG")
    return out.getvalue()


def _png_header(width: int, height: int) -> bytes:
    """A PNG that declares ``width`` × ``height`` pixels (RGBA) and holds almost nothing:
    what a hostile upload looks like to a reader that trusts the header."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (len(body).to_bytes(4, "big") + kind + body
                + zlib.crc32(kind + body).to_bytes(4, "big"))
    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 6, 0, 0, 0])
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b""))


@pytest.mark.parametrize("data,message", [
    (b"", "chọn tệp"), (b"GIF89a....", "PNG"), (_png(mode="RGB"), "nền trong suốt"),
    (b"\x89PNG\r\n\x1a\n" + b"0" * 50, "hỏng"),
    (_png_header(5000, 5000), "kích thước quá lớn"),  # above our cap, below Pillow's
    (_png_header(20000, 20000), "kích thước quá lớn"),  # Pillow refuses it as a bomb
])
def test_bad_signature_images_are_refused(db, blobs, world, data, message):
    with db.transaction() as s, pytest.raises(ValidationFailed) as refused:
        signing.set_signature_image(s, blobs, s.get(User, world.users["leader"].id), data)
    assert message in refused.value.message


def test_signature_image_and_seal(db, blobs, world):
    with db.transaction() as s:
        leader = s.get(User, world.users["leader"].id)
        assert signing.signature_picture(s, blobs, leader).mode == "RGBA"  # generated
        signing.set_signature_image(s, blobs, leader, _png())
        assert signing.signature_picture(s, blobs, leader).size == (60, 30)
        with pytest.raises(ValidationFailed) as missing:
            signing.seal_picture(s, blobs, world.org.id)
        assert missing.value.code == "seal_missing"
        admin = s.get(User, world.users["admin"].id)
        with pytest.raises(ValidationFailed):
            signing.set_org_seal(s, blobs, admin, _png(colour=(200, 0, 0, 255)), 80)
        with pytest.raises(signing.Forbidden):
            signing.set_org_seal(s, blobs, leader, _png(colour=(200, 0, 0, 255)), 36)
        signing.set_org_seal(s, blobs, admin, _png(colour=(200, 0, 0, 255)), 36)
        picture, diameter = signing.seal_picture(s, blobs, world.org.id)
        assert diameter == 36 and picture.mode == "RGBA"


def test_cli_issue_and_import(app, db, world, tmp_path):
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["docmgr", "issue-cert", "--username", "leader", "--pin", PIN])
    assert ok.exit_code == 0, ok.output
    org = runner.invoke(args=["docmgr", "issue-cert", "--org", world.org.code, "--pin", PIN])
    assert org.exit_code == 0, org.output
    both = runner.invoke(args=["docmgr", "issue-cert", "--pin", PIN])
    assert both.exit_code != 0
    # A PKCS#12 from elsewhere (here: from the test CA, exported with a password).
    issued = BuiltinCA(tmp_path / "elsewhere").issue("Trần Văn Bình")
    p12 = pkcs12.serialize_key_and_certificates(
        b"binh", issued.private_key, issued.certificate, issued.chain,
        serialization.BestAvailableEncryption(b"p12-secret"))
    path = tmp_path / "binh.p12"
    path.write_bytes(p12)
    wrong = runner.invoke(args=["docmgr", "import-cert", "--username", "specialist", "--p12",
                                str(path), "--p12-password", "sai", "--pin", PIN])
    assert wrong.exit_code == 1 and "PKCS#12" in wrong.output
    good = runner.invoke(args=["docmgr", "import-cert", "--username", "specialist", "--p12",
                               str(path), "--p12-password", "p12-secret", "--pin", PIN])
    assert good.exit_code == 0, good.output
    with db.transaction() as s:
        key = signing.active_key(s, org_id=world.org.id, user_id=world.users["specialist"].id)
        assert key.subject_cn == "Trần Văn Bình"
        signing.unlock(s, key, PIN, s.get(User, world.users["specialist"].id))
