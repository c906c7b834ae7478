"""Small PDFs with the features the upload check judges (docmgr/core/pdf_risks.py): actions,
links, embedded files, an owner password. Built with the shared writer (demo.pdf_from_objects),
which packs chosen objects into a compressed object stream."""
import io

from pyhanko.pdf_utils.crypt.permissions import StandardPermissions
from pyhanko.pdf_utils.crypt.standard import StandardSecurityHandler
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import copy_into_new_writer

from docmgr.demo import nd30_draft_pdf, pdf_from_objects


def document(*extra: bytes, catalog: bytes = b"", page: bytes = b"", packed=()) -> bytes:
    """One page; ``extra`` objects are numbered from 4."""
    return pdf_from_objects(
        b"<< /Type /Catalog /Pages 2 0 R " + catalog + b" >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] " + page + b" >>",
        *extra, packed=packed)


def link(action: bytes) -> bytes:
    """A link annotation on the page running ``action`` when clicked."""
    return b"<< /Type /Annot /Subtype /Link /Rect [50 50 200 80] /Border [0 0 0] /A " \
           + action + b" >>"


def embedded_stream(data: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Type /EmbeddedFile /Length %d %s >>\nstream\n" % (len(data), extra) + data \
        + b"\nendstream"


def attached(name: bytes, data: bytes, *, packed=(), spec_extra: bytes = b"",
             stream_extra: bytes = b"") -> bytes:
    """A document with one file in its /EmbeddedFiles name tree: the file specification
    is object 4, the file's stream object 5."""
    return document(
        b"<< /Type /Filespec /F " + name + b" " + spec_extra + b" /EF << /F 5 0 R >> >>",
        embedded_stream(data, stream_extra),
        catalog=b"/Names << /EmbeddedFiles << /Names [(f) 4 0 R] >> >>", packed=packed)


PROGRAM = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(48)
TEXT = b"Danh sach can bo du hop\n"


def owner_password_only(pdf: bytes) -> bytes:
    """``pdf`` encrypted as "restrict editing" tools do: an empty user password, an owner
    password and permissions that allow printing only."""
    writer = copy_into_new_writer(PdfFileReader(io.BytesIO(pdf)))
    allowed = (StandardPermissions.ALLOW_PRINTING | StandardPermissions.ALLOW_HIGH_QUALITY_PRINTING
               | StandardPermissions.TOLERATE_MISSING_PDF_MAC)
    writer._assign_security_handler(StandardSecurityHandler.build_from_pw(
        "chu-so-huu", "", perms=allowed, pdf_mac=False))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def protected_draft_pdf() -> bytes:
    """An ND30 draft (signer Pham Minh Quang) with an owner password."""
    return owner_password_only(nd30_draft_pdf(
        org="UBND tinh Quang Ngai", type_title="Cong van", subject="Ve viec bao cao",
        signer_title="Chu tich", signer_name="Pham Minh Quang"))


def with_embedded_file(pdf: bytes, name: str, data: bytes) -> bytes:
    """``pdf`` with ``data`` embedded as ``name``, added as an incremental update by pyHanko
    (as a producer attaching a spreadsheet to a report would)."""
    from pyhanko.pdf_utils import embed
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    embed.embed_file(writer, embed.FileSpec(
        file_spec_string=name, file_name=name,
        embedded_data=embed.EmbeddedFileObject.from_file_data(writer, data)))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
