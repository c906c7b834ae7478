"""When the signing engine fails, signing and issuing say so in Vietnamese with a status that
fits — in the JSON API and on the pages — and nothing is kept: no signed file, no number, no
state change, no audit event of success, no dispatch."""
import dataclasses

import pytest
from sqlalchemy import func, select

from docmgr.core.audit import AuditEvent
from docmgr.core.documents import StoredFile
from docmgr.core.numbering import Counter
from docmgr.inbound.models import IncomingDocument
from docmgr.outbound.models import OutgoingDocument
from tests.conftest import csrf_from
from tests.outbound.conftest import ORG_PIN, PIN, draft_pdf
from tests.signing.faults import encrypted_copy, unreachable_tsa


def kept(db, blobs, doc_id: int) -> dict:
    """Everything a failed signing or issuing must leave as it was."""
    with db.transaction(readonly=True) as s:
        doc = s.get(OutgoingDocument, doc_id)
        return {
            "document": (doc.status, doc.signed_file_id, doc.signed_at, doc.signature_box,
                         doc.signature_report, doc.number, doc.notation, doc.issued_at),
            **{name: s.scalar(select(func.count()).select_from(model)) for name, model in
               (("files", StoredFile), ("numbers", Counter), ("incoming", IncomingDocument))},
            "audit": s.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all(),
            "blobs": sorted(p.name for p in blobs.root.rglob("*") if p.is_file()),
        }


@pytest.fixture
def encrypted_awaiting(api, new_draft, keys, db, blobs):
    """A draft whose file is encrypted with an empty user password, submitted straight to
    the leader. Uploads refuse such drafts now (uploads.require_signable); this one stands
    for a draft stored before they did, its file swapped in behind the upload's back."""
    doc = new_draft(reviewer_ids="")
    with db.transaction() as s:
        stored = s.get(StoredFile, s.get(OutgoingDocument, doc["id"]).file_id)
        stored.sha256 = blobs.put(encrypted_copy(draft_pdf()))
    assert api("specialist").post(f"/api/v1/drafts/{doc['id']}/submit").json["status"] == \
        "awaiting_signature"
    return doc


def test_signing_an_encrypted_draft_through_the_api(api, encrypted_awaiting, db, blobs):
    doc_id = encrypted_awaiting["id"]
    before = kept(db, blobs, doc_id)
    r = api("leader").post(f"/api/v1/drafts/{doc_id}/sign", json={"pin": PIN})
    assert r.status_code == 422
    assert r.json["error"]["code"] == "document_encrypted"
    assert r.json["error"]["message"].startswith("Tệp PDF của văn bản được mã hóa")
    assert kept(db, blobs, doc_id) == before
    assert before["document"][0] == "awaiting_signature"


def test_signing_an_encrypted_draft_on_the_page(browser_login, encrypted_awaiting, db, blobs):
    doc_id = encrypted_awaiting["id"]
    leader = browser_login("leader")
    page = leader.get(f"/outgoing/{doc_id}/sign")
    before = kept(db, blobs, doc_id)
    r = leader.post(f"/outgoing/{doc_id}/sign", data={
        "pin": PIN, "page": "", "x": "", "y": "", "csrf_token": csrf_from(page.data)})
    assert r.status_code == 422
    assert "Tệp PDF của văn bản được mã hóa (đặt mật khẩu) nên không ký số được" in \
        r.data.decode()
    assert kept(db, blobs, doc_id) == before


def test_batch_signing_reports_the_encrypted_draft_and_signs_the_other(
        api, encrypted_awaiting, new_draft, db):
    good = new_draft(reviewer_ids="")
    api("specialist").post(f"/api/v1/drafts/{good['id']}/submit")
    r = api("leader").post("/api/v1/drafts/sign-batch",
                           json={"ids": [encrypted_awaiting["id"], good["id"]], "pin": PIN})
    assert r.status_code == 200 and (r.json["signed"], r.json["total"]) == (1, 2)
    refused, signed = r.json["results"]
    assert not refused["ok"] and "được mã hóa" in refused["error"]
    assert signed["ok"]
    with db.transaction(readonly=True) as s:
        assert s.get(OutgoingDocument, encrypted_awaiting["id"]).status == \
            "awaiting_signature"


def test_issuing_while_the_timestamp_authority_is_down(app, api, browser_login, signed_draft,
                                                        db, blobs, monkeypatch):
    doc_id = signed_draft()["id"]
    clerk = browser_login("clerk")
    page = clerk.get(f"/outgoing/{doc_id}")
    before = kept(db, blobs, doc_id)
    with unreachable_tsa() as url:
        services = app.extensions["docmgr"]
        monkeypatch.setattr(services, "settings",
                            dataclasses.replace(services.settings, timestamp_url=url))
        r = api("clerk").post(f"/api/v1/drafts/{doc_id}/issue", json={"pin": ORG_PIN})
        assert r.status_code == 503
        assert r.json["error"]["code"] == "timestamp_unavailable"
        assert "Không lấy được dấu thời gian" in r.json["error"]["message"]
        assert kept(db, blobs, doc_id) == before

        r = clerk.post(f"/outgoing/{doc_id}/issue", data={
            "pin": ORG_PIN, "csrf_token": csrf_from(page.data)})
        assert r.status_code == 302  # the page's way: back to the document, the reason shown
        shown = clerk.get(r.location).data.decode()
        assert "Không lấy được dấu thời gian từ máy chủ cấp dấu thời gian" in shown
        assert kept(db, blobs, doc_id) == before
    assert before["document"][0] == "signed" and before["numbers"] == 0
