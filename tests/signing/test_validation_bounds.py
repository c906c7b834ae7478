"""Checking signatures costs bounded work (issue 11): a 3 MB /ByteRange array took 13 s of
CPU in the web process; now absurd signature dictionaries are refused at once, and whatever
else a file makes pyHanko do happens in a sandbox worker within its limits."""
import dataclasses
import logging

import pytest
from sqlalchemy import func, select

from docmgr.core.errors import ValidationFailed
from docmgr.demo import pdf_from_objects
from docmgr.inbound.models import IncomingDocument
from docmgr.signing.validation import run, scanner, validate_pdf, validate_upload
from tests import corpus
from tests.conftest import registration_form, upload

URL = "/api/v1/signatures/validate"
MALFORMED = ("Tệp PDF có chữ ký với phạm vi ký (/ByteRange) không hợp lệ: phải gồm đúng 4 số "
             "nguyên không âm. Tệp không được kiểm tra tiếp.")


def signed_shape(byte_range: bytes = b"0 10 20 30", fields: bytes = b"",
                 signatures: int = 1) -> bytes:
    """A file shaped like a signed one: ``signatures`` filled signature fields whose /V
    has ``byte_range``; ``fields`` adds entries to the form's /Fields array."""
    widgets = [b"<< /FT /Sig /T (Sig%d) /Type /Annot /Subtype /Widget /Rect [0 0 0 0] /P 3 0 R"
               b" /V %d 0 R >>" % (n, 4 + signatures + n) for n in range(signatures)]
    values = [b"<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /adbe.pkcs7.detached "
              b"/ByteRange [" + byte_range + b"] /Contents <30820000" + b"00" * 64 + b"> >>"
              for _ in range(signatures)]
    refs = b" ".join(b"%d 0 R" % (4 + n) for n in range(signatures))
    return pdf_from_objects(
        b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [" + refs + b" " + fields
        + b"] /SigFlags 3 >> >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Annots [" + refs + b"] >>",
        *widgets, *values)


def huge_byte_range(megabytes: float = 3) -> bytes:
    numbers = b" ".join(b"%d" % (n % 1000) for n in range(int(megabytes * 1024 * 1024 / 4)))
    return numbers[:numbers.rfind(b" ")]


def refusal(data: bytes) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as caught:
        validate_pdf(data)
    return caught.value


def test_a_huge_byte_range_is_refused_before_pyhanko_reads_it():
    error = refusal(signed_shape(huge_byte_range(3)))
    assert (error.status, error.message, error.field) == (400, MALFORMED, "file")
    assert error.extra == {"reason": "malformed_signature"}


def test_byte_ranges_of_the_wrong_shape_are_reported_invalid():
    """Short arrays of the wrong length, negative or beyond the file cost nothing to read:
    the signature is reported, invalid, rather than the file refused."""
    for byte_range in (b"0 10", b"0 10 20 30 40 50", b"-5 10 20 30", b"0 10 20 99999999"):
        report = validate_pdf(signed_shape(byte_range))
        assert report.verdict == "invalid", byte_range
        assert [s.verdict for s in report.signatures] == ["invalid"]


def test_too_many_signatures_are_refused():
    error = refusal(signed_shape(signatures=scanner.MAX_SIGNATURES + 1))
    assert error.extra == {"reason": "too_many_signatures"}
    assert error.message == ("Tệp PDF có hơn 50 chữ ký hoặc trường chữ ký, vượt quá giới hạn "
                             "kiểm tra, nên không kiểm tra được.")
    assert validate_pdf(signed_shape(signatures=3)).verdict == "invalid"  # checked, not refused


@pytest.mark.parametrize("path", corpus.files("signed"))
def test_the_bounds_refuse_no_signed_file(path):
    scanner.check_bounds(path.read_bytes())


def test_whatever_else_costs_too_much_ends_at_the_sandbox_limit(monkeypatch, caplog):
    # pyHanko reads every entry of the form's /Fields: 100 000 of them cost seconds.
    monkeypatch.setattr(run, "UPLOAD_LIMITS", dataclasses.replace(run.UPLOAD_LIMITS, cpu=1))
    slow = signed_shape(fields=b" ".join(b"%d 0 R" % (900 + n % 50) for n in range(300_000)))
    with caplog.at_level(logging.ERROR), pytest.raises(ValidationFailed) as caught:
        validate_upload(slow)
    assert caught.value.extra == {"reason": "processing_limit"}
    assert caught.value.message == ("Tệp PDF cần quá nhiều bộ nhớ hoặc thời gian để kiểm tra "
                                    "chữ ký, vượt quá giới hạn xử lý, nên không kiểm tra được.")


def test_an_upload_is_checked_in_the_sandbox_with_the_same_answer():
    signed = corpus.data("signed/vn-congbao/valid/thong-tu-02-2026-TT-BTC.pdf").read_bytes()
    assert validate_upload(signed).to_dict() == validate_pdf(signed).to_dict()


# --- through the API -------------------------------------------------------------------------

def test_the_api_answers_a_huge_byte_range_with_a_clear_400(api):
    r = api("clerk").post(URL, data={"file": upload(signed_shape(huge_byte_range(3)))},
                          content_type="multipart/form-data")
    assert r.status_code == 400
    assert r.json["error"] == {"code": "validation_failed", "field": "file",
                               "message": MALFORMED, "reason": "malformed_signature"}


@pytest.mark.parametrize("app_config", [{"VALIDATE_MAX_MB": 1}])
def test_the_api_takes_files_up_to_its_own_limit(api):
    r = api("clerk").post(URL, data={"file": upload(signed_shape(huge_byte_range(1.2)))},
                          content_type="multipart/form-data")
    assert r.status_code == 413
    assert r.json["error"]["message"] == "Tệp vượt quá giới hạn 1 MB."
    small = corpus.data("signed/vn-congbao/valid/thong-tu-02-2026-TT-BTC.pdf").read_bytes()
    r = api("clerk").post(URL, data={"file": upload(small)}, content_type="multipart/form-data")
    assert r.status_code == 200 and r.json["verdict"] == "untrusted"


def test_a_registered_document_with_a_huge_byte_range_is_kept_with_an_invalid_check(api, db):
    """Registration does not fail on it: the clerk gets the document, its check says why."""
    r = api("clerk").post("/api/v1/incoming", data={
        **registration_form(), "file": upload(signed_shape(huge_byte_range(3)))})
    assert r.status_code == 201, r.json
    assert r.json["signature_check"] == {"signatures": [], "verdict": "invalid",
                                         "summary": MALFORMED}
    with db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(IncomingDocument)) == 1
