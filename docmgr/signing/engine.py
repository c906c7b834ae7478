"""PAdES signing with pyHanko, in the order ND30 prescribes.

1. ``prepare``: before anyone signs, add the fields issuing will fill — number, date —
   and both signature fields (personal, organisation), each with its field lock (below).
2. ``sign_personal``: the competent person's approval signature, showing their
   handwritten signature in the signature block.
3. ``fill_and_seal``: the văn thư fills number and date into their fields and signs the
   organisation's field with the seal image.
4. ``sign_text``: a text-only organisation signature at the top right of page 1, for
   attachments in separate files and electronic copies (SAO Y, SAO LỤC, TRÍCH SAO).

Why locks and no certification (issue 12). A certification with DocMDP "fill forms" let
anyone change the number and date after issue — validators class it as form filling — and
it forbids any later signature field, so an electronic copy or a recipient's countersignature
broke the leader's signature. Instead each signature field carries a ``/Lock`` (FieldMDP
"Include") that pyHanko copies into the signature:

* the leader's lock names every field the draft had, and the leader's own field — everything
  except the number, the date and the organisation's field, which issuing still fills;
* the organisation's lock names every field, the number and date included.

Any later change to a locked field is then a violation for pyHanko's difference analysis,
while a *new* signature field (a copy, a countersignature, a document timestamp) stays
permitted: it is not in either list. (FieldMDP "Exclude" would lock new fields too, visible
ones included — measured: a countersignature then breaks the leader's signature.) Content,
annotation and structure changes remain forbidden after any signature by pyHanko's policy.
Documents signed before this change (certified, no locks) still validate as they did.

Every signature carries ``/M`` in the office's zone (+07:00), and ``/Reason`` and
``/Location`` when the caller gives them.

Everything here works on bytes and returns new bytes: files are never changed in
place, and each signature is an incremental update on the previous revision.

The public functions are the error boundary of signing: whatever goes wrong inside them
leaves as a ``SigningError`` (a DomainError with a Vietnamese message and a status, see
errors.py), so callers handle one type and people are told what happened.
"""
import functools
import io
import logging
from dataclasses import dataclass, replace

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from PIL import Image
from pyhanko.pdf_utils import generic, layout
from pyhanko.pdf_utils.font.api import FontEngineFactory
from pyhanko.pdf_utils.generic import pdf_name, pdf_string
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import init_xobject_dictionary
from pyhanko.sign import fields, signers
from pyhanko.sign.timestamps import TimeStamper
from pyhanko_certvalidator.registry import SimpleCertificateStore

from docmgr.core import clock
from docmgr.signing import appearance
from docmgr.signing.errors import DocumentNotSignable, SigningError, from_exception
from docmgr.signing.placement import Box
from docmgr.signing.pyhanko_patches import LoadedKeySigner, PdfSignerAt

FIELD_PERSONAL = "ChuKyNguoiCoThamQuyen"
FIELD_ORG = "ChuKyCoQuan"
FIELD_NUMBER = "SoKyHieu"
FIELD_DATE = "NgayBanHanh"
FIELD_TEXT_PREFIX = "ChuKySo"
# Generous, so pyHanko skips its size-estimating dry run; more room for a timestamp token.
RESERVED = 12 * 1024
RESERVED_WITH_TIMESTAMP = 24 * 1024
SEAL_MARGIN = 12.0
TEXT_STAMP_W, TEXT_STAMP_H, TEXT_STAMP_MARGIN = 210, 42, 12  # ints: pyHanko layouts use Fraction

log = logging.getLogger(__name__)


def _signing_boundary(function):
    """Translate whatever escapes ``function`` into a SigningError, by type (errors.py)."""
    @functools.wraps(function)
    def boundary(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except SigningError:
            raise
        except Exception as exc:
            error = from_exception(exc)
            if error.status >= 500:
                log.exception("signing failed in %s", function.__name__)
            else:
                log.info("signing refused in %s: %s: %s", function.__name__,
                         type(exc).__name__, exc)
            raise error from exc
    return boundary


@dataclass(frozen=True)
class Credential:
    """An unlocked key with its certificate and issuing chain, for one signing call."""
    certificate: asn1_x509.Certificate
    private_key: asn1_keys.PrivateKeyInfo
    chain: tuple[asn1_x509.Certificate, ...] = ()

    @classmethod
    def from_der(cls, certificate: bytes, pkcs8: bytes, chain: list[bytes]) -> "Credential":
        return cls(asn1_x509.Certificate.load(certificate), asn1_keys.PrivateKeyInfo.load(pkcs8),
                   tuple(asn1_x509.Certificate.load(c) for c in chain))

    def signer(self) -> signers.SimpleSigner:
        return LoadedKeySigner(signing_cert=self.certificate, signing_key=self.private_key,
                               cert_registry=SimpleCertificateStore.from_certs(self.chain))


def _writer(pdf: bytes) -> IncrementalPdfFileWriter:
    return IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)


def _output(writer: IncrementalPdfFileWriter) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def seal_box(personal: Box, diameter_pt: float) -> Box:
    """ND30 ô 8: the seal over the left part of the personal signature, covering about a
    third of it, vertically centred on it."""
    right = personal.x0 + personal.width / 3
    middle = (personal.y0 + personal.y1) / 2
    return Box(personal.page, right - diameter_pt, middle - diameter_pt / 2, right,
               middle + diameter_pt / 2)


def place_block(personal: Box, seal_diameter_pt: float) -> tuple[Box, Box]:
    """The personal signature box and the seal box beside it, moved right as a whole if
    the seal would leave the page on the left."""
    seal = seal_box(personal, seal_diameter_pt)
    if seal.x0 < SEAL_MARGIN:
        shift = SEAL_MARGIN - seal.x0
        personal = Box(personal.page, personal.x0 + shift, personal.y0, personal.x1 + shift,
                       personal.y1)
        seal = seal_box(personal, seal_diameter_pt)
    return personal, seal


@_signing_boundary
def field_names(pdf: bytes, *, signatures: bool = True) -> set[str]:
    """The names of the form's top-level fields; without the signature fields when
    ``signatures`` is False."""
    root = PdfFileReader(io.BytesIO(pdf), strict=False).root
    if "/AcroForm" not in root:
        return set()
    found = (ref.get_object() for ref in root["/AcroForm"].get("/Fields", []))
    return {str(node["/T"]) for node in found if "/T" in node
            and (signatures or node.get("/FT") != "/Sig")}


@dataclass(frozen=True)
class Purpose:
    """What a signature's ``/Reason`` and ``/Location`` say (Vietnamese, shown by readers)."""
    reason: str | None = None
    location: str | None = None


def field_locks(existing: set[str], issuing: list[str]
                ) -> tuple[fields.FieldMDPSpec, fields.FieldMDPSpec]:
    """The locks of the personal and the organisation's field. ``existing``: the form fields
    the draft has; ``issuing``: the number and date fields issuing will fill. FieldMDP names
    lock whole subtrees, so top-level names are enough."""
    draft = sorted(existing - {FIELD_PERSONAL, FIELD_ORG, *issuing})
    include = fields.FieldMDPAction.INCLUDE
    return (fields.FieldMDPSpec(include, fields=[*draft, FIELD_PERSONAL]),
            fields.FieldMDPSpec(include, fields=[*draft, FIELD_PERSONAL, *issuing, FIELD_ORG]))


@_signing_boundary
def prepare(pdf: bytes, personal: Box, *, seal_diameter_pt: float, number: Box | None = None,
            date: Box | None = None) -> bytes:
    """Add the signature fields with their locks and, where known and not there yet, the
    number and date fields."""
    personal, seal = place_block(personal, seal_diameter_pt)
    present = field_names(pdf)
    added = {name: box for name, box in ((FIELD_NUMBER, number), (FIELD_DATE, date))
             if box is not None and name not in present}
    issuing = [name for name in (FIELD_NUMBER, FIELD_DATE) if name in present or name in added]
    # A signature field the draft already has is a place for a later signer: left open.
    personal_lock, org_lock = field_locks(field_names(pdf, signatures=False), issuing)
    writer = _writer(pdf)
    for name, box, lock in ((FIELD_PERSONAL, personal, personal_lock),
                            (FIELD_ORG, seal, org_lock)):
        fields.append_signature_field(writer, fields.SigFieldSpec(
            name, on_page=box.page, box=(box.x0, box.y0, box.x1, box.y1),
            field_mdp_spec=lock))
    for name, box in added.items():
        _add_text_field(writer, name, box)
    return _output(writer)


def _add_text_field(writer: IncrementalPdfFileWriter, name: str, box: Box) -> None:
    blank = writer.add_object(init_xobject_dictionary(b"", box.width, box.height))
    page_ref, _ = writer.find_page_for_modification(box.page)
    widget = writer.add_object(generic.DictionaryObject({
        pdf_name("/Type"): pdf_name("/Annot"),
        pdf_name("/Subtype"): pdf_name("/Widget"),
        pdf_name("/FT"): pdf_name("/Tx"),
        pdf_name("/T"): pdf_string(name),
        pdf_name("/Ff"): generic.NumberObject(1),  # read-only for people; issuing fills it
        pdf_name("/F"): generic.NumberObject(4),  # printed
        pdf_name("/Rect"): generic.ArrayObject(
            generic.FloatObject(v) for v in (box.x0, box.y0, box.x1, box.y1)),
        pdf_name("/P"): page_ref,
        pdf_name("/DA"): pdf_string("/Helv 0 Tf 0 g"),
        pdf_name("/AP"): generic.DictionaryObject({pdf_name("/N"): blank}),
    }))
    writer.register_annotation(page_ref, widget)
    form = writer.root["/AcroForm"]
    form["/Fields"].append(widget)
    writer.update_container(form["/Fields"])


def _sign(writer, credential: Credential, field: str, style, purpose: Purpose, *,
          timestamper: TimeStamper | None = None, new_field_box: Box | None = None) -> bytes:
    """An approval signature in ``field``; its field lock, if any, comes from the field."""
    meta = signers.PdfSignatureMetadata(
        field_name=field, reason=purpose.reason, location=purpose.location,
        subfilter=fields.SigSeedSubFilter.PADES, md_algorithm="sha256")
    new_field_spec = None
    if new_field_box is not None:
        b = new_field_box
        new_field_spec = fields.SigFieldSpec(field, on_page=b.page, box=(b.x0, b.y0, b.x1, b.y1))
    pdf_signer = PdfSignerAt(meta, credential.signer(), stamp_style=style,
                             timestamper=timestamper, new_field_spec=new_field_spec,
                             signing_time=clock.local(clock.now()))
    out = pdf_signer.sign_pdf(
        writer, existing_fields_only=new_field_box is None,
        bytes_reserved=RESERVED_WITH_TIMESTAMP if timestamper else RESERVED,
        appearance_text_params=None)
    return out.getvalue()


def _require_empty_signature_field(pdf: bytes, name: str) -> None:
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    for sig_field in fields.enumerate_sig_fields(reader, filled_status=None):
        field_name, value, _ = sig_field
        if field_name == name:
            if value is not None:
                raise DocumentNotSignable(f"Ô chữ ký {name} đã được ký.")
            return
    raise DocumentNotSignable(f"Văn bản chưa có ô chữ ký {name}; cần chuẩn bị trước khi ký.")


@_signing_boundary
def sign_personal(pdf: bytes, credential: Credential, picture: Image.Image, *,
                  purpose: Purpose = Purpose(), timestamper: TimeStamper | None = None) -> bytes:
    """The approval signature in the personal field (locked as ``prepare`` set it), showing
    ``picture``."""
    _require_empty_signature_field(pdf, FIELD_PERSONAL)
    return _sign(_writer(pdf), credential, FIELD_PERSONAL, appearance.image_style(picture),
                 purpose, timestamper=timestamper)


@_signing_boundary
def fill_and_seal(pdf: bytes, credential: Credential, seal_picture: Image.Image,
                  values: dict[str, str], *, font_size: float = 13,
                  purpose: Purpose = Purpose(), timestamper: TimeStamper | None = None) -> bytes:
    """Fill the number/date fields and sign the organisation field with the seal; its lock
    (from ``prepare``) then covers the number and date."""
    _require_empty_signature_field(pdf, FIELD_ORG)
    writer = _writer(pdf)
    if values:
        _fill_text_fields(writer, values, font_size)
    return _sign(writer, credential, FIELD_ORG, appearance.image_style(seal_picture), purpose,
                 timestamper=timestamper)


class _OneFontSubset(FontEngineFactory):
    """Hands every stamp of one revision the same font engine, so the number and the date
    share one embedded font subset: pyHanko otherwise embeds a subset per stamp, and
    fontTools subsetting and serialising it is the costliest step of filling the fields."""

    def __init__(self, factory: FontEngineFactory):
        self.factory = factory
        self.engine = None

    def create_font_engine(self, writer, obj_stream=None):
        if self.engine is None:
            self.engine = self.factory.create_font_engine(writer, obj_stream)
        return self.engine


def _fill_text_fields(writer: IncrementalPdfFileWriter, values: dict[str, str],
                      font_size: float) -> None:
    remaining = dict(values)
    font = None
    for ref in writer.root["/AcroForm"]["/Fields"]:
        widget = ref.get_object()
        name = str(widget.get("/T"))
        if name not in remaining:
            continue
        x0, y0, x1, y1 = (float(v) for v in widget["/Rect"])
        width, height = x1 - x0, y1 - y0
        value = remaining.pop(name)
        style = appearance.field_text_style(font_size, width, height)
        font = font or _OneFontSubset(style.text_box_style.font)
        style = replace(style, text_box_style=replace(style.text_box_style, font=font))
        stamp = style.create_stamp(writer, layout.BoxConstraints(width=width, height=height),
                                   {"value": value})
        widget["/V"] = pdf_string(value)
        widget["/AP"] = generic.DictionaryObject(
            {pdf_name("/N"): writer.add_object(stamp.as_form_xobject())})
        writer.update_container(widget)
    if remaining:
        raise DocumentNotSignable("Văn bản thiếu ô: " + ", ".join(sorted(remaining)))


@_signing_boundary
def sign_text(pdf: bytes, credential: Credential, lines: list[str], *,
              purpose: Purpose = Purpose(), timestamper: TimeStamper | None = None) -> bytes:
    """An organisation signature shown as text (no image) at the top right of page 1."""
    width, height = (int(v) for v in _page_size(pdf, 0))
    taken = field_names(pdf)
    index = 1
    while f"{FIELD_TEXT_PREFIX}{index}" in taken:
        index += 1
    box = Box(0, width - TEXT_STAMP_MARGIN - TEXT_STAMP_W,
              height - TEXT_STAMP_MARGIN - TEXT_STAMP_H, width - TEXT_STAMP_MARGIN,
              height - TEXT_STAMP_MARGIN)
    style = replace(appearance.text_style(), stamp_text="\n".join(lines))
    return _sign(_writer(pdf), credential, f"{FIELD_TEXT_PREFIX}{index}", style, purpose,
                 timestamper=timestamper, new_field_box=box)


def _page_size(pdf: bytes, index: int) -> tuple[float, float]:
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    node = reader.find_page_for_modification(index)[0].get_object()
    while "/MediaBox" not in node and "/Parent" in node:  # the box may be inherited
        node = node["/Parent"]
    x0, y0, x1, y1 = (float(v) for v in node["/MediaBox"])
    return x1 - x0, y1 - y0
