"""The engine's signatures, checked by pyHanko (strict difference analysis) and pdfsig."""
import pytest
from pyhanko.sign.diff_analysis import ModificationLevel

from docmgr.signing import appearance, engine, placement
from docmgr.signing.timestamps import timestamper
from tests.signing.checks import (
    assert_both_validators_accept,
    extracted_text,
    pyhanko_statuses,
    words_with_boxes,
)

NAME = "Phạm Minh Quang"
ISSUED_VALUES = {engine.FIELD_NUMBER: "12/QĐ-UBND",
                 engine.FIELD_DATE: "Quảng Ngãi, ngày 05 tháng 01 năm 2027"}


@pytest.fixture(scope="module")
def prepared(draft_pdf):
    layout = placement.find_layout(draft_pdf, NAME)
    return engine.prepare(draft_pdf, layout.personal, seal_diameter_pt=36 * appearance.MM,
                          number=layout.number, date=layout.date)


@pytest.fixture(scope="module")
def pictures():
    return (appearance.generated_signature(NAME),
            appearance.generated_seal("Văn phòng UBND tỉnh Quảng Ngãi"))


def test_layout_is_found_from_the_text(draft_pdf):
    layout = placement.find_layout(draft_pdf, NAME)
    assert layout.found and layout.personal.page == 1  # the last page carries the block
    # Above the printed name (y=330) and below the title (y=420), centred on the name.
    assert 330 < layout.personal.y0 < layout.personal.y1 < 420
    assert layout.number.page == 0 and layout.number.x0 > 60
    assert layout.date.page == 0 and 320 < layout.date.x0 < 335


def test_unknown_signer_gets_a_default_place(draft_pdf):
    layout = placement.find_layout(draft_pdf, "Người Không Có Tên")
    assert not layout.found and layout.personal.page == 1


def test_personal_then_fill_and_seal_keeps_the_first_signature_valid(
        prepared, pictures, leader_credential, org_credential, trust_roots, tmp_path):
    signed = engine.sign_personal(prepared, leader_credential, pictures[0])
    assert signed.startswith(prepared)  # an incremental update: earlier bytes untouched
    issued = engine.fill_and_seal(signed, org_credential, pictures[1], ISSUED_VALUES)
    assert issued.startswith(signed)
    personal, organisation = assert_both_validators_accept(issued, trust_roots, tmp_path, 2)
    assert personal.modification_level == ModificationLevel.FORM_FILLING
    assert personal.docmdp_ok
    assert organisation.modification_level == ModificationLevel.NONE
    assert personal.signing_cert.subject.native["common_name"] == NAME
    text = extracted_text(issued, tmp_path)
    assert "12/QĐ-UBND" in text and "ngày 05 tháng 01 năm 2027" in text


def test_a_page_added_after_signing_is_not_permitted(prepared, pictures, leader_credential,
                                                     trust_roots):
    from io import BytesIO

    from pyhanko.pdf_utils.generic import StreamObject
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.writer import PageObject
    signed = engine.sign_personal(prepared, leader_credential, pictures[0])
    writer = IncrementalPdfFileWriter(BytesIO(signed), strict=False)
    writer.insert_page(PageObject(contents=writer.add_object(StreamObject(stream_data=b"")),
                                  media_box=[0, 0, 595, 842]))
    out = BytesIO()
    writer.write(out)
    (status,) = pyhanko_statuses(out.getvalue(), trust_roots)
    assert status.intact and status.modification_level == ModificationLevel.OTHER
    assert not status.docmdp_ok


def test_signing_twice_in_the_same_field_is_refused(prepared, pictures, leader_credential):
    signed = engine.sign_personal(prepared, leader_credential, pictures[0])
    with pytest.raises(engine.SigningError):
        engine.sign_personal(signed, leader_credential, pictures[0])


def test_unprepared_document_cannot_be_signed(draft_pdf, pictures, leader_credential):
    with pytest.raises(engine.SigningError):
        engine.sign_personal(draft_pdf, leader_credential, pictures[0])


def test_text_stamp_has_every_vietnamese_glyph(draft_pdf, org_credential, trust_roots,
                                               tmp_path):
    lines = ["SAO Y", "Văn phòng Ủy ban nhân dân tỉnh Quảng Ngãi",
             "2026-11-29T14:05:09+07:00"]
    signed = engine.sign_text(draft_pdf, org_credential, lines)
    assert_both_validators_accept(signed, trust_roots, tmp_path, 1)
    text = extracted_text(signed, tmp_path)
    for line in lines:
        assert line in text
    x, y = next((x, y) for word, x, y in words_with_boxes(signed, tmp_path)
                if word.startswith("SAO"))
    assert x > 595 / 2 and y < 60  # top right of page 1 (y from the top)


def test_every_vietnamese_letter_survives_the_text_stamp(draft_pdf, org_credential, tmp_path):
    letters = ("aàáảãạăằắẳẵặâầấẩẫậeèéẻẽẹêềếểễệiìíỉĩịoòóỏõọôồốổỗộơờớởỡợ"
               "uùúủũụưừứửữựyỳýỷỹỵđ")
    halves = [letters[:34], letters[34:], letters[:34].upper(), letters[34:].upper()]
    signed = engine.sign_text(draft_pdf, org_credential, halves)
    text = extracted_text(signed, tmp_path)
    for half in halves:
        assert half in text


def test_timestamped_signature_is_pades_b_t(prepared, pictures, leader_credential,
                                            trust_roots, tsa_url, tmp_path):
    signed = engine.sign_personal(prepared, leader_credential, pictures[0],
                                  timestamper=timestamper(tsa_url))
    (status,) = assert_both_validators_accept(signed, trust_roots, tmp_path, 1)
    assert status.timestamp_validity is not None
    assert status.timestamp_validity.intact and status.timestamp_validity.valid
