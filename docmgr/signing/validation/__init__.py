"""Checking the signatures of a PDF (DOMAIN.md §8): integrity, trust, what changed after signing.

``validate_pdf(data, trust)`` answers one ``ValidationReport`` with an entry per signature and
per document timestamp, in signing order. pyHanko does the work (``PdfFileReader(strict=False)``,
its signature validation and the difference analysis of later revisions); this package turns
its statuses into a verdict and Vietnamese sentences a clerk can act on.

Where things are:

* report.py — the report dataclasses and the Vietnamese labels of their values;
* run.py — the orchestration: read, check each signature, gather the facts;
* policy.py — the verdict policy, pure functions (tested without a PDF);
* notes.py — every sentence a report says;
* failures.py — why a signature could not be checked, as exception types;
* facts.py — facts read from pyHanko/asn1crypto objects, tolerant of broken input;
* scanner.py — signature dictionaries found in the raw bytes.

Decisions worth knowing:

* Trust is checked now; when that fails only because a certificate has since expired, the
  chain is checked again as it stood at the signing time — the RFC 3161 timestamp's time when
  the signature has one, otherwise the signer's own clock, which a note then flags.
* Revocation is never fetched (no network): unless a certificate is known to be revoked the
  status is reported as ``unknown``.
* One broken signature gives an ``invalid`` entry; it never fails the whole report.
* A change after the document's last signature that is not validation data (DSS, document
  timestamps) or a further signature makes every signature up to it ``altered``, even when
  pyHanko classes it as permitted form filling or annotations: nobody signed it (API.md;
  issue 12). Each entry names the form fields changed since it was signed, from what to what
  (``changed_fields``), read from the file itself, since pyHanko names none when a change
  breaks a field lock.
* When pyHanko cannot read the file's structure at all, signature dictionaries are found in
  the raw bytes and checked cryptographically over their /ByteRange. What changed after such
  a signature cannot be analysed, so unless it covers the whole file it is not reported valid.
* A signature dictionary that no signature field of the document points to (copied from
  another file, say) is reported as an ``invalid`` entry.
* A file someone sent is checked with ``validate_upload``: in a sandbox worker with memory
  and CPU limits, after a quick look at its raw bytes refuses absurd signature dictionaries
  (scanner.check_bounds). The files the system signed itself are checked in-process.
* Validation is much faster with ``docmgr.signing.pyhanko_patches.install()`` (the app
  factory calls it); it gives the same answers without.
"""
from docmgr.signing.validation.notes import SIGNER_CLOCK as NOTE_SIGNER_CLOCK
from docmgr.signing.validation.report import (
    COVERAGE_LABELS,
    DOCMDP_LABELS,
    KIND_LABELS,
    MODIFICATION_LABELS,
    REVOCATION_LABELS,
    VERDICT_LABELS,
    SignatureReport,
    ValidationReport,
)
from docmgr.signing.validation.run import validate_pdf, validate_upload

__all__ = [
    "COVERAGE_LABELS", "DOCMDP_LABELS", "KIND_LABELS", "MODIFICATION_LABELS",
    "NOTE_SIGNER_CLOCK", "REVOCATION_LABELS", "VERDICT_LABELS", "SignatureReport",
    "ValidationReport", "validate_pdf", "validate_upload",
]
