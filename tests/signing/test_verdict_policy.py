"""The verdict policy (docmgr.signing.validation.policy) and the classification of failures by
exception type (failures.py, notes.py), without a PDF: plain SignatureReports and Findings,
stand-in certificates, CMS structures built with asn1crypto."""
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from asn1crypto import cms
from pyhanko.pdf_utils.misc import PdfReadError, PdfStreamError
from pyhanko.pdf_utils.xref import ObjectHeaderReadError
from pyhanko.sign.ades.report import AdESFailure, AdESIndeterminate
from pyhanko.sign.general import CMSExtractionError
from pyhanko.sign.validation.errors import SignatureValidationError

from docmgr.signing.validation import failures, notes, policy
from docmgr.signing.validation.policy import Findings
from docmgr.signing.validation.report import FieldChange, SignatureReport

SIGNED_AT = datetime(2025, 3, 10, 2, 0, tzinfo=UTC)


def good(**changes) -> SignatureReport:
    """An intact, valid, trusted signature covering the whole file, nothing changed."""
    values = dict(field="Sig1", signer="Nguyễn Văn A", issuer="CA Thử nghiệm", intact=True,
                  valid=True, trusted=True, coverage="entire_file", modification_level="none")
    return SignatureReport(**{**values, **changes})


def certificate(*, valid_from: datetime, valid_to: datetime, self_signed: str = "no"):
    return SimpleNamespace(self_signed=self_signed, not_valid_before=valid_from,
                           not_valid_after=valid_to)


# --- the verdict of one entry ----------------------------------------------------------------

@pytest.mark.parametrize("report, findings, verdict", [
    pytest.param(good(), Findings(), "valid", id="all good"),
    pytest.param(good(trusted=False), Findings(), "untrusted", id="not trusted"),
    pytest.param(good(valid=False), Findings(), "invalid", id="signature value broken"),
    pytest.param(good(), Findings(revoked=True), "invalid", id="revoked"),
    pytest.param(good(intact=False), Findings(), "altered", id="signed bytes changed"),
    pytest.param(good(coverage="partial"), Findings(), "altered", id="partial coverage"),
    pytest.param(good(coverage="entire_revision"), Findings(), "valid",
                 id="later revisions"),
    pytest.param(good(modification_level="other"), Findings(), "altered",
                 id="forbidden change"),
    pytest.param(good(modification_level="form_filling"), Findings(), "valid",
                 id="form filling"),
    pytest.param(good(modification_level="annotations"), Findings(), "valid",
                 id="annotations"),
    pytest.param(good(), Findings(docmdp_ok=False), "altered", id="beyond DocMDP"),
    pytest.param(good(), Findings(docmdp_ok=None), "valid", id="no DocMDP"),
    # altered outranks invalid: a broken signature over changed bytes says "changed"
    pytest.param(good(intact=False, valid=False), Findings(revoked=True), "altered",
                 id="altered outranks invalid"),
    # a signature's own timestamp token, when present, must hold for "valid"
    pytest.param(good(timestamped=True), Findings(has_timestamp_token=True), "valid",
                 id="good timestamp token"),
    pytest.param(good(timestamped=False), Findings(has_timestamp_token=True), "untrusted",
                 id="broken timestamp token"),
    pytest.param(good(kind="timestamp"), Findings(), "valid", id="document timestamp"),
])
def test_verdict_of(report, findings, verdict):
    assert policy.verdict_of(report, findings) == verdict


def test_a_valid_signature_says_revocation_was_not_checked():
    report = good()
    policy.conclude(report, Findings())
    assert report.verdict == "valid" and report.revocation == "unknown"
    assert report.notes == [notes.REVOCATION_NOT_CHECKED]
    stamp = good(kind="timestamp")
    policy.conclude(stamp, Findings())
    assert stamp.notes == []  # a timestamp authority's certificate: nothing to add


def test_notes_come_in_reading_order_without_repeats():
    report = good(intact=False, coverage="partial")
    policy.conclude(report, Findings(notes=["gathered first", "gathered second",
                                            "gathered first"], revoked=True))
    assert report.verdict == "altered" and report.revocation == "revoked"
    assert report.notes == [notes.HASH_MISMATCH, "gathered first", "gathered second",
                            notes.PARTIAL_COVERAGE, notes.REVOKED]


def test_a_broken_signature_value_is_said_first():
    report = good(valid=False)
    policy.conclude(report, Findings(notes=["x"]))
    assert report.verdict == "invalid" and report.notes == [notes.SIGNATURE_MISMATCH, "x"]


def test_changes_after_signing_are_said_only_when_they_could_be_analysed():
    known, raw = good(modification_level="other"), good(modification_level="other")
    policy.conclude(known, Findings())
    policy.conclude(raw, Findings(structure_known=False))
    assert notes.FORBIDDEN_CHANGES in known.notes
    assert notes.FORBIDDEN_CHANGES not in raw.notes
    assert known.verdict == raw.verdict == "altered"


def test_bytes_beyond_the_end_of_the_file_have_their_own_note():
    report = good(intact=False, coverage="partial")
    policy.conclude(report, Findings(notes=[notes.BEYOND_EOF], beyond_eof=True))
    assert report.notes == [notes.BEYOND_EOF]
    assert report.verdict == "altered"


def test_an_orphan_signature_is_invalid_whatever_its_bytes_say():
    report = good()
    policy.conclude(report, Findings(notes=[notes.ORPHAN], orphan=True))
    assert report.verdict == "invalid"
    assert report.notes[0] == notes.ORPHAN


def test_an_untrusted_signature_says_why():
    report = good(trusted=False)
    policy.conclude(report, Findings())
    assert report.verdict == "untrusted"
    assert report.notes == [notes.no_path_to_a_root("CA Thử nghiệm")]


# --- why a certificate is not trusted --------------------------------------------------------

VALID_2024 = dict(valid_from=datetime(2024, 1, 1, tzinfo=UTC),
                  valid_to=datetime(2024, 12, 31, tzinfo=UTC))


@pytest.mark.parametrize("problem, cert, reference, expected", [
    (None, certificate(**VALID_2024, self_signed="maybe"), None, notes.SELF_SIGNED),
    (AdESIndeterminate.CRYPTO_CONSTRAINTS_FAILURE, None, None, notes.WEAK_ALGORITHM),
    (AdESIndeterminate.CRYPTO_CONSTRAINTS_FAILURE_NO_POE, None, SIGNED_AT,
     notes.WEAK_ALGORITHM),
    (AdESIndeterminate.EXPIRED, certificate(**VALID_2024), SIGNED_AT,
     notes.expired_before_signing(VALID_2024["valid_to"])),
    (AdESIndeterminate.NOT_YET_VALID, certificate(**VALID_2024),
     datetime(2023, 6, 1), notes.not_yet_valid_at_signing(VALID_2024["valid_from"])),
    (AdESIndeterminate.OUT_OF_BOUNDS_NO_POE, certificate(**VALID_2024), None,
     notes.EXPIRED_WITHOUT_SIGNING_TIME),
    (AdESIndeterminate.CHAIN_CONSTRAINTS_FAILURE, None, None,
     notes.chain_constraints_failed("CA Thử nghiệm")),
    (AdESIndeterminate.NO_CERTIFICATE_CHAIN_FOUND, None, None,
     notes.no_path_to_a_root("CA Thử nghiệm")),
], ids=["self-signed", "weak algorithm", "weak algorithm, no proof of existence",
        "expired before signing", "not yet valid (naive reference)", "expired, no time",
        "chain constraints", "no path"])
def test_trust_note(problem, cert, reference, expected):
    findings = Findings(trust_problem=problem, signing_cert=cert, reference=reference)
    assert policy.trust_note(good(trusted=False), findings) == expected


def test_an_unknown_issuer_is_named_so():
    assert policy.trust_note(good(trusted=False, issuer=None), Findings()) == \
        notes.no_path_to_a_root("không rõ")


def test_dates_in_notes_are_local_dates():
    # 31/12/2024 20:00 UTC is already 01/01/2025 in Việt Nam
    expiry = datetime(2024, 12, 31, 20, 0, tzinfo=UTC)
    assert "01/01/2025" in notes.expired_since_signing(expiry)


# --- time ------------------------------------------------------------------------------------

def test_signing_time_prefers_a_vouched_timestamp_then_the_signer_clock():
    clock_time = SIGNED_AT - timedelta(minutes=5)
    assert policy.signing_time(SIGNED_AT, clock_time) == (SIGNED_AT, "timestamp")
    assert policy.signing_time(None, clock_time) == (clock_time, "signer_clock")
    assert policy.signing_time(None, None) == (None, None)
    assert policy.signing_time_note("timestamp") is None
    assert policy.signing_time_note("signer_clock") == notes.SIGNER_CLOCK
    assert policy.signing_time_note(None) == notes.NO_SIGNING_TIME


def test_timestamp_token_notes():
    assert policy.timestamp_token_note(good(timestamped=False)) == notes.TIMESTAMP_BROKEN
    assert policy.timestamp_token_note(good(timestamped=True, timestamp_trusted=False,
                                            timestamp_authority="TSA Thử")) == \
        notes.timestamp_authority_untrusted("TSA Thử")
    assert policy.timestamp_token_note(good(timestamped=True, timestamp_trusted=True)) is None


def test_a_document_timestamp_is_its_own_time_and_authority():
    stamp = good(kind="timestamp", signer="Máy chủ cấp dấu thời gian", trusted=False)
    policy.take_document_timestamp(stamp, SIGNED_AT)
    assert (stamp.signed_at, stamp.signed_at_source, stamp.timestamp_time) == \
        (SIGNED_AT, "timestamp", SIGNED_AT)
    assert stamp.timestamped and not stamp.timestamp_trusted
    assert stamp.timestamp_authority == "Máy chủ cấp dấu thời gian"


HORIZON = SIGNED_AT + timedelta(days=30)  # when pyHanko's policy stopped accepting the algorithm


@pytest.mark.parametrize("report, problem, reference, horizon, expected", [
    (good(trusted=False), AdESIndeterminate.EXPIRED, SIGNED_AT, None, True),
    (good(trusted=False), AdESIndeterminate.NOT_YET_VALID, SIGNED_AT, None, True),
    (good(trusted=False), AdESIndeterminate.EXPIRED, None, None, False),
    (good(trusted=True), AdESIndeterminate.EXPIRED, SIGNED_AT, None, False),
    (good(trusted=False, intact=False), AdESIndeterminate.EXPIRED, SIGNED_AT, None, False),
    (good(trusted=False, valid=False), AdESIndeterminate.EXPIRED, SIGNED_AT, None, False),
    (good(trusted=False), AdESIndeterminate.NO_CERTIFICATE_CHAIN_FOUND, SIGNED_AT, None,
     False),
    (good(trusted=False), AdESIndeterminate.CRYPTO_CONSTRAINTS_FAILURE_NO_POE, SIGNED_AT,
     HORIZON, True),
    (good(trusted=False), AdESIndeterminate.CRYPTO_CONSTRAINTS_FAILURE_NO_POE,
     HORIZON + timedelta(days=1), HORIZON, False),
    (good(trusted=False), AdESIndeterminate.CRYPTO_CONSTRAINTS_FAILURE_NO_POE, SIGNED_AT,
     None, False),
], ids=["expired", "not yet valid", "no signing time", "already trusted", "not intact",
        "not valid", "no chain at all", "algorithm still allowed when signed",
        "algorithm already banned when signed", "ban date unknown"])
def test_worth_rechecking_at_signing_time(report, problem, reference, horizon, expected):
    findings = Findings(trust_problem=problem, reference=reference)
    assert policy.worth_rechecking_at_signing_time(report, findings, horizon) is expected


def test_revocation_from_details_or_sub_indication():
    assert policy.is_revoked(None, True)
    assert policy.is_revoked(AdESFailure.REVOKED, False)
    assert policy.is_revoked(AdESIndeterminate.REVOKED_NO_POE, False)
    assert not policy.is_revoked(AdESIndeterminate.EXPIRED, False)


# --- changes after signing -------------------------------------------------------------------

NUMBER_FILLED = FieldChange("SoKyHieu", None, "02/TB-VP")
NUMBER_CHANGED = FieldChange("SoKyHieu", "02/TB-VP", "99/TB-VP")


def test_changes_after_signing_separate_later_signatures_from_filled_fields():
    date = FieldChange("NgayBanHanh", None, "Quảng Ngãi, ngày 05 tháng 01 năm 2027")
    said = policy.changes_after_signing(
        ["SoKyHieu", "ChuKyCoQuan", "NgayBanHanh"], {"ChuKyNguoiCoThamQuyen", "ChuKyCoQuan"},
        [date, NUMBER_FILLED], lta_updates=False)
    assert said == [notes.later_signatures(["ChuKyCoQuan"]),
                    notes.filled_fields([date, NUMBER_FILLED])]
    assert said[1].endswith(": trường NgayBanHanh: (trống) → 'Quảng Ngãi, ngày 05 tháng 01 năm "
                            "2027'; trường SoKyHieu: (trống) → '02/TB-VP'.")


def test_validation_data_only_is_said_unless_a_signature_came_later():
    assert policy.changes_after_signing([], set(), [], lta_updates=True) == \
        [notes.LTA_UPDATES_ONLY]
    said = policy.changes_after_signing(["Sig2"], {"Sig2"}, [], lta_updates=True)
    assert said == [notes.later_signatures(["Sig2"])]


@pytest.mark.parametrize("change, said", [
    (NUMBER_CHANGED, "Trường SoKyHieu: '02/TB-VP' → '99/TB-VP'"),
    (FieldChange("SoKyHieu", "02/TB-VP", None), "Trường SoKyHieu: '02/TB-VP' → (trống)"),
    (FieldChange("SoKyHieu", "02/TB-VP", "02/TB-VP", "appearance"),
     "Trường SoKyHieu: giá trị '02/TB-VP' giữ nguyên nhưng hình hiển thị đã bị thay"),
    (FieldChange("ChuKyMoi", None, None, "other"), "Trường ChuKyMoi: được thêm hoặc thay đổi"),
])
def test_a_field_change_says_from_what_to_what(change, said):
    assert notes.field_change(change) == said


def concluded(**changes) -> SignatureReport:
    report = good(**changes)
    policy.conclude(report, Findings())
    return report


def test_a_change_after_the_last_signature_alters_every_signature_before_it():
    leader = concluded(field="ChuKyNguoiCoThamQuyen", modification_level="form_filling",
                       changed_fields=[NUMBER_CHANGED])
    org = concluded(field="ChuKyCoQuan", modification_level="form_filling",
                    changed_fields=[NUMBER_CHANGED])
    later_stamp = concluded(field="Tem", kind="timestamp")
    said = policy.after_last_signature([leader, org, later_stamp])
    assert said == notes.unsigned_changes(["Trường SoKyHieu: '02/TB-VP' → '99/TB-VP'"])
    assert "trường SoKyHieu: '02/TB-VP' → '99/TB-VP'." in said
    assert [leader.verdict, org.verdict, later_stamp.verdict] == ["altered", "altered", "valid"]
    assert org.notes[0] == said and notes.REVOCATION_NOT_CHECKED not in org.notes
    assert leader.unsigned_changes and org.unsigned_changes and not later_stamp.unsigned_changes
    report = policy.summarise([leader, org, later_stamp], unsigned_changes=said)
    assert report.verdict == "altered" and report.summary.endswith(said)


@pytest.mark.parametrize("last, altered", [
    pytest.param(dict(), False, id="nothing after it"),
    pytest.param(dict(modification_level="form_filling"), False,
                 id="a later signature field, no form field changed"),
    pytest.param(dict(modification_level="annotations"), True, id="annotations"),
    pytest.param(dict(modification_level="form_filling", changed_fields=[NUMBER_FILLED]), True,
                 id="a form field filled"),
])
def test_what_after_the_last_signature_alters(last, altered):
    first = concluded(field="Sig1", modification_level="form_filling",
                      changed_fields=[NUMBER_FILLED])
    second = concluded(field="Sig2", **last)
    said = policy.after_last_signature([first, second])
    assert (said is not None) == altered
    assert [first.verdict, second.verdict] == (["altered"] * 2 if altered else ["valid"] * 2)


def test_no_signature_no_rule():
    stamp = concluded(kind="timestamp", modification_level="annotations")
    assert policy.after_last_signature([stamp]) is None and stamp.verdict == "valid"


def test_docmdp_note_only_when_nothing_else_flags_the_change():
    certified = {"label": "Chỉ cho phép điền biểu mẫu và ký"}
    assert policy.docmdp_note(good(docmdp=certified), False) == \
        notes.beyond_docmdp(certified["label"])
    assert policy.docmdp_note(good(docmdp=certified, modification_level="other"), False) is None
    assert policy.docmdp_note(good(docmdp=certified), True) is None
    assert policy.docmdp_note(good(), False) is None
    assert policy.timestamp_docmdp_ok("form_filling") and not policy.timestamp_docmdp_ok("other")


# --- the file --------------------------------------------------------------------------------

def test_the_worst_entry_decides():
    assert policy.worst(["valid", "untrusted"]) == "untrusted"
    assert policy.worst(["invalid", "untrusted", "valid"]) == "invalid"
    assert policy.worst(["invalid", "altered"]) == "altered"


def test_summary_counts_signatures_and_timestamps():
    entries = [good(verdict="valid"), good(verdict="invalid"),
               good(kind="timestamp", verdict="valid")]
    result = policy.summarise(entries)
    assert result.verdict == "invalid" and result.structure_readable
    assert result.summary == ("Văn bản có chữ ký số không hợp lệ. Văn bản có 2 chữ ký số (1 hợp "
                              "lệ, 1 không hợp lệ) và 1 dấu thời gian tài liệu (1 hợp lệ).")


def test_summary_when_only_the_cryptography_could_be_checked():
    result = policy.summarise([good(verdict="altered")], structure_readable=False)
    assert not result.structure_readable
    assert result.summary.endswith(notes.ONLY_CRYPTOGRAPHY_CHECKED)
    assert result.summary.startswith(notes.HEADLINES["altered"])


def test_no_entries_is_unsigned():
    result = policy.summarise([])
    assert (result.verdict, result.summary, result.signatures) == \
        ("unsigned", notes.NO_SIGNATURE, [])


# --- failures, by type -----------------------------------------------------------------------

def signed_data_der(*, encapsulated: bool) -> bytes:
    content_info = {"content_type": "data"}
    if encapsulated:
        content_info["content"] = b"Noi dung nhung trong CMS"
    return cms.ContentInfo({"content_type": "signed_data", "content": cms.SignedData({
        "version": "v1", "digest_algorithms": [], "encap_content_info": content_info,
        "signer_infos": []})}).dump()


GARBAGE = b"\x01\x02\x03 not DER"
TRUNCATED = signed_data_der(encapsulated=False)[:20]


@pytest.mark.parametrize("exc, der, subfilter_ok, expected", [
    (ValueError("anything"), GARBAGE, True, failures.UnreadableCms),
    (ValueError("Insufficient data"), TRUNCATED, True, failures.UnreadableCms),
    (TypeError("'OctetString' object is not subscriptable"),
     cms.ContentInfo({"content_type": "data", "content": b"x"}).dump(), True,
     failures.UnreadableCms),
    (CMSExtractionError("signer_infos should contain exactly one entry"),
     signed_data_der(encapsulated=False), True, CMSExtractionError),
    (ValueError("anything"), None, True, ValueError),
    (SignatureValidationError("x", ades_subindication=AdESFailure.FORMAT_FAILURE),
     signed_data_der(encapsulated=True), True, failures.EncapsulatedContent),
    (SignatureValidationError("x", ades_subindication=AdESFailure.FORMAT_FAILURE),
     signed_data_der(encapsulated=False), True, SignatureValidationError),
    (SignatureValidationError("x"), signed_data_der(encapsulated=True), True,
     SignatureValidationError),
    (SignatureValidationError("x"), signed_data_der(encapsulated=False), False,
     failures.UnsupportedSubFilter),
    (PdfReadError("x"), GARBAGE, True, PdfReadError),
    (KeyError("/V"), GARBAGE, True, KeyError),
], ids=["garbage", "truncated DER", "not a SignedData", "one signer info expected",
        "no CMS at hand", "detached with content", "format failure, no content",
        "other validation error", "unsupported SubFilter", "PDF structure", "missing key"])
def test_explain_by_type_and_bytes(exc, der, subfilter_ok, expected):
    explained = failures.explain(exc, der, subfilter_supported=subfilter_ok)
    assert type(explained) is expected
    if explained is not exc:
        assert explained.cause is exc and explained.__cause__ is exc


def test_explain_keeps_an_already_typed_failure():
    failure = failures.EmptyPlaceholder()
    assert failures.explain(failure, GARBAGE) is failure


@pytest.mark.parametrize("exc, note", [
    (failures.EmptyPlaceholder(), "vùng giữ chỗ trống"),
    (failures.UnreadableCms(ValueError()), "(CMS) bị hỏng hoặc trống"),
    (failures.EncapsulatedContent(), "chứa dữ liệu nhúng"),
    (failures.UnsupportedSubFilter(), "(SubFilter) không được hỗ trợ"),
    (PdfReadError("x"), "Cấu trúc PDF quanh chữ ký bị hỏng"),
    (PdfStreamError("x"), "Cấu trúc PDF quanh chữ ký bị hỏng"),
    (ObjectHeaderReadError("x"), "Cấu trúc PDF quanh chữ ký bị hỏng"),
    (ValueError("ContentInfo parsing asn1crypto encapsulated data SubFilter"),
     notes.UNCHECKED_GENERIC),
], ids=["placeholder", "CMS", "encapsulated", "SubFilter", "PdfReadError",
        "PdfStreamError (subclass)", "ObjectHeaderReadError (subclass)",
        "message text is not read"])
def test_unchecked_note_by_type(exc, note):
    assert note in notes.unchecked(exc)


@pytest.mark.parametrize("exc, reason", [
    (failures.Encrypted(notes.ENCRYPTED_WITH_PASSWORD), notes.ENCRYPTED_WITH_PASSWORD),
    (failures.EncryptionUnreadable(KeyError("/V")),
     "tệp được mã hóa hoặc thông tin mã hóa bị hỏng"),
    (KeyError("/V"), "cấu trúc tệp bị hỏng: KeyError: '/V'"),
    (PdfReadError("encrypt seed"), "cấu trúc tệp bị hỏng: PdfReadError: encrypt seed"),
    (None, "cấu trúc tệp bị hỏng"),
], ids=["encrypted", "encryption unreadable", "structure", "message text is not read",
        "unknown"])
def test_structure_reason_by_type(exc, reason):
    assert notes.structure_reason(exc) == reason
