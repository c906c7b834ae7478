"""How a hồ sơ looks in JSON."""
from datetime import date

from docmgr.core import clock
from docmgr.records.models import Dossier
from docmgr.records.operations import Entry


def _iso(value):
    return value.isoformat() if value is not None else None


def _moment(value):
    return clock.local(value).isoformat() if value is not None else None


def entry_dict(entry: Entry) -> dict:
    doc = entry.doc
    data = {"kind": entry.kind, "id": doc.id, "notation": doc.notation,
            "doc_date": _iso(doc.doc_date), "doc_type": doc.doc_type, "subject": doc.subject,
            "secrecy": doc.secrecy, "status": doc.status,
            "page_count": entry.file.page_count if entry.file else 0,
            "filed_at": _moment(entry.filed.filed_at)}
    if entry.kind == "incoming":
        data.update(sender=doc.sender, arrival_number=doc.arrival_number,
                    arrival_date=_iso(doc.arrival_date))
    else:
        data.update(number=doc.number, issued_at=_moment(doc.issued_at))
    return data


def dossier_dict(dossier: Dossier, *, doc_total: int, span: tuple[date | None, date | None],
                 entries: list[Entry] | None = None, hidden: int = 0) -> dict:
    """``retention`` is a number of years or "permanent"; ``archive_warning`` is
    "due_soon" (30 days before the archive due date), "overdue" or null. ``span`` is the
    start and end date as the reader may know them (records.operations.Contents and
    visible_spans), never the stored ones, which may come from a hidden document."""
    data = {
        "id": dossier.id, "year": dossier.year, "code": dossier.code, "title": dossier.title,
        "retention": "permanent" if dossier.permanent else dossier.retention_years,
        "retention_label": dossier.retention_label, "rights": dossier.rights,
        "owner_id": dossier.owner_id, "owner": dossier.owner.full_name,
        "unit_id": dossier.unit_id, "unit": dossier.unit.name if dossier.unit else None,
        "status": dossier.status, "status_label": dossier.status_label,
        "start_date": _iso(span[0]), "end_date": _iso(span[1]),
        "closed_at": _moment(dossier.closed_at), "archive_due": _iso(dossier.archive_due),
        "submitted_at": _moment(dossier.submitted_at),
        "archive_warning": dossier.archive_state(clock.today()),
        "doc_total": doc_total,
    }
    if entries is not None:
        data["documents"] = [entry_dict(e) for e in entries]
        data["hidden_documents"] = hidden  # how many, never which
    return data
