"""Facts read from pyHanko and asn1crypto objects, in our vocabulary.

Hostile and broken files are the normal case here, so every reader either answers or says
"unknown" (None) — except ``unlock`` and ``open_signature``, which raise typed failures
(failures.py) for the orchestration to report.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from asn1crypto import x509
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.crypt import AuthStatus, StandardSecurityHandler
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.fields import MDPPerm, SigSeedSubFilter
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.status import SignatureCoverageLevel, TimestampSignatureStatus

from docmgr.signing.validation import failures, notes
from docmgr.signing.validation.report import DOCMDP_LABELS, FieldChange

MODIFICATION = {
    ModificationLevel.NONE: "none",
    ModificationLevel.LTA_UPDATES: "none",  # only validation data (DSS) or timestamps added
    ModificationLevel.FORM_FILLING: "form_filling",
    ModificationLevel.ANNOTATIONS: "annotations",
    ModificationLevel.OTHER: "other",
}
COVERAGE = {
    SignatureCoverageLevel.ENTIRE_FILE: "entire_file",
    SignatureCoverageLevel.ENTIRE_REVISION: "entire_revision",
    SignatureCoverageLevel.CONTIGUOUS_BLOCK_FROM_START: "partial",
    SignatureCoverageLevel.UNCLEAR: "partial",
}
DOCMDP = {MDPPerm.NO_CHANGES: "no_changes", MDPPerm.FILL_FORMS: "fill_forms",
          MDPPerm.ANNOTATE: "annotate"}
TSA_USAGE = TimestampSignatureStatus.default_usage_constraints()
# What pyHanko 0.38 validates (async_validate_pdf_signature / _timestamp), by /Type.
SUPPORTED_SUBFILTERS = {
    "/Sig": {SigSeedSubFilter.ADOBE_PKCS7_DETACHED, SigSeedSubFilter.PADES,
             SigSeedSubFilter.PBAD_PADES},
    "/DocTimeStamp": {SigSeedSubFilter.ETSI_RFC3161},
}
UNKNOWN_REVISION = 1 << 30  # sorts after every real one
# Bounds for walking a (possibly hostile) field tree.
MAX_FIELDS, MAX_FIELD_DEPTH, MAX_VALUE_CHARS = 5000, 32, 200


# --- the file ----------------------------------------------------------------------------------

def unlock(reader: PdfFileReader) -> None:
    """Open a file encrypted with an empty user password (its signature dictionaries are
    readable then); raise ``Encrypted`` for any other encryption and
    ``EncryptionUnreadable`` when the encryption settings themselves are broken."""
    try:
        handler = reader.security_handler
        if handler is None:
            return
        if not isinstance(handler, StandardSecurityHandler):
            raise failures.Encrypted(notes.ENCRYPTED_FOR_RECIPIENT)
        opened = reader.decrypt(b"").status != AuthStatus.FAILED
    except failures.Encrypted:
        raise
    except Exception as exc:
        raise failures.EncryptionUnreadable(exc) from exc
    if not opened:
        raise failures.Encrypted(notes.ENCRYPTED_WITH_PASSWORD)


# --- one signature -----------------------------------------------------------------------------

def open_signature(reader: PdfFileReader, field_ref, fq_name: str, value
                   ) -> EmbeddedPdfSignature:
    """pyHanko's view of a filled signature field; a typed reason when it cannot have one."""
    try:
        return EmbeddedPdfSignature(reader, field_ref, fq_name)
    except Exception as exc:
        failure = (failures.EmptyPlaceholder() if is_placeholder(value)
                   else failures.explain(exc, contents_der(value)))
        if failure is exc:
            raise
        raise failure from exc


def is_placeholder(value) -> bool:
    """Only the zeros reserved for a signature that was never written."""
    try:
        contents = value.get_object().raw_get("/Contents")
    except Exception:
        return False
    return isinstance(contents, generic.ByteStringObject) and not any(bytes(contents))


def contents_der(value) -> bytes | None:
    try:
        return value.get_object().raw_get("/Contents").original_bytes
    except Exception:
        return None


def subfilter_supported(emb: EmbeddedPdfSignature) -> bool:
    try:
        subfilter = SigSeedSubFilter(emb.sig_object.get("/SubFilter"))
        return subfilter in SUPPORTED_SUBFILTERS.get(emb.sig_object_type, ())
    except Exception:
        return False


def revision_of(reader: PdfFileReader, field_ref) -> int:
    """The revision that wrote the field's signature, for the signing order."""
    try:
        sig_field = field_ref.get_object()
        return reader.xrefs.get_last_change(sig_field.raw_get("/V").reference)
    except Exception:
        return UNKNOWN_REVISION


def byte_range(value) -> tuple | None:
    try:
        return tuple(int(v) for v in value.get_object().raw_get("/ByteRange").get_object())
    except Exception:
        return None


def docmdp(emb: EmbeddedPdfSignature, ok: bool | None) -> dict | None:
    """The DocMDP permission of a certification signature, as the report shows it."""
    try:
        level = emb.docmdp_level
    except Exception:
        return None
    if level is None:
        return None
    return {"permission": DOCMDP.get(level, str(level)),
            "label": DOCMDP_LABELS.get(DOCMDP.get(level), str(level)),
            "certification": is_certification(emb.sig_object),
            "ok": bool(ok)}


def field_lock(emb: EmbeddedPdfSignature) -> dict | None:
    """The form fields the signature locks (FieldMDP): {"action": "all" | "include" |
    "exclude", "fields": [...]}, or None."""
    try:
        lock = emb.fieldmdp
    except Exception:
        return None
    if lock is None:
        return None
    return {"action": lock.action.name.lower(), "fields": list(lock.fields or ())}


def is_certification(sig_object) -> bool:
    try:
        for ref in sig_object.get("/Reference", ()):
            if ref.get_object().get("/TransformMethod") == "/DocMDP":
                return True
    except Exception:
        pass
    return False


def self_reported(emb: EmbeddedPdfSignature) -> datetime | None:
    try:
        return emb.self_reported_timestamp
    except Exception:
        return None


# --- certificates ------------------------------------------------------------------------------

def cert_facts(cert: x509.Certificate | None):
    """(subject, issuer, serial in hex, not valid after) — what a report names."""
    if cert is None:
        return None, None, None, None
    return (common_name(cert.subject), common_name(cert.issuer),
            format(cert.serial_number, "X"), cert.not_valid_after)


def common_name(name: x509.Name) -> str:
    try:
        value = name.native.get("common_name")
    except Exception:
        value = None
    if isinstance(value, (list, tuple)):
        value = value[-1] if value else None
    if value:
        return str(value)
    try:
        return name.human_friendly
    except Exception:
        return "(không rõ)"


# --- form fields -------------------------------------------------------------------------------

@dataclass(frozen=True)
class FieldState:
    """A terminal, non-signature form field as a reader shows it: its value as text and a
    digest of its widgets' appearance streams."""
    value: str | None
    appearance: str


def field_changes(reader: PdfFileReader, revision: int, also: set[str] = frozenset()
                  ) -> list[FieldChange]:
    """The form fields whose value or appearance differs between ``revision`` and the file
    as it is now, and the fields ``also`` names (pyHanko saw them change) if the comparison
    missed them. Signature fields are not form fields here: they are signatures."""
    try:
        before = form_fields(reader.get_historical_resolver(revision).root)
        after = form_fields(reader.root)
    except Exception:
        return []
    changes = []
    for name in sorted(set(before) | set(after) | set(also)):
        old, new = before.get(name), after.get(name)
        if old == new and name not in also:
            continue
        old_value = old.value if old else None
        new_value = new.value if new else None
        if old is None and new is None:
            what = "other"  # named by pyHanko only, e.g. an empty signature field added
        elif old is not None and new is not None and old_value == new_value:
            what = "appearance"
        else:
            what = "value"
        changes.append(FieldChange(name, old_value, new_value, what))
    return changes


def form_fields(root) -> dict[str, FieldState]:
    """Every terminal non-signature field of the form under ``root``, by qualified name."""
    found: dict[str, FieldState] = {}
    try:
        top = root["/AcroForm"]["/Fields"]
    except (KeyError, TypeError):
        return found
    stack = [(ref, "", None, None, 0) for ref in reversed(list(top))]
    seen = set()
    while stack and len(found) < MAX_FIELDS:
        ref, parent, kind, value, depth = stack.pop()
        key = getattr(ref, "reference", None) or id(ref)
        if key in seen or depth > MAX_FIELD_DEPTH:
            continue
        seen.add(key)
        node = ref.get_object()
        if not isinstance(node, generic.DictionaryObject):
            continue
        partial = node.get("/T")
        name = f"{parent}.{partial}" if parent and partial is not None else (
            str(partial) if partial is not None else parent)
        kind = node.get("/FT", kind)
        value = node.raw_get("/V") if "/V" in node else value
        kids = [kid for kid in node.get("/Kids", ()) if "/T" in kid.get_object()]
        if kids:
            stack.extend((kid, name, kind, value, depth + 1) for kid in reversed(kids))
        elif name and kind != "/Sig":
            found[name] = FieldState(_text(value), _appearance_digest(node))
    return found


def _text(value) -> str | None:
    """A field value as a person reads it: text, a choice (name), or choices."""
    if value is None:
        return None
    value = value.get_object()
    if isinstance(value, generic.NameObject):
        text = str(value)[1:]
    elif isinstance(value, generic.ArrayObject):
        text = ", ".join(_text(item) or "" for item in value)
    elif isinstance(value, generic.ByteStringObject):
        text = bytes(value).decode("latin-1")
    else:
        text = str(value)
    return text[:MAX_VALUE_CHARS] if text else None


def _appearance_digest(node) -> str:
    """A digest of the normal appearance streams of the field's widgets (the field itself
    and its widget kids), so that a new picture over an unchanged value is seen."""
    digest = hashlib.sha256()
    widgets = [node] + [kid.get_object() for kid in node.get("/Kids", ())]
    for widget in widgets:
        try:
            normal = widget["/AP"]["/N"]
        except (KeyError, TypeError):
            continue
        streams = [normal] if isinstance(normal, generic.StreamObject) else [
            normal[state] for state in sorted(normal)] if isinstance(
            normal, generic.DictionaryObject) else []
        for stream in streams:
            if isinstance(stream, generic.StreamObject):
                digest.update(stream.encoded_data or b"")
                digest.update(repr(sorted(stream.items())).encode("utf-8", "replace")[:4096])
    return digest.hexdigest()
