"""Issue 12: the number and date of an issued document cannot be changed afterwards unnoticed,
and later signatures (an electronic copy, a countersignature) keep both signatures valid.

Every file is judged three ways: our validator, pyHanko's strict validation (its difference
analysis is what judges later revisions) and poppler's ``pdfsig`` (cryptographic integrity
only: it says "valid" for a signature whose bytes are intact, whatever was appended)."""
import io

import pytest
from asn1crypto import keys as asn1_keys
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name, pdf_string
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.timestamps import DummyTimeStamper

from docmgr.signing import appearance, engine, placement
from docmgr.signing.trust import TrustStore
from docmgr.signing.validation import validate_pdf
from tests import corpus
from tests.conftest import csrf_from, upload
from tests.signing.checks import assert_both_validators_accept, pdfsig_report, pyhanko_statuses
from tests.signing.conftest import asn1_cert, credential
from tests.signing.tamper import (
    countersigned,
    new_page_content,
    refill,
    timestamped,
    with_annotation,
    with_dss_and_timestamp,
)

NAME = "Phạm Minh Quang"
NUMBER, DATE = "02/TB-VP", "Quảng Ngãi, ngày 05 tháng 01 năm 2027"
LEGACY = "signed/docmgr/issued-certified-p2.pdf"
LEGACY_ROOT = "signed/docmgr/test-root-ca.pem"


@pytest.fixture(scope="module")
def trust(test_ca) -> TrustStore:
    return TrustStore.from_files([test_ca.root_path])


@pytest.fixture(scope="module")
def issued(draft_pdf, leader_credential, org_credential) -> bytes:
    layout_ = placement.find_layout(draft_pdf, NAME)
    prepared = engine.prepare(draft_pdf, layout_.personal, seal_diameter_pt=36 * appearance.MM,
                              number=layout_.number, date=layout_.date)
    signed = engine.sign_personal(prepared, leader_credential,
                                  appearance.generated_signature(NAME),
                                  purpose=engine.Purpose("Người có thẩm quyền ký văn bản",
                                                         "Quảng Ngãi"))
    return engine.fill_and_seal(signed, org_credential,
                                appearance.generated_seal("Văn phòng UBND tỉnh Quảng Ngãi"),
                                {engine.FIELD_NUMBER: NUMBER, engine.FIELD_DATE: DATE},
                                purpose=engine.Purpose(f"Cơ quan ký số phát hành văn bản {NUMBER}",
                                                       "Quảng Ngãi"))


@pytest.fixture(scope="module")
def tsa(test_ca) -> DummyTimeStamper:
    issued_ = test_ca.issue("docmgr Test TSA", "docmgr",
                            extended_key_usage=[ExtendedKeyUsageOID.TIME_STAMPING])
    return DummyTimeStamper(
        tsa_cert=asn1_cert(issued_.certificate),
        tsa_key=asn1_keys.PrivateKeyInfo.load(issued_.private_key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption())),
        certs_to_embed=[asn1_cert(c) for c in issued_.chain])


@pytest.fixture(scope="module")
def legacy() -> tuple[bytes, TrustStore]:
    """A document issued by the old scheme: the leader certified with DocMDP "fill forms"."""
    return (corpus.data(LEGACY).read_bytes(),
            TrustStore.from_files([corpus.data(LEGACY_ROOT)]))


def verdicts(report) -> list[str]:
    return [s.verdict for s in report.signatures]


def strict_levels(pdf: bytes, roots) -> list:
    return [s.modification_level for s in pyhanko_statuses(pdf, roots)]


# --- the issued document -----------------------------------------------------------------------

def test_issued_document_carries_field_locks_not_a_certification(issued, trust, trust_roots,
                                                                   tmp_path):
    personal, organisation = assert_both_validators_accept(issued, trust_roots, tmp_path, 2)
    reader = PdfFileReader(io.BytesIO(issued), strict=False)
    assert "/Perms" not in reader.root  # no DocMDP certification any more
    leader_sig, org_sig = reader.embedded_signatures
    assert leader_sig.docmdp_level is None and org_sig.docmdp_level is None
    assert leader_sig.fieldmdp.action == fields.FieldMDPAction.INCLUDE
    assert engine.FIELD_NUMBER not in leader_sig.fieldmdp.fields
    assert engine.FIELD_DATE not in leader_sig.fieldmdp.fields
    assert engine.FIELD_ORG not in leader_sig.fieldmdp.fields
    assert {engine.FIELD_NUMBER, engine.FIELD_DATE} <= set(org_sig.fieldmdp.fields)
    assert personal.modification_level == ModificationLevel.FORM_FILLING
    assert organisation.modification_level == ModificationLevel.NONE
    report = validate_pdf(issued, trust)
    assert report.verdict == "valid" and verdicts(report) == ["valid", "valid"]
    assert report.signatures[0].field_lock == {"action": "include",
                                               "fields": [engine.FIELD_PERSONAL]}
    assert report.signatures[1].field_lock == {"action": "include", "fields": [
        engine.FIELD_PERSONAL, engine.FIELD_NUMBER, engine.FIELD_DATE, engine.FIELD_ORG]}
    filled = {c.field: (c.old, c.new) for c in report.signatures[0].changed_fields}
    assert filled == {engine.FIELD_NUMBER: (None, NUMBER), engine.FIELD_DATE: (None, DATE)}


def with_form(pdf: bytes) -> bytes:
    """The draft as a template might come: a text field and an empty signature field for a
    co-signer, both on page 1."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    fields.append_signature_field(writer, fields.SigFieldSpec(
        "ChuKyPhoiHop", on_page=0, box=(360, 40, 560, 80)))
    page_ref, _ = writer.find_page_for_modification(0)
    note = writer.add_object(generic.DictionaryObject({
        pdf_name("/Type"): pdf_name("/Annot"), pdf_name("/Subtype"): pdf_name("/Widget"),
        pdf_name("/FT"): pdf_name("/Tx"), pdf_name("/T"): pdf_string("GhiChu"),
        pdf_name("/V"): pdf_string("Bản gốc"), pdf_name("/F"): generic.NumberObject(4),
        pdf_name("/Rect"): generic.ArrayObject(
            generic.FloatObject(v) for v in (60, 40, 300, 60)),
        pdf_name("/P"): page_ref, pdf_name("/DA"): pdf_string("/Helv 0 Tf 0 g")}))
    writer.register_annotation(page_ref, note)
    writer.root["/AcroForm"]["/Fields"].append(note)
    writer.update_container(writer.root["/AcroForm"]["/Fields"])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def issue(pdf: bytes, leader, org) -> bytes:
    layout_ = placement.find_layout(pdf, NAME)
    prepared = engine.prepare(pdf, layout_.personal, seal_diameter_pt=36 * appearance.MM,
                              number=layout_.number, date=layout_.date)
    signed = engine.sign_personal(prepared, leader, appearance.generated_signature(NAME))
    return engine.fill_and_seal(signed, org, appearance.generated_seal("Văn phòng"),
                                {engine.FIELD_NUMBER: NUMBER, engine.FIELD_DATE: DATE})


def test_the_drafts_own_fields_are_locked_and_its_signature_slot_stays_open(
        draft_pdf, leader_credential, org_credential, test_ca, trust, trust_roots, tmp_path):
    issued_form = issue(with_form(draft_pdf), leader_credential, org_credential)
    reader = PdfFileReader(io.BytesIO(issued_form), strict=False)
    leader_lock = reader.embedded_signatures[0].fieldmdp
    assert "GhiChu" in leader_lock.fields and "ChuKyPhoiHop" not in leader_lock.fields
    # the co-signer signs the slot the template had: every signature stays valid
    co_signer = credential(test_ca, "Trần Văn Phối Hợp")
    cosigned = countersigned(issued_form, co_signer, field="ChuKyPhoiHop")
    assert_both_validators_accept(cosigned, trust_roots, tmp_path, 3)
    assert validate_pdf(cosigned, trust).verdict == "valid"
    # the draft's own field is locked by both signatures
    changed = refill(issued_form, {"GhiChu": "Đã sửa"})
    assert strict_levels(changed, trust_roots) == [ModificationLevel.OTHER] * 2
    report = validate_pdf(changed, trust)
    assert report.verdict == "altered" and "'Bản gốc' → 'Đã sửa'" in report.summary


def test_a_document_certified_before_the_upgrade_is_issued_as_before(
        draft_pdf, leader_credential, org_credential, trust, trust_roots, tmp_path):
    """Signed by the old scheme (certification, no locks), issued by the new code."""
    layout_ = placement.find_layout(draft_pdf, NAME)
    personal, seal = engine.place_block(layout_.personal, 36 * appearance.MM)
    writer = IncrementalPdfFileWriter(io.BytesIO(draft_pdf), strict=False)
    for name, box in ((engine.FIELD_PERSONAL, personal), (engine.FIELD_ORG, seal)):
        fields.append_signature_field(writer, fields.SigFieldSpec(
            name, on_page=box.page, box=(box.x0, box.y0, box.x1, box.y1)))
    out = io.BytesIO()
    writer.write(out)
    certified = signers.PdfSigner(signers.PdfSignatureMetadata(
        field_name=engine.FIELD_PERSONAL, certify=True,
        docmdp_permissions=fields.MDPPerm.FILL_FORMS), leader_credential.signer()).sign_pdf(
        IncrementalPdfFileWriter(io.BytesIO(out.getvalue()), strict=False)).getvalue()
    issued_old = engine.fill_and_seal(certified, org_credential,
                                      appearance.generated_seal("Văn phòng"), {})
    assert_both_validators_accept(issued_old, trust_roots, tmp_path, 2)
    assert validate_pdf(issued_old, trust).verdict == "valid"


def test_a_draft_field_is_locked_by_both_signatures():
    locks = engine.field_locks({"GhiChu", engine.FIELD_NUMBER}, [engine.FIELD_NUMBER])
    personal, organisation = (set(lock.fields) for lock in locks)
    assert personal == {"GhiChu", engine.FIELD_PERSONAL}
    assert organisation == {"GhiChu", engine.FIELD_PERSONAL, engine.FIELD_NUMBER,
                            engine.FIELD_ORG}


# --- changes after issue: altered for us and for pyHanko ----------------------------------------

def test_changed_number_and_date_are_altered_and_named(issued, trust, trust_roots, tmp_path):
    tampered = refill(issued, {engine.FIELD_NUMBER: "99/TB-VP",
                               engine.FIELD_DATE: "Quảng Ngãi, ngày 06 tháng 01 năm 2027"})
    report = validate_pdf(tampered, trust)
    assert report.verdict == "altered"
    assert verdicts(report) == ["altered", "altered"]
    said = "Trường SoKyHieu: '02/TB-VP' → '99/TB-VP'"
    assert said.lower() in report.summary.lower()
    organisation = report.signatures[1]
    assert organisation.modification_level == "other"
    assert organisation.unsigned_changes and said.lower() in organisation.notes[0].lower()
    changes = {c.field: (c.old, c.new) for c in organisation.changed_fields}
    assert changes[engine.FIELD_NUMBER] == (NUMBER, "99/TB-VP")
    assert changes[engine.FIELD_DATE] == (DATE, "Quảng Ngãi, ngày 06 tháng 01 năm 2027")
    # pyHanko: the organisation's lock covers the number, so the change is not permitted
    statuses = pyhanko_statuses(tampered, trust_roots)
    assert statuses[1].intact and statuses[1].modification_level == ModificationLevel.OTHER
    assert not statuses[1].bottom_line
    # pdfsig checks bytes only: both signatures are still cryptographically intact
    assert [s["Signature Validation"] for s in pdfsig_report(tampered, tmp_path)] == \
        ["Signature is Valid."] * 2


def test_a_new_appearance_over_the_same_number_is_altered(issued, trust, trust_roots):
    tampered = refill(issued, {engine.FIELD_NUMBER: NUMBER})  # same value, new picture
    report = validate_pdf(tampered, trust)
    assert report.verdict == "altered"
    (change,) = report.signatures[1].changed_fields
    assert (change.field, change.what) == (engine.FIELD_NUMBER, "appearance")
    assert strict_levels(tampered, trust_roots)[1] == ModificationLevel.OTHER


def test_page_content_changed_after_issue_is_altered(issued, trust, trust_roots):
    tampered = new_page_content(issued)
    report = validate_pdf(tampered, trust)
    assert report.verdict == "altered" and verdicts(report) == ["altered", "altered"]
    assert strict_levels(tampered, trust_roots) == [ModificationLevel.OTHER] * 2


def test_annotation_added_after_issue_is_altered(issued, trust, trust_roots):
    tampered = with_annotation(issued)
    report = validate_pdf(tampered, trust)
    assert report.verdict == "altered" and verdicts(report) == ["altered", "altered"]
    assert strict_levels(tampered, trust_roots) == [ModificationLevel.OTHER] * 2


def test_a_field_filled_after_the_leader_alone_signed_is_altered(draft_pdf, leader_credential,
                                                                  trust):
    layout_ = placement.find_layout(draft_pdf, NAME)
    prepared = engine.prepare(draft_pdf, layout_.personal, seal_diameter_pt=36 * appearance.MM,
                              number=layout_.number, date=layout_.date)
    signed = engine.sign_personal(prepared, leader_credential,
                                  appearance.generated_signature(NAME))
    report = validate_pdf(refill(signed, {engine.FIELD_NUMBER: "99/TB-VP"}), trust)
    (leader,) = report.signatures
    assert leader.modification_level == "form_filling"  # the lock leaves it open for issuing
    assert leader.verdict == "altered"  # but nobody signed the value
    assert any("trường SoKyHieu: (trống) → '99/TB-VP'" in note for note in leader.notes)


# --- later signatures and validation data keep everything valid ----------------------------------

def test_recipient_countersignature_keeps_both_signatures_valid(issued, test_ca, trust,
                                                              trust_roots, tmp_path):
    recipient = credential(test_ca, "Nguyễn Văn Nhận", "Sở Tài chính tỉnh Quảng Ngãi")
    result = countersigned(issued, recipient)
    assert_both_validators_accept(result, trust_roots, tmp_path, 3)
    report = validate_pdf(result, trust)
    assert report.verdict == "valid" and verdicts(report) == ["valid"] * 3


def test_electronic_copy_signed_by_the_org_keeps_both_signatures_valid(
        issued, org_credential, trust, trust_roots, tmp_path):
    copy = engine.sign_text(issued, org_credential,
                            ["SAO Y", "Văn phòng UBND tỉnh Quảng Ngãi",
                             "2027-01-06T09:15:00+07:00"],
                            purpose=engine.Purpose("Sao y bản chính", "Quảng Ngãi"))
    assert_both_validators_accept(copy, trust_roots, tmp_path, 3)
    report = validate_pdf(copy, trust)
    assert report.verdict == "valid" and verdicts(report) == ["valid"] * 3
    assert report.signatures[2].field == f"{engine.FIELD_TEXT_PREFIX}1"


def test_dss_and_document_timestamp_keep_the_document_valid(issued, tsa, trust, trust_roots,
                                                            tmp_path):
    kept = with_dss_and_timestamp(issued, tsa, trust_roots)
    *signatures, stamp = pyhanko_statuses(kept, trust_roots)
    assert len(signatures) == 2 and all(s.bottom_line for s in signatures)
    assert [s.modification_level for s in signatures] == [ModificationLevel.FORM_FILLING,
                                                          ModificationLevel.LTA_UPDATES]
    assert stamp.intact and stamp.valid and stamp.trusted
    report = validate_pdf(kept, trust)
    assert [s.kind for s in report.signatures] == ["signature", "signature", "timestamp"]
    assert report.verdict == "valid" and verdicts(report) == ["valid"] * 3


def test_a_change_before_a_document_timestamp_is_still_altered(issued, tsa, trust):
    stamped = timestamped(refill(issued, {engine.FIELD_NUMBER: "99/TB-VP"}), tsa)
    report = validate_pdf(stamped, trust)
    assert report.verdict == "altered"
    assert verdicts(report)[:2] == ["altered", "altered"]


# --- documents issued by the old scheme --------------------------------------------------------

def test_old_scheme_document_keeps_its_verdict(legacy):
    data, trust = legacy
    report = validate_pdf(data, trust)
    assert report.verdict == "valid" and verdicts(report) == ["valid", "valid"]
    assert report.signatures[0].docmdp["certification"]


def test_old_scheme_document_with_a_changed_number_is_altered(legacy, tmp_path):
    data, trust = legacy
    tampered = refill(data, {engine.FIELD_NUMBER: "99/TB-VP"})
    report = validate_pdf(tampered, trust)
    assert report.verdict == "altered" and verdicts(report) == ["altered", "altered"]
    assert "trường SoKyHieu: '02/TB-VP' → '99/TB-VP'" in report.summary
    # The hole issue 12 found: without locks pyHanko calls this permitted form filling.
    roots = [asn1_cert(c) for c in x509.load_pem_x509_certificates(
        corpus.data(LEGACY_ROOT).read_bytes())]
    assert strict_levels(tampered, roots) == [ModificationLevel.FORM_FILLING] * 2


# --- what the signature dictionaries say ---------------------------------------------------------

def test_signing_time_is_local_and_reason_and_location_are_set(issued):
    reader = PdfFileReader(io.BytesIO(issued), strict=False)
    for sig in reader.embedded_signatures:
        sig_object = sig.sig_object
        assert str(sig_object["/M"]).endswith("+07'00'")
        assert str(sig_object["/Location"]) == "Quảng Ngãi"
    leader_sig, org_sig = reader.embedded_signatures
    assert str(leader_sig.sig_object["/Reason"]) == "Người có thẩm quyền ký văn bản"
    assert NUMBER in str(org_sig.sig_object["/Reason"])



def test_validation_page_shows_what_each_signature_locks(browser_login, issued):
    client = browser_login("clerk")
    token = csrf_from(client.get("/signatures/validate").data)
    response = client.post("/signatures/validate", data={
        "csrf_token": token, "file": upload(issued, "02-TB-VP.pdf")},
        content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Khóa trường sau khi ký" in page
    assert (f'data-lock="{engine.FIELD_PERSONAL} {engine.FIELD_NUMBER} {engine.FIELD_DATE} '
            f'{engine.FIELD_ORG}">') in page
