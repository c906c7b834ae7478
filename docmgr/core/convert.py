"""Word drafts (.docx) to PDF with LibreOffice headless, where the server has it.

Drafts are signed as PDF; accepting .docx spares the drafter an export step. Without
LibreOffice the upload is refused with a message saying so, never silently.
"""
import shutil
import subprocess
import tempfile
import zipfile
from io import BytesIO
from pathlib import Path

from docmgr.core.errors import UploadRejected

DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
TIMEOUT_S = 120


def is_docx(data: bytes) -> bool:
    """A .docx is a ZIP with word/document.xml, whatever the file is called."""
    if not data.startswith(b"PK\x03\x04"):
        return False
    try:
        with zipfile.ZipFile(BytesIO(data)) as archive:
            return "word/document.xml" in archive.namelist()
    except zipfile.BadZipFile:
        return False


def office_binary() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def docx_to_pdf(data: bytes) -> bytes:
    binary = office_binary()
    if binary is None:
        raise UploadRejected("Máy chủ chưa cài LibreOffice nên chưa chuyển được tệp Word "
                             "(.docx) sang PDF; hãy tải lên bản PDF.", field="file",
                             reason="docx_unsupported")
    with tempfile.TemporaryDirectory(prefix="docmgr-docx-") as work:
        source = Path(work) / "du-thao.docx"
        source.write_bytes(data)
        try:
            subprocess.run(
                [binary, "--headless", "--norestore", f"-env:UserInstallation=file://{work}/u",
                 "--convert-to", "pdf", "--outdir", work, str(source)],
                check=True, capture_output=True, timeout=TIMEOUT_S)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
            raise UploadRejected("Không chuyển được tệp Word sang PDF (tệp hỏng hoặc quá "
                                 "phức tạp); hãy tải lên bản PDF.", field="file",
                                 reason="docx_failed") from None
        result = source.with_suffix(".pdf")
        if not result.exists():
            raise UploadRejected("Không chuyển được tệp Word sang PDF; hãy tải lên bản PDF.",
                                 field="file", reason="docx_failed")
        return result.read_bytes()
