"""The verdict policy: from what the checks established to a verdict and the notes that explain
it, for one entry and for the file.

Pure functions over plain values — a ``SignatureReport`` and the ``Findings`` beside it — so
each rule can be tested without a PDF (tests/signing/test_verdict_policy.py). run.py gathers
the facts (pyHanko, async) and hands them here; notes.py holds the words.

The verdicts, from best to worst: ``valid`` (intact, unchanged, trusted), ``untrusted``
(intact but the certificate does not chain to a configured root), ``invalid`` (the
signature itself is broken or revoked), ``altered`` (the signed content or what was added
after it is not what was signed). The worst entry is the file's verdict.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pyhanko.sign.ades.report import AdESFailure, AdESIndeterminate

from docmgr.signing.validation import notes
from docmgr.signing.validation.report import FieldChange, SignatureReport, ValidationReport

SEVERITY = {"valid": 0, "untrusted": 1, "invalid": 2, "altered": 3}
VERDICTS = tuple(SEVERITY)

# Trust failures that may vanish when the chain is checked at the signing time instead of now.
TIME_BOUND = frozenset({
    AdESIndeterminate.OUT_OF_BOUNDS_NO_POE, AdESIndeterminate.OUT_OF_BOUNDS_NOT_REVOKED,
    AdESIndeterminate.EXPIRED, AdESIndeterminate.NOT_YET_VALID,
    AdESIndeterminate.CRYPTO_CONSTRAINTS_FAILURE_NO_POE})
REVOKED = frozenset({AdESIndeterminate.REVOKED_NO_POE, AdESIndeterminate.REVOKED_CA_NO_POE,
                     AdESFailure.REVOKED})
WEAK_ALGORITHM = frozenset({AdESIndeterminate.CRYPTO_CONSTRAINTS_FAILURE,
                            AdESIndeterminate.CRYPTO_CONSTRAINTS_FAILURE_NO_POE})


@dataclass
class Findings:
    """What the checks established about one entry, beyond the report's own fields."""
    notes: list[str] = field(default_factory=list)  # gathered so far, in order
    docmdp_ok: bool | None = None  # None: no certification signature to respect
    trust_problem: object = None  # pyHanko's AdES sub-indication when the chain failed
    signing_cert: object = None  # asn1crypto x509.Certificate
    reference: datetime | None = None  # the signing time trust is judged at
    revoked: bool = False
    has_timestamp_token: bool = False  # the signature carries one, good or broken
    beyond_eof: bool = False  # its /ByteRange reaches past the end of the file
    structure_known: bool = True  # False: changes after signing could not be analysed
    orphan: bool = False  # no signature field of the document points to it

    def say(self, note: str | None) -> None:
        if note:
            self.notes.append(note)


# --- one entry -------------------------------------------------------------------------------

def is_altered(report: SignatureReport, docmdp_ok: bool | None) -> bool:
    return (not report.intact or report.coverage == "partial"
            or report.modification_level == "other" or docmdp_ok is False)


def verdict_of(report: SignatureReport, findings: Findings) -> str:
    if is_altered(report, findings.docmdp_ok):
        return "altered"
    if not report.valid or findings.revoked:
        return "invalid"
    # A signature whose own timestamp token is broken stays "untrusted" even when its
    # certificate chains: something in it does not add up.
    time_vouched = (report.kind == "timestamp" or report.timestamped
                    or not findings.has_timestamp_token)
    return "valid" if report.trusted and time_vouched else "untrusted"


def integrity_note(report: SignatureReport, beyond_eof: bool) -> str | None:
    """The first thing to say about a broken entry. (Bytes beyond the end of the file have
    their own note already.)"""
    if not report.intact:
        return None if beyond_eof else notes.HASH_MISMATCH
    if not report.valid:
        return notes.SIGNATURE_MISMATCH
    return None


def change_note(report: SignatureReport, findings: Findings) -> str | None:
    if report.coverage == "partial" and not findings.beyond_eof:
        return notes.PARTIAL_COVERAGE
    if report.modification_level == "other" and findings.structure_known:
        return notes.FORBIDDEN_CHANGES
    return None


def trust_note(report: SignatureReport, findings: Findings) -> str:
    """Why an intact signature is not trusted, as precisely as the sub-indication allows."""
    cert, problem = findings.signing_cert, findings.trust_problem
    issuer = report.issuer or "không rõ"
    if cert is not None and cert.self_signed != "no":
        return notes.SELF_SIGNED
    if problem in WEAK_ALGORITHM:
        return notes.WEAK_ALGORITHM
    if problem in TIME_BOUND:
        return validity_note(cert, findings.reference)
    if problem == AdESIndeterminate.CHAIN_CONSTRAINTS_FAILURE:
        return notes.chain_constraints_failed(issuer)
    return notes.no_path_to_a_root(issuer)


def validity_note(cert, reference: datetime | None) -> str:
    """The certificate was out of its validity period — before, at or after signing?"""
    if reference is not None and cert is not None:
        reference = aware(reference)
        if cert.not_valid_after < reference:
            return notes.expired_before_signing(cert.not_valid_after)
        if cert.not_valid_before > reference:
            return notes.not_yet_valid_at_signing(cert.not_valid_before)
    return notes.EXPIRED_WITHOUT_SIGNING_TIME


def conclude(report: SignatureReport, findings: Findings) -> None:
    """Set the verdict, revocation and notes of an entry whose facts are all in."""
    report.revocation = "revoked" if findings.revoked else "unknown"
    report.verdict = verdict_of(report, findings)
    report.notes = explanation(report, findings)
    if findings.orphan:  # whatever its bytes say, it does not sign this document
        report.verdict = "invalid"


def explanation(report: SignatureReport, findings: Findings) -> list[str]:
    """The notes in the order a reader needs them: what is broken, what was found on the
    way (changes, time), what changed after signing, then trust and revocation."""
    untrusted = report.valid and report.intact and not report.trusted
    return unique([
        integrity_note(report, findings.beyond_eof),
        *findings.notes,
        change_note(report, findings),
        trust_note(report, findings) if untrusted else None,
        notes.REVOKED if findings.revoked else None,
        notes.REVOCATION_NOT_CHECKED if report.verdict == "valid" and report.kind == "signature"
        else None,
    ])


# --- time and trust --------------------------------------------------------------------------

def is_revoked(trust_problem, has_revocation_details: bool) -> bool:
    return has_revocation_details or trust_problem in REVOKED


def worth_checking_at(trust_problem, moment: datetime | None) -> bool:
    """Whether checking the chain at ``moment`` instead of now could succeed."""
    return trust_problem in TIME_BOUND and moment is not None


def worth_rechecking_at_signing_time(report: SignatureReport, findings: Findings,
                                     error_time_horizon: datetime | None) -> bool:
    """Expired (or not yet valid) now — could it have been valid when signed?"""
    problem, reference = findings.trust_problem, findings.reference
    if (problem == AdESIndeterminate.CRYPTO_CONSTRAINTS_FAILURE_NO_POE
            and not (reference and error_time_horizon and reference < error_time_horizon)):
        return False  # the algorithm was already banned when it was used
    return (not report.trusted and report.intact and report.valid
            and worth_checking_at(problem, reference))


def signing_time(vouched_timestamp: datetime | None, signer_clock: datetime | None
                 ) -> tuple[datetime | None, str | None]:
    """The moment a signature is judged at and where it comes from: its timestamp token's
    when the token is intact and valid, else the signer's own clock (the /M entry)."""
    if vouched_timestamp is not None:
        return vouched_timestamp, "timestamp"
    if signer_clock is not None:
        return signer_clock, "signer_clock"
    return None, None


def signing_time_note(source: str | None) -> str | None:
    return {"signer_clock": notes.SIGNER_CLOCK, None: notes.NO_SIGNING_TIME}.get(source)


def timestamp_token_note(report: SignatureReport) -> str | None:
    """For a signature that carries a timestamp token: what is wrong with the token."""
    if not report.timestamped:
        return notes.TIMESTAMP_BROKEN
    if not report.timestamp_trusted:
        return notes.timestamp_authority_untrusted(report.timestamp_authority)
    return None


def take_document_timestamp(report: SignatureReport, moment: datetime | None) -> None:
    """A /DocTimeStamp is its own signing time and its own authority."""
    report.timestamp_time = report.signed_at = moment
    report.signed_at_source = "timestamp"
    report.timestamped = report.intact and report.valid
    report.timestamp_trusted = report.trusted
    report.timestamp_authority = report.signer


# --- changes after signing -------------------------------------------------------------------

def changes_after_signing(changed: Iterable[str], signature_fields: set[str],
                          field_changes: list[FieldChange], lta_updates: bool) -> list[str]:
    """The notes saying what was added after a signature: later signatures (``changed``:
    the fields pyHanko saw change), each form field changed and from what to what
    (``field_changes``); ``lta_updates``: pyHanko classed the additions as validation data."""
    later = sorted(name for name in changed if name in signature_fields)
    said = []
    if later:
        said.append(notes.later_signatures(later))
    if field_changes:
        said.append(notes.filled_fields(field_changes))
    if lta_updates and not later:
        said.append(notes.LTA_UPDATES_ONLY)
    return said


def unsigned_changes(report: SignatureReport) -> list[str]:
    """What changed after ``report``'s signature other than validation data (DSS, document
    timestamps) and later signatures — asked of the document's last signature, after which
    no signature can vouch for a change."""
    said = [notes.field_change(change) for change in report.changed_fields]
    if report.modification_level == "annotations":
        said.append(notes.ANNOTATIONS_ADDED)
    return said


def after_last_signature(entries: list[SignatureReport]) -> str | None:
    """A change after the last signature that is not validation data or a further signature
    makes every entry up to that signature ``altered`` (API.md), however pyHanko classed it
    (form filling, annotations). Document timestamps after it keep their verdict: they only
    say when the file existed as it is. Returns the note said, if any."""
    last = max((i for i, e in enumerate(entries) if e.kind == "signature"), default=None)
    if last is None:
        return None
    what = unsigned_changes(entries[last])
    if not what:
        return None
    said = notes.unsigned_changes(what)
    for entry in entries[:last + 1]:
        condemn(entry, said)
    return said


def condemn(report: SignatureReport, note: str) -> None:
    """Mark an already concluded entry ``altered`` because of ``note``."""
    report.verdict = "altered"
    report.unsigned_changes = True
    report.notes = unique([note, *(n for n in report.notes if n != notes.REVOCATION_NOT_CHECKED)])


def timestamp_docmdp_ok(modification_level: str) -> bool:
    """pyHanko reports no DocMDP check for document timestamps; what changed decides."""
    return modification_level != "other"


def docmdp_note(report: SignatureReport, docmdp_ok: bool | None) -> str | None:
    """Changes beyond what a certification signature allows, when nothing else flags them."""
    if report.docmdp is None or docmdp_ok is not False or report.modification_level == "other":
        return None
    return notes.beyond_docmdp(report.docmdp["label"])


# --- the file --------------------------------------------------------------------------------

def worst(verdicts: Iterable[str]) -> str:
    return max(verdicts, key=SEVERITY.__getitem__)


def summarise(entries: list[SignatureReport], structure_readable: bool = True,
              unsigned_changes: str | None = None) -> ValidationReport:
    """The file's report; ``unsigned_changes``: the note of ``after_last_signature``, said
    in the summary too since it is what a reader must know first."""
    if not entries:
        return ValidationReport([], notes.NO_SIGNATURE, "unsigned")
    verdict = worst(e.verdict for e in entries)
    counts = [_count(kind, [e for e in entries if e.kind == kind])
              for kind in ("signature", "timestamp")]
    summary = notes.summary(verdict, [c for c in counts if c], structure_readable)
    if unsigned_changes:
        summary += " " + unsigned_changes
    return ValidationReport(entries, summary, verdict, structure_readable=structure_readable)


def _count(kind: str, entries: list[SignatureReport]) -> str | None:
    if not entries:
        return None
    by_verdict = [(v, n) for v in VERDICTS if (n := sum(e.verdict == v for e in entries))]
    return notes.counted(len(entries), kind, by_verdict)


# --- small helpers ---------------------------------------------------------------------------

def unique(items: list[str | None]) -> list[str]:
    """Without repeats or empty items, first occurrence kept."""
    return list(dict.fromkeys(item for item in items if item))


def aware(moment: datetime) -> datetime:
    """pyHanko hands back naive datetimes in UTC in places."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)

