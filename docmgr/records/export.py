"""A hồ sơ as a ZIP: its documents' PDFs in chronological order and metadata.xml with the
ND30 (Phụ lục VI) input-field names, for submission to the organisation's archive."""
import tempfile
import unicodedata
import xml.etree.ElementTree as ET
import zipfile

from sqlalchemy import select

from docmgr.core.auth import Organization, User
from docmgr.core.errors import Forbidden
from docmgr.core.storage import BlobStore
from docmgr.records import operations as ops
from docmgr.records.models import Dossier

LANGUAGE = "vi"
SPOOL_BYTES = 32 * 1024 * 1024  # bigger hồ sơ spill to a temporary file, not to memory


def _slug(text: str, *, ascii_only: bool = False) -> str:
    """A file-name-safe form of a notation or code: no path separators or control
    characters; ``ascii_only`` for HTTP headers (latin-1), where Đ becomes D."""
    if ascii_only:
        text = text.replace("Đ", "D").replace("đ", "d")
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    kept = "".join(ch if ch.isalnum() or ch in "-._" else "-" for ch in text)
    return "-".join(part for part in kept.split("-") if part)[:80]


def _split_notation(notation: str, number: int | None) -> tuple[str, str]:
    """CodeNumber and CodeNotation as printed in "số, ký hiệu": 412/STC-NS gives 412 and
    STC-NS, 01/QĐ-VP gives 01 (ND30 writes numbers below 10 with a leading zero) and
    QĐ-VP, 55/2021/QĐ-UBND gives 55 and 2021/QĐ-UBND. Without a number in the notation,
    the register's number (if any) is the CodeNumber."""
    head, sep, tail = (notation or "").partition("/")
    if sep and head.strip().isdigit():
        return head.strip(), tail.strip()
    return ("" if number is None else str(number)), (notation or "")


def _iso(value) -> str:
    return value.isoformat() if value is not None else ""


def _add(parent, tag: str, value) -> ET.Element:
    element = ET.SubElement(parent, tag)
    element.text = "" if value is None else str(value)
    return element


def file_name(position: int, entry: ops.Entry) -> str:
    """001_412-STC-NS.pdf: the position keeps the chronological order in any file list."""
    label = _slug(entry.doc.notation) or f"{entry.kind}-{entry.doc.id}"
    return f"{position:03d}_{label}.pdf"


def metadata_xml(dossier: Dossier, org: Organization, owner: User, rows: list[ops.Entry],
                 names: list[str], issuers: dict[str, str]) -> bytes:
    """The hồ sơ element (FileCode, Title, Maintenance, Rights, Creator, StartDate,
    EndDate, DocTotal, PageTotal) and one Document element per file, in order."""
    root = ET.Element("File")
    code = ET.SubElement(root, "FileCode")
    _add(code, "OrganId", org.code)
    _add(code, "FileCatalog", dossier.year)
    _add(code, "FileNotation", dossier.code)
    _add(root, "Title", dossier.title)
    _add(root, "Maintenance", dossier.maintenance)
    # A hồ sơ holding a classified document cannot be open to everyone, whatever was set.
    restricted = any(entry.doc.secrecy != "normal" for entry in rows)
    _add(root, "Rights", "Hạn chế sử dụng" if restricted else dossier.rights_label)
    _add(root, "Creator", owner.full_name)
    _add(root, "StartDate", _iso(dossier.start_date))
    _add(root, "EndDate", _iso(dossier.end_date))
    _add(root, "DocTotal", len(rows))
    _add(root, "PageTotal", sum(entry.file.page_count if entry.file else 0 for entry in rows))
    documents = ET.SubElement(root, "Documents")
    for position, (entry, name) in enumerate(zip(rows, names, strict=True), start=1):
        doc = entry.doc
        incoming = entry.kind == "incoming"
        element = ET.SubElement(documents, "Document", {"Sequence": str(position),
                                                        "Kind": entry.kind})
        organ_name = doc.sender if incoming else org.name
        _add(element, "OrganId", issuers.get(organ_name, "") if incoming else org.code)
        number, notation = _split_notation(doc.notation, None if incoming else doc.number)
        _add(element, "CodeNumber", number)
        _add(element, "CodeNotation", notation)
        _add(element, "IssuedDate", _iso(doc.doc_date))
        _add(element, "OrganName", organ_name)
        _add(element, "Subject", doc.subject)
        _add(element, "TypeName", doc.type_name)
        _add(element, "PageAmount", entry.file.page_count if entry.file else 0)
        _add(element, "Language", LANGUAGE)
        if incoming:
            _add(element, "ArrivalNumber", doc.arrival_number)
            _add(element, "ArrivalDate", _iso(doc.arrival_date))
        _add(element, "FileName", name)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def build(session, blobs: BlobStore, actor: User, dossier_id: int):
    """The ZIP (a rewound file object) and its download name. Only someone who may open
    every document of the hồ sơ may export it: a partial package would be a wrong archive,
    a complete one would hand over what the exporter may not read."""
    dossier = ops.get_in_org(session, actor, dossier_id)
    rows = ops.entries(session, dossier, None)
    visible = {(e.kind, e.doc.id) for e in ops.entries(session, dossier, actor)}
    if len(visible) != len(rows):
        raise Forbidden("Hồ sơ có văn bản bạn không có quyền xem; chỉ người được xem toàn "
                        "bộ văn bản mới xuất được hồ sơ.")
    org = session.get(Organization, dossier.org_id)
    senders = {e.doc.sender for e in rows if e.kind == "incoming"}
    # Documents dispatched on this system carry the sending organisation's name as sender.
    issuers = dict(session.execute(select(Organization.name, Organization.code).where(
        Organization.name.in_(senders))).all()) if senders else {}
    names = [file_name(position, entry) for position, entry in enumerate(rows, start=1)]
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    with zipfile.ZipFile(out, "w") as archive:
        for entry, name in zip(rows, names, strict=True):
            if entry.file is not None:
                # PDFs are compressed already; stored as they are, byte for byte.
                archive.write(blobs.path(entry.file.sha256), name, zipfile.ZIP_STORED)
        archive.writestr("metadata.xml", metadata_xml(dossier, org, dossier.owner, rows,
                                                      names, issuers),
                         zipfile.ZIP_DEFLATED)
    out.seek(0)
    download = f"ho-so-{dossier.year}-{_slug(dossier.code, ascii_only=True) or dossier.id}.zip"
    return out, download
