"""The signing error boundary (docmgr.signing.errors, engine.py): pyHanko's errors become domain
errors by type, each with a Vietnamese message and a fitting status; the engine lets nothing
else out. Real failures where pyHanko gives them (an encrypted draft, a field that exists
already, a refusing timestamp authority), a stand-in for a fault of our own."""
import logging

import pytest
from pyhanko.pdf_utils.crypt import PdfKeyNotAvailableError
from pyhanko.pdf_utils.misc import (
    FormFillingError,
    PdfReadError,
    PdfStreamError,
    PdfWriteError,
)
from pyhanko.sign.general import SigningError as PyhankoSigningError
from pyhanko.sign.general import UnacceptableSignerError
from pyhanko.sign.timestamps import TimestampRequestError

from docmgr.core.errors import DomainError
from docmgr.signing import appearance, engine, errors, placement
from docmgr.signing.timestamps import timestamper
from tests.signing.faults import encrypted_copy, unreachable_tsa

NAME = "Phạm Minh Quang"


@pytest.mark.parametrize("raised, error, status, code", [
    (PdfKeyNotAvailableError("x"), errors.EncryptedDocument, 422, "document_encrypted"),
    (PdfReadError("x"), errors.UnreadableDocument, 422, "document_unreadable"),
    (PdfStreamError("x"), errors.UnreadableDocument, 422, "document_unreadable"),
    (PdfWriteError("x"), errors.DocumentNotSignable, 422, "document_not_signable"),
    (UnacceptableSignerError("x"), errors.CertificateNotAccepted, 422,
     "certificate_not_accepted"),
    (PyhankoSigningError("x"), errors.DocumentNotSignable, 422, "document_not_signable"),
    (FormFillingError("x"), errors.DocumentNotSignable, 422, "document_not_signable"),
    (TimestampRequestError("x"), errors.TimestampUnavailable, 503, "timestamp_unavailable"),
    (ValueError("x"), errors.SigningError, 500, "signing_failed"),
    (KeyError("/AcroForm"), errors.SigningError, 500, "signing_failed"),
], ids=lambda v: type(v).__name__ if isinstance(v, Exception) else None)
def test_pyhanko_errors_map_by_type(raised, error, status, code):
    translated = errors.from_exception(raised)
    assert type(translated) is error and isinstance(translated, DomainError)
    assert (translated.status, translated.code) == (status, code)
    assert "văn bản chưa được ký" in translated.message
    assert translated.to_dict() == {"code": code, "message": translated.message}


def test_our_own_errors_pass_unchanged():
    refused = errors.DocumentNotSignable("Ô chữ ký X đã được ký.")
    assert errors.from_exception(refused) is refused


# --- the engine as the boundary --------------------------------------------------------------

def prepare(pdf: bytes) -> bytes:
    layout = placement.find_layout(pdf, NAME)
    return engine.prepare(pdf, layout.personal, seal_diameter_pt=36 * appearance.MM,
                          number=layout.number, date=layout.date)


def test_an_encrypted_draft_cannot_be_prepared(draft_pdf):
    with pytest.raises(errors.EncryptedDocument) as refused:
        prepare(encrypted_copy(draft_pdf))
    assert isinstance(refused.value.__cause__, PdfKeyNotAvailableError)
    assert refused.value.status == 422 and "mã hóa" in refused.value.message


def test_a_draft_prepared_twice_is_refused(draft_pdf):
    with pytest.raises(errors.DocumentNotSignable) as refused:
        prepare(prepare(draft_pdf))  # pyHanko: the signature field exists already
    assert isinstance(refused.value.__cause__, PdfWriteError)


def test_an_unreachable_timestamp_authority(draft_pdf, leader_credential):
    with unreachable_tsa() as url, pytest.raises(errors.TimestampUnavailable) as refused:
        engine.sign_personal(prepare(draft_pdf), leader_credential,
                             appearance.generated_signature(NAME), timestamper=timestamper(url))
    assert isinstance(refused.value.__cause__, TimestampRequestError)
    assert refused.value.status == 503 and "dấu thời gian" in refused.value.message


def test_a_fault_of_ours_is_a_500_and_logged(draft_pdf, leader_credential, monkeypatch,
                                            caplog):
    def broken_style(picture):
        raise RuntimeError("appearance bug")
    monkeypatch.setattr(appearance, "image_style", broken_style)
    with caplog.at_level(logging.ERROR, logger=engine.__name__), \
            pytest.raises(errors.SigningError) as failed:
        engine.sign_personal(prepare(draft_pdf), leader_credential,
                             appearance.generated_signature(NAME))
    assert type(failed.value) is errors.SigningError and failed.value.status == 500
    assert "Lỗi khi tạo chữ ký số" in failed.value.message
    assert "appearance bug" in caplog.text  # the traceback is in the log, not in the answer
    assert "appearance bug" not in failed.value.message
