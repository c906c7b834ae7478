"""How an outgoing document looks in JSON (API.md names)."""
from docmgr.core import clock
from docmgr.outbound.models import STATUS_LABELS, OutgoingDocument, OutgoingStatus


def _iso(value):
    return value.isoformat() if value is not None else None


def _moment(value):
    return clock.local(value).isoformat() if value is not None else None


def document_dict(doc: OutgoingDocument, *, details: bool = False, dispatch=None) -> dict:
    data = {
        "id": doc.id, "kind": "outgoing", "status": doc.status,
        "status_label": STATUS_LABELS[doc.status], "doc_type": doc.doc_type,
        "doc_type_name": doc.type_name, "subject": doc.subject, "urgency": doc.urgency,
        "secrecy": doc.secrecy, "legal_normative": doc.legal_normative,
        "author_id": doc.author_id, "signer_id": doc.signer_id,
        "signer_authority": doc.signer_authority,
        "number": doc.number, "notation": doc.notation or None, "doc_date": _iso(doc.doc_date),
        "issued_at": _moment(doc.issued_at), "signed_at": _moment(doc.signed_at),
        "reply_deadline": _iso(doc.reply_deadline), "created_at": _moment(doc.created_at),
    }
    if details:
        data["author"] = doc.author.full_name
        data["signer"] = doc.signer.full_name
        current = doc.versions[-1].number if doc.versions else None
        data["current_version"] = current
        data["versions"] = [{"number": v.number, "sha256": v.file.sha256,
                             "filename": v.file.filename, "uploaded_by": v.uploaded_by.full_name,
                             "uploaded_at": _moment(v.uploaded_at), "note": v.note,
                             "warnings": v.file.warnings_json()}
                            for v in doc.versions]
        data["route"] = [{"position": s.position + 1, "reviewer_id": s.reviewer_id,
                          "reviewer": s.reviewer.full_name, "decision": s.decision,
                          "comment": s.comment, "decided_at": _moment(s.decided_at),
                          "version": s.version_no, "covers_current": s.approved(current),
                          "current": doc.status == OutgoingStatus.IN_REVIEW
                          and doc.current_step == s.position}
                         for s in doc.route]
        data["recipients"] = [r.name for r in doc.recipients]
        data["attachments"] = [{"id": a.id, "position": a.position, "filename": a.file.filename,
                                "signed": a.signed_file_id is not None,
                                "warnings": a.file.warnings_json()}
                               for a in doc.attachments]
        data["signature_report"] = doc.signature_report
        # The signed file keeps the draft's warnings (what it embeds stays when signed).
        data["warnings"] = doc.file.warnings_json()
    if dispatch is not None:
        data["dispatch"] = [{**row, "sent_at": _moment(row["sent_at"])} for row in dispatch]
    return data
