"""One validation run: read the file with pyHanko, check each signature, gather the facts and
hand them to the policy.

Files pyHanko can read: every filled signature field, in signing order, through pyHanko's
own validation (integrity, trust, difference analysis of later revisions). Files it cannot
read, and signature dictionaries no field points to: found in the raw bytes (scanner.py)
and checked cryptographically over their /ByteRange.
"""
from __future__ import annotations

import asyncio
import io
from dataclasses import replace
from datetime import datetime

from asn1crypto import cms, x509
from cryptography.hazmat.primitives import hashes
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import DiffResult, ModificationLevel
from pyhanko.sign.fields import enumerate_sig_fields
from pyhanko.sign.general import extract_signer_info
from pyhanko.sign.validation import generic_cms
from pyhanko.sign.validation.pdf_embedded import (
    EmbeddedPdfSignature,
    async_validate_pdf_signature,
    async_validate_pdf_timestamp,
)
from pyhanko.sign.validation.status import StandardCMSSignatureStatus, TimestampSignatureStatus
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

from docmgr.core import clock, sandbox
from docmgr.core.errors import ServiceBusy, UploadRejected, ValidationFailed
from docmgr.signing import pyhanko_patches
from docmgr.signing.trust import KEY_USAGE, TrustStore
from docmgr.signing.validation import facts, failures, notes, policy, scanner
from docmgr.signing.validation.policy import Findings
from docmgr.signing.validation.report import SignatureReport, ValidationReport

# pyHanko parses a file's structure in pure Python: a hostile file (a /Fields array of
# 400 000 entries: 9 s) costs whatever it is made to cost. A file someone sent is therefore
# checked in a sandbox worker; the slowest signed file of the shared corpus takes 0.1 s.
UPLOAD_LIMITS = sandbox.Limits(memory=1 << 30, cpu=10, wall=60)


def validate_pdf(data: bytes, trust: TrustStore | None = None) -> ValidationReport:
    """Check every signature and document timestamp in ``data``.

    Raises ``UploadRejected`` when ``data`` is not a PDF and ``ValidationFailed`` when it is
    too damaged to find anything in it or its signatures are out of bounds
    (scanner.check_bounds); everything else ends up in the report.
    """
    data = bytes(data)
    if not data:
        raise ValidationFailed(notes.EMPTY_FILE, field="file")
    if b"%PDF-" not in data[:1024]:
        raise UploadRejected(notes.NOT_A_PDF, field="file", reason="not_pdf")
    scanner.check_bounds(data)
    return asyncio.run(_Run(data, trust or TrustStore()).execute())


def validate_upload(data: bytes, trust: TrustStore | None = None) -> ValidationReport:
    """``validate_pdf`` for a file someone sent, with its memory and CPU time bounded
    (UPLOAD_LIMITS): past them a clear ValidationFailed, never a busy web process."""
    try:
        return sandbox.CHECKS.run(UPLOAD_LIMITS, _validate_in_worker, bytes(data), trust)
    except sandbox.LimitExceeded as exc:
        raise ValidationFailed(notes.OVER_LIMIT, field="file", reason="processing_limit") \
            from exc
    except (sandbox.TimedOut, sandbox.Unavailable) as exc:
        raise ServiceBusy(notes.BUSY, field="file") from exc


def _validate_in_worker(data: bytes, trust: TrustStore | None) -> ValidationReport:
    pyhanko_patches.install()  # as in the web process (the app factory installs them there)
    return validate_pdf(data, trust)


class _Run:
    """One validation: the file, the trust store and the validation contexts it built."""

    def __init__(self, data: bytes, trust: TrustStore):
        self.data = data
        self.trust = trust
        self.vc = None
        self._vcs_at: dict[datetime, object] = {}
        self._raw: list[scanner.RawSignature] | None = None

    async def execute(self) -> ValidationReport:
        self.vc = self.trust.validation_context()
        self.unsigned_changes: str | None = None
        try:
            entries, structure_readable = await self._structured()
        finally:
            for vc in (self.vc, *self._vcs_at.values()):
                await vc.aclose()
        return policy.summarise(entries, structure_readable, self.unsigned_changes)

    @property
    def raw(self) -> list[scanner.RawSignature]:
        if self._raw is None:
            self._raw = scanner.scan(self.data)
        return self._raw

    def context_at(self, moment: datetime):
        """A point-in-time context sharing the certificates collected so far."""
        if moment not in self._vcs_at:
            self._vcs_at[moment] = self.trust.validation_context(
                moment=moment, certificate_registry=self.vc.certificate_registry)
        return self._vcs_at[moment]

    # -- files pyHanko can read ----------------------------------------------------------------

    async def _structured(self) -> tuple[list[SignatureReport], bool]:
        try:
            reader = PdfFileReader(io.BytesIO(self.data), strict=False)
            facts.unlock(reader)
            fields = list(enumerate_sig_fields(reader, filled_status=True))
        except Exception as exc:
            return await self._fallback(exc), False

        sig_names = {name for name, _, _ in fields}
        known_ranges = {facts.byte_range(value) for _, value, _ in fields}
        entries = [await self._entry(item, sig_names)
                   for item in self._in_signing_order(reader, fields)]
        self.unsigned_changes = policy.after_last_signature(entries)
        for raw in self.raw:
            # an empty placeholder no field points to is not a signature, just debris
            if raw.byte_range not in known_ranges and any(raw.contents):
                entries.append(await self._raw_entry(raw, orphan=True))
        return entries, True

    @staticmethod
    def _in_signing_order(reader: PdfFileReader, fields: list) -> list:
        """Each field as pyHanko's EmbeddedPdfSignature, or (name, failure) when it has none,
        ordered by the revision that signed it (then by field order)."""
        ordered = []
        for index, (fq_name, value, field_ref) in enumerate(fields):
            try:
                emb = facts.open_signature(reader, field_ref, fq_name, value)
            except Exception as exc:
                ordered.append((facts.revision_of(reader, field_ref), index, (fq_name, exc)))
            else:
                ordered.append((emb.signed_revision, index, emb))
        ordered.sort(key=lambda item: item[:2])
        return [item for _, _, item in ordered]

    async def _entry(self, item, sig_names: set[str]) -> SignatureReport:
        if isinstance(item, EmbeddedPdfSignature):
            return await self._embedded(item, sig_names)
        fq_name, failure = item
        return _broken(SignatureReport(field=fq_name), failure)

    async def _embedded(self, emb: EmbeddedPdfSignature, sig_names: set[str]) -> SignatureReport:
        report = SignatureReport(field=emb.field_name)
        try:
            status = await self._validate_embedded(emb, report)
        except Exception as exc:
            return _broken(report, failures.explain(
                exc, emb.pkcs7_content, subfilter_supported=facts.subfilter_supported(emb)))

        report.coverage = facts.COVERAGE.get(status.coverage, "partial")
        report.modification_level = facts.MODIFICATION.get(status.modification_level, "other")
        findings = Findings(notes=self._changes_after_signing(emb, report, status, sig_names))
        findings.docmdp_ok = getattr(status, "docmdp_ok", None)
        if report.kind == "timestamp":
            findings.docmdp_ok = policy.timestamp_docmdp_ok(report.modification_level)
        report.docmdp = facts.docmdp(emb, findings.docmdp_ok)
        report.field_lock = facts.field_lock(emb)
        findings.say(policy.docmdp_note(report, findings.docmdp_ok))
        await self._judge(report, status, findings, signer_clock=facts.self_reported(emb))
        return report

    async def _validate_embedded(self, emb: EmbeddedPdfSignature, report: SignatureReport):
        report.signer, report.issuer, report.serial, report.not_valid_after = \
            facts.cert_facts(emb.signer_cert)
        if emb.sig_object_type == "/DocTimeStamp":
            report.kind = "timestamp"
            return await async_validate_pdf_timestamp(emb, validation_context=self.vc)
        return await async_validate_pdf_signature(
            emb, signer_validation_context=self.vc, ts_validation_context=self.vc,
            key_usage_settings=KEY_USAGE)

    @staticmethod
    def _changes_after_signing(emb: EmbeddedPdfSignature, report: SignatureReport, status,
                               sig_names: set[str]) -> list[str]:
        """The form fields changed since the signed revision, read from the file itself
        (pyHanko names no field when a change breaks a field lock), and the notes on them."""
        diff = status.diff_result
        if diff is None:
            return []
        named = set(diff.changed_form_fields or ()) if isinstance(diff, DiffResult) else set()
        if not isinstance(diff, DiffResult):  # SuspiciousModification: pyHanko's reason
            report.error = report.error or f"{type(diff).__name__}: {diff}"[:300]
        report.changed_fields = facts.field_changes(emb.reader, emb.signed_revision,
                                                    also=named - sig_names)
        return policy.changes_after_signing(
            named, sig_names, report.changed_fields,
            lta_updates=status.modification_level == ModificationLevel.LTA_UPDATES)

    # -- trust, time and verdict shared by every kind of entry ---------------------------------

    async def _judge(self, report: SignatureReport, status, findings: Findings, *,
                     signer_clock: datetime | None) -> None:
        report.intact = bool(status.intact)
        report.valid = bool(status.valid)
        report.trusted = bool(status.trusted)
        findings.trust_problem = status.trust_problem_indic
        findings.signing_cert = status.signing_cert
        findings.revoked = policy.is_revoked(findings.trust_problem,
                                             bool(status.revocation_details))
        if report.kind == "timestamp":
            policy.take_document_timestamp(report, status.timestamp)
            findings.reference = status.timestamp
        else:
            await self._signature_time(report, status, findings, signer_clock)
        await self._trust_at_signing_time(report, status, findings)
        policy.conclude(report, findings)

    async def _signature_time(self, report: SignatureReport, status, findings: Findings,
                              signer_clock: datetime | None) -> None:
        tst = getattr(status, "timestamp_validity", None)
        findings.has_timestamp_token = tst is not None
        if tst is not None:
            report.timestamp_authority = facts.cert_facts(tst.signing_cert)[0]
            report.timestamp_time = tst.timestamp
            report.timestamped = bool(tst.intact and tst.valid)
            report.timestamp_trusted = report.timestamped and (
                tst.trusted or await self._trusted_at(
                    tst.signing_cert, tst.timestamp, facts.TSA_USAGE, tst.trust_problem_indic))
            findings.say(policy.timestamp_token_note(report))
        findings.reference, report.signed_at_source = policy.signing_time(
            tst.timestamp if report.timestamped else None, signer_clock)
        report.signed_at = findings.reference
        findings.say(policy.signing_time_note(report.signed_at_source))

    async def _trust_at_signing_time(self, report: SignatureReport, status,
                                     findings: Findings) -> None:
        horizon = getattr(status, "error_time_horizon", None)
        if not policy.worth_rechecking_at_signing_time(report, findings, horizon):
            return
        usage = facts.TSA_USAGE if report.kind == "timestamp" else KEY_USAGE
        if await self._trusted_at(status.signing_cert, findings.reference, usage,
                                  findings.trust_problem):
            report.trusted = True
            findings.trust_problem = None
            if report.not_valid_after and report.not_valid_after < clock.now():
                findings.say(notes.expired_since_signing(report.not_valid_after))

    async def _trusted_at(self, cert: x509.Certificate, moment: datetime, usage,
                          trust_problem) -> bool:
        if not policy.worth_checking_at(trust_problem, moment):
            return False
        vc = self.context_at(policy.aware(moment))
        try:
            result = await generic_cms.validate_cert_usage(
                cert, vc, key_usage_settings=usage,
                paths=vc.path_builder.async_build_paths_lazy(cert))
        except Exception:
            return False
        return result.success_result is not None and result.error_subindic is None

    # -- raw bytes: files pyHanko cannot read, signatures no field points to -------------------

    async def _fallback(self, exc: Exception) -> list[SignatureReport]:
        if not self.raw:
            if isinstance(exc, failures.Encrypted):
                raise ValidationFailed(notes.refused_encrypted(exc.message), field="file",
                                       reason="encrypted") from exc
            raise ValidationFailed(notes.refused_corrupt(notes.structure_reason(exc)),
                                   field="file", reason="corrupt") from exc
        said = notes.structure_unreadable(notes.structure_reason(exc))
        return [await self._raw_entry(raw, orphan=False, first_note=said) for raw in self.raw]

    async def _raw_entry(self, raw: scanner.RawSignature, *, orphan: bool,
                         first_note: str | None = None) -> SignatureReport:
        report = SignatureReport(field=raw.field_name(self.data),
                                 kind="timestamp" if raw.type == "DocTimeStamp" else "signature")
        findings = Findings(notes=[notes.ORPHAN if orphan else first_note],
                            structure_known=False, orphan=orphan,
                            beyond_eof=not raw.ranges_within(len(self.data)))
        try:
            signed_data = self._decode(raw, report)
            if findings.beyond_eof:
                findings.say(notes.BEYOND_EOF)
            report.coverage = raw.coverage(self.data)
            report.modification_level = "none" if report.coverage == "entire_file" else "other"
            status = await self._validate_raw(raw, report, signed_data, findings.beyond_eof)
        except Exception as exc:
            report = _broken(report, failures.explain(exc, raw.contents))
            report.notes = policy.unique(findings.notes + report.notes)
            return report
        await self._judge(report, status, findings, signer_clock=raw.signing_time())
        return report

    @staticmethod
    def _decode(raw: scanner.RawSignature, report: SignatureReport):
        if not any(raw.contents):
            raise failures.EmptyPlaceholder()
        signed_data = cms.ContentInfo.load(raw.contents)["content"]
        extract_signer_info(signed_data)  # exactly one signer, checked before the certificates
        cert_info = generic_cms.extract_certs_for_validation(signed_data)
        report.signer, report.issuer, report.serial, report.not_valid_after = \
            facts.cert_facts(cert_info.signer_cert)
        return signed_data

    async def _validate_raw(self, raw: scanner.RawSignature, report: SignatureReport,
                            signed_data, beyond_eof: bool):
        digest = _RangeDigest(self.data, raw) if not beyond_eof else (lambda algorithm: b"")
        if report.kind == "timestamp":
            return TimestampSignatureStatus(**await generic_cms.validate_tst_signed_data(
                signed_data, self.vc, digest))
        signer_info = extract_signer_info(signed_data)
        algorithm = signer_info["digest_algorithm"]["algorithm"].native
        raw_digest = b"\0" * 32 if beyond_eof else digest(algorithm)
        kwargs = await generic_cms.collect_timing_info(signer_info, self.vc, raw_digest=digest)
        kwargs = await generic_cms.cms_basic_validation(
            signed_data, raw_digest=raw_digest, validation_context=self.vc,
            status_kwargs=kwargs, key_usage_settings=KEY_USAGE)
        status = StandardCMSSignatureStatus(**kwargs)
        # bytes that are not in the file cannot be what was signed
        return replace(status, intact=False) if beyond_eof else status


class _RangeDigest:
    """The digest of a signature's /ByteRange, per algorithm, computed once each."""

    def __init__(self, data: bytes, raw: scanner.RawSignature):
        self.data, self.raw = data, raw
        self.digests: dict[str, bytes] = {}

    def __call__(self, algorithm: str) -> bytes:
        if algorithm not in self.digests:
            md = hashes.Hash(get_pyca_cryptography_hash(algorithm))
            for start, length in self.raw.pairs():
                md.update(self.data[start:start + length])
            self.digests[algorithm] = md.finalize()
        return self.digests[algorithm]


def _broken(report: SignatureReport, failure: Exception) -> SignatureReport:
    """An entry that could not be checked: invalid, with the reason by exception type."""
    report.intact = report.valid = report.trusted = False
    report.verdict = "invalid"
    report.coverage = report.coverage or "partial"
    report.modification_level = "other"
    report.error = _technical(failure)
    report.notes = policy.unique(report.notes + [notes.unchecked(failure)])
    return report


def _technical(failure: Exception) -> str | None:
    """The exception as raised (English, for support staff); nothing for a placeholder."""
    if isinstance(failure, failures.EmptyPlaceholder):
        return None
    cause = failure.cause if isinstance(failure, failures.Unchecked) and failure.cause else failure
    return f"{type(cause).__name__}: {cause}"[:500]
