"""How an incoming document looks in JSON (API.md names)."""
from docmgr.core import clock
from docmgr.inbound.models import STATUS_LABELS, IncomingDocument
from docmgr.inbound.operations import is_overdue


def _iso(value):
    return value.isoformat() if value is not None else None


def _moment(value):
    return clock.local(value).isoformat() if value is not None else None


def document_dict(doc: IncomingDocument, *, details: bool = False) -> dict:
    data = {
        "id": doc.id,
        "kind": "incoming",
        "arrival_number": doc.arrival_number,
        "arrival_date": _iso(doc.arrival_date),
        "sender": doc.sender,
        "notation": doc.notation,
        "doc_date": _iso(doc.doc_date),
        "doc_type": doc.doc_type,
        "doc_type_name": doc.type_name,
        "subject": doc.subject,
        "urgency": doc.urgency,
        "secrecy": doc.secrecy,
        "received_via": doc.received_via,
        "due_date": _iso(doc.due_date),
        "deadline": _iso(doc.deadline),
        "overdue": is_overdue(doc),
        "status": doc.status,
        "status_label": STATUS_LABELS[doc.status],
        "page_count": doc.page_count,
        "registered_at": _moment(doc.registered_at),
        "completed_at": _moment(doc.completed_at),
        "signature_check": doc.signature_check,
        "rejection_reason": doc.rejection_reason or None,
    }
    if details:
        data["completion_note"] = doc.completion_note
        data["file"] = {"filename": doc.file.filename, "sha256": doc.file.sha256,
                        "size": doc.file.size, "page_count": doc.file.page_count,
                        "warnings": doc.file.warnings_json()}
        data["registered_by"] = doc.registered_by.full_name if doc.registered_by else None
        data["assignments"] = [{
            "id": a.id, "role": a.role, "user_id": a.user_id, "unit_id": a.unit_id,
            "assignee": a.assignee_name, "deadline": _iso(a.deadline), "note": a.note,
            "assigned_by": a.assigned_by.full_name, "assigned_at": _moment(a.assigned_at),
            "active": a.active} for a in doc.assignments]
    return data
