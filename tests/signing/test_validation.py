"""validate_pdf against real, tampered and broken signatures (tests/data; the rest of the
shared corpus in the corpus tests) and against files signed here with a throwaway CA,
cross-checked with poppler's pdfsig."""
import datetime as dt
import io
import os
import pickle
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign.signers import PdfSignatureMetadata, PdfSigner, SimpleSigner
from pyhanko_certvalidator.registry import SimpleCertificateStore

from docmgr.core.errors import UploadRejected, ValidationFailed
from docmgr.demo import sample_pdf
from docmgr.signing.trust import TrustStore
from docmgr.signing.validation import VERDICT_LABELS, validate_pdf
from tests import corpus

PYHANKO_TRUST = corpus.DATA / "signed" / "pyhanko" / "trust"
API_FIELDS = ["field", "signer", "signed_at", "intact", "valid", "trusted", "timestamped",
              "modification_level", "coverage"]
ISO_VN = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00$")



def report_of(relative: str, trust: TrustStore | None = None):
    """The report on signed/<relative>: from tests/data, or the corpus in corpus tests."""
    return validate_pdf(corpus.path(f"signed/{relative}").read_bytes(), trust or TrustStore())


def by_field(report) -> dict:
    return {s.field: s for s in report.signatures}


# --- the whole corpus --------------------------------------------------------------------------

@pytest.mark.parametrize("path", corpus.files("signed", "pdf"))
def test_every_corpus_file_gets_a_report_or_a_clean_refusal(path):
    data = path.read_bytes()
    started = time.perf_counter()
    try:
        report = validate_pdf(data, TrustStore())
    except ValidationFailed as refused:  # UploadRejected is one too
        assert refused.message and refused.status < 500
        return
    finally:
        elapsed = time.perf_counter() - started
        assert elapsed < 20, f"{path.name} took {elapsed:.1f} s"  # a hang guard, not a budget
    body = report.to_dict()
    assert set(body) == {"signatures", "summary", "verdict"}
    assert body["summary"]
    assert body["verdict"] in ("valid", "untrusted", "altered", "invalid", "unsigned")
    for entry in body["signatures"]:
        assert list(entry)[:len(API_FIELDS)] == API_FIELDS
        assert entry["verdict"] in ("valid", "untrusted", "altered", "invalid")
        assert entry["verdict_label"] == VERDICT_LABELS[entry["verdict"]]
        assert entry["modification_level"] in ("none", "form_filling", "annotations", "other")
        assert entry["coverage"] in ("entire_file", "entire_revision", "partial")
        assert entry["revocation"] in ("good", "revoked", "unknown")
        assert entry["signed_at"] is None or ISO_VN.match(entry["signed_at"])
        # without configured roots nothing can be trusted, hence nothing valid
        assert not entry["trusted"] and entry["verdict"] != "valid"
        if entry["verdict"] != "untrusted":
            assert entry["notes"], entry


def test_unsigned_pdf_gives_an_empty_report():
    report = validate_pdf(sample_pdf(["Khong co chu ky"]), TrustStore())
    assert report.signatures == [] and report.verdict == "unsigned"
    assert report.summary == "Văn bản không có chữ ký số."


def test_not_a_pdf_is_refused():
    with pytest.raises(UploadRejected):
        validate_pdf(b"\xff\xd8\xff\xe0 JFIF not a pdf", TrustStore())
    with pytest.raises(ValidationFailed):
        validate_pdf(b"", TrustStore())


def test_unreadable_pdf_without_signatures_is_refused():
    with pytest.raises(ValidationFailed) as refused:
        validate_pdf(b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog\nthis is not a pdf\n", TrustStore())
    assert "không kiểm tra được chữ ký" in refused.value.message


# --- files that must be flagged ----------------------------------------------------------------

TAMPERED = [
    "eu-dss/pdf-signed-corrupted.pdf", "eu-dss/pdf-signed-out-of-byteRange.pdf",
    "eu-dss/pdf-signed-added-page.pdf", "eu-dss/hello_signed_INCSAVE_signed_EDITED.pdf",
    "eu-dss/pdf-spoofing-attack.pdf", "eu-dss/shadow-attack-hide.pdf",
    "eu-dss/shadow-attack-replace.pdf", "eu-dss/pdf-byterange-overlap.pdf",
    "pyhanko/coverage-one-byterange.pdf", "pyhanko/coverage-signature-gap-too-big.pdf",
    "pyhanko/coverage-tail-uncovered.pdf", "pyhanko/coverage-weird-byterange.pdf",
    "pyhanko/form-update-sneaky-appearance-override.pdf", "pyhanko/form-update-sneaky-trailer.pdf",
    "pdfjs/signed_verified.pdf",
    "vn-congbao/broken-byterange/nghi-quyet-17-2022-UBTVQH15.pdf",
    "vn-congbao/broken-byterange/thong-tu-06-2023-TT-BLDTBXH.pdf",
    "vn-congbao/broken-byterange/thong-tu-09-2021-TT-BLDTBXH.pdf",
]


@pytest.mark.parametrize("relative", [corpus.param(f"signed/{r}", r, id=r) for r in TAMPERED])
def test_tampered_files_are_never_reported_valid(relative):
    # even with every trust anchor we have: tampering must not hide behind "untrusted"
    trust = TrustStore.from_files([PYHANKO_TRUST / "root.cert.pem"],
                                  [PYHANKO_TRUST / "interm.cert.pem"])
    report = report_of(relative, trust)
    assert report.signatures, "a signed file must not be reported as unsigned"
    assert report.verdict != "valid"
    assert all(s.verdict != "valid" for s in report.signatures)


def test_bytes_changed_inside_the_signed_range():
    # pyHanko cannot parse this file at all: the raw-byte check still finds the digest mismatch
    report = report_of("eu-dss/pdf-signed-corrupted.pdf")
    (sig,) = report.signatures
    assert sig.intact is False and sig.verdict == "altered"
    assert not report.structure_readable


@pytest.mark.corpus
def test_bytes_changed_outside_the_signed_range():
    (sig,) = report_of("eu-dss/pdf-signed-out-of-byteRange.pdf").signatures
    assert sig.intact is False and sig.coverage == "partial" and sig.verdict == "altered"


def test_page_added_after_signing():
    report = report_of("eu-dss/pdf-signed-added-page.pdf")
    (sig,) = report.signatures
    assert sig.intact and sig.valid
    assert sig.modification_level == "other" and sig.coverage == "entire_revision"
    assert sig.verdict == "altered" and report.verdict == "altered"
    assert any("thay đổi không được phép" in note for note in sig.notes)


@pytest.mark.corpus
def test_second_signature_edited_first_still_intact():
    first, second = report_of("eu-dss/hello_signed_INCSAVE_signed_EDITED.pdf").signatures
    assert (first.field, second.field) == ("Signature1", "Signature2")
    assert first.intact and first.valid and first.verdict == "untrusted"
    assert second.intact is False and second.verdict == "altered"


def test_overlapping_byte_range():
    first, second = report_of("eu-dss/pdf-byterange-overlap.pdf").signatures
    assert first.intact and second.intact is False and second.verdict == "altered"


@pytest.mark.parametrize("name", ["coverage-one-byterange", "coverage-signature-gap-too-big",
                                  "coverage-tail-uncovered", "coverage-weird-byterange"])
def test_bad_coverage(name):
    (sig,) = report_of(f"pyhanko/{name}.pdf").signatures
    assert sig.coverage == "partial" and sig.verdict == "altered"


@pytest.mark.parametrize("name", ["form-update-sneaky-appearance-override",
                                  "form-update-sneaky-trailer"])
def test_sneaky_form_updates(name):
    first, second = report_of(f"pyhanko/{name}.pdf").signatures
    assert first.modification_level == "other" and first.verdict == "altered"
    assert second.intact and second.modification_level == "none"


def test_change_after_signing_pdfjs():
    (sig,) = report_of("pdfjs/signed_verified.pdf").signatures
    assert sig.coverage == "partial" and sig.verdict == "altered"


def test_shadow_attack_replace_is_altered_and_names_the_field():
    # pyHanko classes the attack's incremental update as form filling (permitted); after the
    # last signature nobody vouches for it, so it is "altered", and the field is named
    report = report_of("eu-dss/shadow-attack-replace.pdf")
    (sig,) = report.signatures
    assert sig.modification_level == "form_filling" and sig.verdict == "altered"
    (change,) = sig.changed_fields
    assert (change.field, change.what) == ("Text1", "appearance")
    assert any("Text1" in note for note in sig.notes) and "Text1" in report.summary


@pytest.mark.corpus
def test_spoofing_attack_is_checked_from_raw_bytes():
    report = report_of("eu-dss/pdf-spoofing-attack.pdf")
    (sig,) = report.signatures
    assert not report.structure_readable
    assert sig.verdict == "altered" and sig.modification_level == "other"


@pytest.mark.parametrize("name", [
    corpus.param(f"signed/vn-congbao/broken-byterange/{name}.pdf", name, id=name)
    for name in ("nghi-quyet-17-2022-UBTVQH15", "thong-tu-06-2023-TT-BLDTBXH",
                 "thong-tu-09-2021-TT-BLDTBXH")])
def test_signature_copied_from_another_file(name):
    (sig,) = report_of(f"vn-congbao/broken-byterange/{name}.pdf").signatures
    assert sig.verdict == "invalid" and sig.intact is False
    assert sig.signer == "Cổng Thông tin điện tử Chính phủ"
    assert any("không thuộc trường chữ ký nào" in note for note in sig.notes)
    assert any("vượt quá độ dài tệp" in note for note in sig.notes)


@pytest.mark.parametrize("relative", [
    corpus.param(f"signed/{relative}", relative, id=relative)
    for relative in ("eu-dss/pades_infinite_loop.pdf", "pyhanko/pdf-sig-with-econtent.pdf",
                     "eu-dss/pdf-with-empty-sig.pdf", "pyhanko/coverage-base.pdf",
                     "eu-dss/shadow-attack-hide.pdf")])
def test_malformed_signature_containers(relative):
    report = report_of(relative)
    assert report.signatures and all(s.verdict in ("invalid", "altered")
                                     for s in report.signatures)


@pytest.mark.parametrize("relative", [
    corpus.param(f"signed/{relative}", relative, id=relative)
    for relative in ("pyhanko/coverage-base.pdf", "eu-dss/pdf-with-empty-sig.pdf")])
def test_empty_placeholder_is_reported_unsigned_field(relative):
    (sig,) = report_of(relative).signatures
    assert sig.verdict == "invalid" and any("giữ chỗ" in note for note in sig.notes)


@pytest.mark.corpus
def test_one_broken_signature_does_not_hide_the_others():
    # pades-ltv: pyHanko raises on Signature1; the two document timestamps are still reported
    entries = report_of("eu-dss/pades-ltv.pdf").signatures
    assert [s.field for s in entries] == ["Signature1", "Signature2", "Signature3"]
    assert entries[0].verdict == "invalid" and entries[0].error
    assert [s.kind for s in entries[1:]] == ["timestamp", "timestamp"]
    assert entries[2].intact and entries[2].valid and entries[2].coverage == "entire_file"


@pytest.mark.corpus
def test_file_pyhanko_cannot_open_is_reported_from_raw_bytes():
    report = report_of("eu-dss/pades-5-signatures-and-1-doc-timestamp.pdf")
    assert not report.structure_readable
    assert [s.kind for s in report.signatures] == ["signature"] * 5 + ["timestamp"]
    assert all(s.intact and s.valid for s in report.signatures)
    # later revisions could not be analysed: not valid, and the note says why
    assert all(s.verdict == "altered" for s in report.signatures[:5])
    assert report.signatures[5].coverage == "entire_file"
    assert "Cấu trúc tệp PDF không đọc được" in report.summary


@pytest.mark.corpus
def test_plain_ecdsa_signature_is_invalid_for_pyhanko():
    (sig,) = report_of("eu-dss/TeleSec-QES-plain-ECDSA-baseline-b.pdf").signatures
    assert sig.intact and not sig.valid and sig.verdict == "invalid"


# --- valid signatures --------------------------------------------------------------------------

@pytest.mark.parametrize("path", corpus.files("signed/vn-congbao/valid"))
def test_vietnamese_gazette_signatures_are_intact_but_untrusted(path):
    report = validate_pdf(path.read_bytes(), TrustStore())
    (sig,) = report.signatures
    assert sig.intact and sig.valid and not sig.trusted
    assert sig.verdict == "untrusted" and report.verdict == "untrusted"
    assert sig.signer == "CÔNG BÁO NƯỚC CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    assert sig.issuer == "CA phục vụ cho dịch vụ phần mềm G2"
    assert sig.timestamped and sig.signed_at_source == "timestamp"
    assert ISO_VN.match(sig.to_dict()["signed_at"])
    assert sig.coverage == "entire_file" and sig.modification_level == "none"
    assert any("CA phục vụ cho dịch vụ phần mềm G2" in note for note in sig.notes)


def test_vietnamese_gazette_trusted_once_an_anchor_is_configured(tmp_path):
    # The Ban Cơ yếu G2 root is not in the corpus (nor the issuing CA); configuring the
    # signer's own certificate as an anchor shows the path from "untrusted" to "valid".
    from pyhanko.pdf_utils.reader import PdfFileReader
    data = corpus.data("signed/vn-congbao/valid/thong-tu-02-2026-TT-BTC.pdf").read_bytes()
    signer = PdfFileReader(io.BytesIO(data), strict=False).embedded_signatures[0].signer_cert
    anchor = tmp_path / "signer.der"
    anchor.write_bytes(signer.dump())
    (sig,) = validate_pdf(data, TrustStore.from_files([anchor])).signatures
    assert sig.trusted and sig.verdict == "valid"


@pytest.fixture(scope="module")
def pyhanko_trust():
    return TrustStore.from_files([PYHANKO_TRUST / "root.cert.pem"],
                                 [PYHANKO_TRUST / "interm.cert.pem",
                                  PYHANKO_TRUST / "tsa.cert.pem"])


def test_expired_certificate_valid_at_signing_time(pyhanko_trust):
    # signer certificate valid 2020-01-01 .. 2021-01-01, signed 2020-11-01 (its own clock)
    report = report_of("pyhanko/sig-no-signed-attrs.pdf", pyhanko_trust)
    (sig,) = report.signatures
    assert sig.signer == "Lord Testerino"
    assert sig.intact and sig.valid and sig.trusted and sig.verdict == "valid"
    assert sig.signed_at_source == "signer_clock" and not sig.timestamped
    assert sig.to_dict()["signed_at"] == "2020-11-01T07:00:00+07:00"
    assert "Thời điểm ký lấy từ đồng hồ máy người ký (không có dấu thời gian)." in sig.notes
    assert any("đã hết hạn ngày 01/01/2021" in note for note in sig.notes)
    assert sig.revocation == "unknown"


def test_without_the_root_the_same_file_is_untrusted():
    (sig,) = report_of("pyhanko/sig-no-signed-attrs.pdf").signatures
    assert sig.intact and sig.valid and not sig.trusted and sig.verdict == "untrusted"


def test_long_term_signature_with_document_timestamp(pyhanko_trust):
    sig, stamp = report_of("pyhanko/pades-lta-dss-indirect-arrs.pdf", pyhanko_trust).signatures
    assert sig.kind == "signature" and sig.verdict == "valid" and sig.timestamped
    assert sig.signed_at_source == "timestamp" and sig.timestamp_trusted
    assert stamp.kind == "timestamp" and stamp.signer == "Time Stamping Authority"
    assert stamp.verdict == "valid"


def test_certification_signature_reports_docmdp(pyhanko_trust):
    (sig,) = report_of("pyhanko/certified-with-indirect-refs.pdf", pyhanko_trust).signatures
    assert sig.docmdp and sig.docmdp["certification"] and sig.docmdp["ok"]
    assert sig.verdict == "valid"


def test_signing_order_follows_revisions():
    # the field created second was signed first
    first, second = report_of("pyhanko/minimal-two-fields-signed-twice.pdf").signatures
    assert (first.field, second.field) == ("Sig2", "Sig1")
    assert first.modification_level == "form_filling" and second.modification_level == "none"


# --- signed here -------------------------------------------------------------------------------

def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                      x509.NameAttribute(NameOID.COUNTRY_NAME, "VN")])


def _certificate(subject, key, issuer, issuer_key, *, ca: bool):
    now = dt.datetime.now(dt.UTC)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(days=1))
               .not_valid_after(now + dt.timedelta(days=365))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
               .add_extension(x509.KeyUsage(
                   digital_signature=True, content_commitment=not ca, key_encipherment=False,
                   data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                   encipher_only=False, decipher_only=False), critical=True))
    return builder.sign(issuer_key, hashes.SHA256())


def _asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


@pytest.fixture(scope="module")
def throwaway_pki(tmp_path_factory):
    """A root CA and a signer certificate, made for this module and thrown away."""
    root_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    root = _certificate(_name("docmgr Throwaway Root CA"), root_key,
                        _name("docmgr Throwaway Root CA"), root_key, ca=True)
    signer_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    signer = _certificate(_name("Nguyễn Thị Văn Thư"), signer_key,
                          _name("docmgr Throwaway Root CA"), root_key, ca=False)
    folder = tmp_path_factory.mktemp("throwaway-pki")
    root_pem = folder / "root.pem"
    root_pem.write_bytes(root.public_bytes(serialization.Encoding.PEM))
    simple = SimpleSigner(
        signing_cert=_asn1(signer),
        signing_key=asn1_keys.PrivateKeyInfo.load(signer_key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption())),
        cert_registry=SimpleCertificateStore.from_certs([_asn1(root)]))
    return simple, root_pem


def _sign(pdf: bytes, signer, field: str) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    return PdfSigner(PdfSignatureMetadata(field_name=field), signer=signer) \
        .sign_pdf(writer).getvalue()


@pytest.fixture(scope="module")
def twice_signed(throwaway_pki) -> bytes:
    signer, _ = throwaway_pki
    once = _sign(sample_pdf(["UBND TINH QUANG NGAI", "So: 15/QD-UBND"], pages=2), signer, "Sig1")
    return _sign(once, signer, "Sig2")  # a new field, as an incremental update


def test_own_two_signatures_validate_and_agree_with_pdfsig(twice_signed, throwaway_pki,
                                                          tmp_path):
    _, root_pem = throwaway_pki
    report = validate_pdf(twice_signed, TrustStore.from_files([root_pem]))
    first, second = report.signatures
    assert (first.field, second.field) == ("Sig1", "Sig2")
    assert first.modification_level == "form_filling" and first.coverage == "entire_revision"
    assert second.modification_level == "none" and second.coverage == "entire_file"
    for sig in (first, second):
        assert sig.intact and sig.valid and sig.trusted and sig.verdict == "valid"
        assert sig.signer == "Nguyễn Thị Văn Thư"
        assert sig.issuer == "docmgr Throwaway Root CA"
        assert sig.signed_at_source == "signer_clock"
        assert abs(sig.signed_at - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=10)
    assert report.verdict == "valid"
    assert report.summary.startswith("Các chữ ký số trên văn bản hợp lệ.")

    pdfsig = shutil.which("pdfsig")
    if pdfsig is None:
        pytest.skip("pdfsig (poppler-utils) is not installed")
    path = tmp_path / "twice.pdf"
    path.write_bytes(twice_signed)
    out = subprocess.run([pdfsig, str(path)], capture_output=True, text=True, timeout=60).stdout
    poppler = re.findall(r"Signature Validation: (.+)", out)
    assert poppler == ["Signature is Valid."] * 2
    assert [s.valid and s.intact for s in report.signatures] == [True, True]
    assert "Total document signed" in out.split("Signature #2")[1]


def test_own_signatures_untrusted_without_their_root(twice_signed):
    report = validate_pdf(twice_signed, TrustStore())
    assert [s.verdict for s in report.signatures] == ["untrusted", "untrusted"]
    assert report.verdict == "untrusted"


def test_own_signature_then_tampered(twice_signed, throwaway_pki):
    _, root_pem = throwaway_pki
    # flip one byte of the first revision's content: both signatures cover it
    position = twice_signed.index(b"/MediaBox [0 0 595 842]") + len("/MediaBox [0 0 59")
    tampered = twice_signed[:position] + b"6" + twice_signed[position + 1:]
    report = validate_pdf(tampered, TrustStore.from_files([root_pem]))
    assert report.verdict == "altered"
    assert all(not s.intact and s.verdict == "altered" for s in report.signatures)


def test_catalog_changed_after_own_signature(throwaway_pki):
    """An update that is not form filling or a further signature breaks the earlier one."""
    signer, root_pem = throwaway_pki
    signed = _sign(sample_pdf(["Van ban goc"]), signer, "Sig1")
    writer = IncrementalPdfFileWriter(io.BytesIO(signed))
    writer.root["/Lang"] = pdf_name("/vi")
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    (sig,) = validate_pdf(out.getvalue(), TrustStore.from_files([root_pem])).signatures
    assert sig.intact and sig.valid and sig.trusted
    assert sig.modification_level == "other" and sig.verdict == "altered"


def test_validation_speed_of_a_two_signature_file(twice_signed, throwaway_pki):
    _, root_pem = throwaway_pki
    trust = TrustStore.from_files([root_pem])
    validate_pdf(twice_signed, trust)  # warm-up
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        validate_pdf(twice_signed, trust)
        timings.append(time.perf_counter() - started)
    assert sorted(timings)[2] < 0.5  # generous: the target is well under 0.1 s


def test_trust_store_reads_pem_bundles_and_der(tmp_path):
    bundle = PYHANKO_TRUST / "ca-chain.cert.pem"
    store = TrustStore.from_files([bundle])
    assert len(store.roots) == 2
    der = tmp_path / "root.der"
    der.write_bytes(store.roots[0].dump())
    assert TrustStore.from_files([der]).roots[0].sha256 == store.roots[0].sha256
    with pytest.raises(ValueError):
        TrustStore.from_files([tmp_path / "missing.pem"])


def test_trust_store_for_app(tmp_path):
    pki = tmp_path / "pki"
    pki.mkdir()
    shutil.copy(PYHANKO_TRUST / "root.cert.pem", pki / "root-ca.pem")
    shutil.copy(PYHANKO_TRUST / "interm.cert.pem", pki / "intermediate-ca.pem")
    store = TrustStore.for_app({"TRUST_ROOTS": os.pathsep.join(
        [str(PYHANKO_TRUST / "tsa.cert.pem")])}, tmp_path)
    assert len(store.roots) == 2 and len(store.intermediates) == 1
    assert not TrustStore.for_app({}, tmp_path / "nowhere")
    listed = TrustStore.for_app({"TRUST_ROOTS": [str(PYHANKO_TRUST / "root.cert.pem")]},
                                tmp_path / "nowhere")
    assert len(listed.roots) == 1
    context = store.validation_context()
    assert context is not None


def test_trust_store_reaches_a_fresh_worker_process_intact():
    """Uploaded files are validated in a sandbox worker: the trust store travels pickled,
    and a fresh interpreter must be able to build a validation context from it."""
    store = TrustStore.from_files(
        [Path(__file__).parents[1] / "data/signed/docmgr/test-root-ca.pem"])
    script = ("import pickle, sys; store = pickle.loads(sys.stdin.buffer.read()); "
              "store.validation_context(); print(len(store.roots))")
    done = subprocess.run([sys.executable, "-c", script], input=pickle.dumps(store),
                          capture_output=True, check=False)
    assert done.returncode == 0, done.stderr.decode()[-500:]
    assert done.stdout.strip() == b"1"
