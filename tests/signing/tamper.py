"""Later changes to a signed PDF, made the way an attacker with a PDF library (or a later
party: a recipient, a long-term archive) would make them: each an incremental update."""
import io
from dataclasses import replace

from pyhanko.pdf_utils import generic, layout
from pyhanko.pdf_utils.generic import pdf_name, pdf_string
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.timestamps import TimeStamper
from pyhanko.sign.validation.dss import DocumentSecurityStore

from docmgr.signing import appearance, engine


def _written(writer: IncrementalPdfFileWriter) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def refill(pdf: bytes, values: dict[str, str]) -> bytes:
    """An incremental update giving form fields new values and a new appearance to match."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    for ref in writer.root["/AcroForm"]["/Fields"]:
        widget = ref.get_object()
        name = str(widget.get("/T"))
        if name not in values:
            continue
        x0, y0, x1, y1 = (float(v) for v in widget["/Rect"])
        style = appearance.field_text_style(13, x1 - x0, y1 - y0)
        stamp = style.create_stamp(writer, layout.BoxConstraints(width=x1 - x0, height=y1 - y0),
                                   {"value": values[name]})
        widget["/V"] = pdf_string(values[name])
        widget["/AP"] = generic.DictionaryObject(
            {pdf_name("/N"): writer.add_object(stamp.as_form_xobject())})
        writer.update_container(widget)
    return _written(writer)


def new_page_content(pdf: bytes) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    page_ref, _ = writer.find_page_for_modification(0)
    page = page_ref.get_object()
    page["/Contents"] = writer.add_object(generic.StreamObject(
        stream_data=b"BT /F1 24 Tf 100 700 Td (99/TB-VP) Tj ET"))
    writer.update_container(page)
    return _written(writer)


def with_annotation(pdf: bytes) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    page_ref, _ = writer.find_page_for_modification(0)
    writer.register_annotation(page_ref, writer.add_object(generic.DictionaryObject({
        pdf_name("/Type"): pdf_name("/Annot"), pdf_name("/Subtype"): pdf_name("/FreeText"),
        pdf_name("/Rect"): generic.ArrayObject(generic.FloatObject(v) for v in (60, 700, 300, 730)),
        pdf_name("/Contents"): pdf_string("Số: 99/TB-VP"), pdf_name("/DA"): pdf_string("0 g"),
    })))
    return _written(writer)


def countersigned(pdf: bytes, cred: engine.Credential, field: str = "ChuKyNoiNhan") -> bytes:
    """A recipient's visible signature in a new field, with pyHanko's plain signer."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    meta = signers.PdfSignatureMetadata(field_name=field,
                                        subfilter=fields.SigSeedSubFilter.PADES)
    style = replace(appearance.text_style(), stamp_text="Đã nhận")
    return signers.PdfSigner(meta, cred.signer(), stamp_style=style, new_field_spec=(
        fields.SigFieldSpec(field, on_page=0, box=(360, 40, 560, 80)))).sign_pdf(
        writer, bytes_reserved=engine.RESERVED).getvalue()


def with_dss_and_timestamp(pdf: bytes, tsa: TimeStamper, roots) -> bytes:
    """What long-term validation appends: a DSS with the signers' certificates, then a
    document timestamp."""
    out = io.BytesIO(pdf)
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    for sig in reader.embedded_signatures:
        DocumentSecurityStore.add_dss(out, sig.pkcs7_content,
                                      certs=[sig.signer_cert, *roots], force_write=True)
    return timestamped(out.getvalue(), tsa)


def timestamped(pdf: bytes, tsa: TimeStamper) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    return signers.PdfTimeStamper(tsa).timestamp_pdf(writer, "sha256").getvalue()
