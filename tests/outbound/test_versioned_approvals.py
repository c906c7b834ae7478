"""An approval covers the draft version it was given on: a new version goes back through
the reviewers who approved an earlier one, and nobody signs or issues a version the route
has not approved — whatever path (page, API, batch) or older data leads there."""
from sqlalchemy import func, select

from docmgr.core import clock
from docmgr.core.documents import StoredFile
from docmgr.core.numbering import Counter
from docmgr.demo import nd30_draft_pdf
from docmgr.outbound.models import DraftVersion, OutgoingDocument, RouteStep
from tests.conftest import csrf_from, upload
from tests.outbound.conftest import ORG_PIN, PIN, draft_pdf


def _other_pdf() -> bytes:
    """A completely different document (another subject, another body)."""
    return nd30_draft_pdf(org="UBND tinh Quang Ngai", type_title="Quyet dinh",
                          subject="Ve viec chi tien ngoai du toan", signer_title="Chu tich",
                          signer_name="Pham Minh Quang", body_pages=2)


def _route(api, doc_id, username="specialist") -> list[dict]:
    return api(username).get(f"/api/v1/drafts/{doc_id}").json["route"]


def test_a_new_version_after_the_signer_returned_it_goes_back_to_the_reviewer(
        api, world, keys, new_draft):
    """The reported case: approved, returned by the signer, replaced by another file —
    it went straight to the signer with the earlier approval still shown."""
    doc = new_draft()  # reviewed by the head, signed by the leader
    url = f"/api/v1/drafts/{doc['id']}"
    api("specialist").post(f"{url}/submit")
    assert api("head").post(f"{url}/approve", json={}).json["status"] == "awaiting_signature"
    api("leader").post(f"{url}/return", json={"comment": "Viết lại toàn bộ"})
    v2 = api("specialist").post(f"{url}/versions", data={"file": upload(_other_pdf())})
    assert v2.status_code == 201

    again = api("specialist").post(f"{url}/submit").json
    assert again["status"] == "in_review" and again["route"][0]["current"]
    assert again["current_version"] == 2
    step = again["route"][0]
    assert step["decision"] == "approved" and step["version"] == 1
    assert step["covers_current"] is False
    assert api("leader").post(f"{url}/sign", json={"pin": PIN}).status_code == 409

    approved = api("head").post(f"{url}/approve", json={"comment": "Đồng ý bản mới"}).json
    assert approved["status"] == "awaiting_signature"
    assert approved["route"][0]["version"] == 2 and approved["route"][0]["covers_current"]
    assert api("leader").post(f"{url}/sign", json={"pin": PIN}).status_code == 200


def test_the_route_restarts_from_the_first_reviewer_who_approved_an_earlier_version(
        api, world, keys, new_draft):
    doc = new_draft(reviewer_ids=f"{world.users['head'].id},{world.users['head_vx'].id}")
    url = f"/api/v1/drafts/{doc['id']}"
    api("specialist").post(f"{url}/submit")
    api("head").post(f"{url}/approve", json={})
    api("head_vx").post(f"{url}/return", json={"comment": "Sửa điều 3"})
    # Submitted again unchanged: the head's approval covers this very version.
    resumed = api("specialist").post(f"{url}/submit").json
    assert [s["current"] for s in resumed["route"]] == [False, True]
    api("head_vx").post(f"{url}/return", json={"comment": "Vẫn chưa sửa"})
    # A new version: back to the head, who approved the earlier one.
    api("specialist").post(f"{url}/versions", data={"file": upload(_other_pdf())})
    restarted = api("specialist").post(f"{url}/submit").json
    assert [s["current"] for s in restarted["route"]] == [True, False]
    assert api("head_vx").post(f"{url}/approve", json={}).status_code == 403  # not yet
    assert api("head").post(f"{url}/approve", json={}).json["route"][1]["current"]
    done = api("head_vx").post(f"{url}/approve", json={}).json
    assert done["status"] == "awaiting_signature"
    assert [(s["decision"], s["version"]) for s in done["route"]] == [("approved", 2)] * 2


def _approved_then_replaced(db, doc_id: int, author_id: int) -> None:
    """What the old code let happen (and what data from before this rule may hold): the
    approvals cover version 1 while version 2 is the current file."""
    with db.transaction() as s:
        doc = s.get(OutgoingDocument, doc_id)
        first = s.get(StoredFile, doc.file_id)
        other = StoredFile(org_id=doc.org_id, sha256=first.sha256, filename="khac.pdf",
                           size=first.size, page_count=first.page_count,
                           uploaded_by_id=author_id)
        s.add(other)
        s.flush()
        s.add(DraftVersion(document_id=doc.id, number=2, file_id=other.id,
                           uploaded_by_id=author_id, uploaded_at=clock.now()))
        doc.file_id = other.id


def test_signing_refuses_a_version_the_route_did_not_approve(api, world, keys, new_draft, db,
                                                             browser_login):
    doc = new_draft()
    url = f"/api/v1/drafts/{doc['id']}"
    api("specialist").post(f"{url}/submit")
    api("head").post(f"{url}/approve", json={})
    _approved_then_replaced(db, doc["id"], world.users["specialist"].id)

    refused = api("leader").post(f"{url}/sign", json={"pin": PIN})
    assert refused.status_code == 409
    assert refused.json["error"]["code"] == "approval_outdated"
    message = refused.json["error"]["message"]
    assert "bản 2" in message and "Lê Thị Hoa đã duyệt bản 1" in message
    batch = api("leader").post("/api/v1/drafts/sign-batch", json={"ids": [doc["id"]],
                                                                   "pin": PIN}).json
    assert batch["signed"] == 0 and "bản 2" in batch["results"][0]["error"]
    assert api("leader").get(url).json["status"] == "awaiting_signature"

    # The pages say it before the PIN is typed, and offer only to send it back.
    leader = browser_login("leader")
    page = leader.get(f"/outgoing/{doc['id']}").data.decode()
    assert "Ký số văn bản" not in page and "Trả lại dự thảo cho người soạn" in page
    signing = leader.get(f"/outgoing/{doc['id']}/sign", follow_redirects=True)
    assert "chưa được duyệt đủ" in signing.data.decode()
    assert 'name="pin"' not in signing.data.decode()
    # Sent back and submitted again, it goes to the reviewer first.
    api("leader").post(f"{url}/return", json={"comment": "Bản này chưa qua phòng"})
    assert api("specialist").post(f"{url}/submit").json["status"] == "in_review"


def _reviewed_and_signed(api, new_draft) -> dict:
    doc = new_draft()  # reviewed by the head
    url = f"/api/v1/drafts/{doc['id']}"
    api("specialist").post(f"{url}/submit")
    api("head").post(f"{url}/approve", json={})
    signed = api("leader").post(f"{url}/sign", json={"pin": PIN})
    assert signed.status_code == 200, signed.json
    return signed.json


def test_issuing_refuses_a_version_the_route_did_not_approve(api, world, keys, new_draft, db):
    doc = _reviewed_and_signed(api, new_draft)
    with db.transaction() as s:  # data from before the rule: approved version 1 only
        step = s.scalar(select(RouteStep).where(RouteStep.document_id == doc["id"]))
        assert step.version_no == 1
        s.add(DraftVersion(document_id=doc["id"], number=2,
                           file_id=s.get(OutgoingDocument, doc["id"]).file_id,
                           uploaded_by_id=world.users["specialist"].id,
                           uploaded_at=clock.now()))
    r = api("clerk").post(f"/api/v1/drafts/{doc['id']}/issue", json={"pin": ORG_PIN})
    assert r.status_code == 409 and r.json["error"]["code"] == "approval_outdated"
    assert "Chưa phát hành được" in r.json["error"]["message"]
    with db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Counter)) == 0  # no number used
        assert s.get(OutgoingDocument, doc["id"]).status == "signed"


def test_an_approval_of_the_signed_version_lets_it_be_issued(api, world, keys, new_draft):
    doc = _reviewed_and_signed(api, new_draft)
    assert doc["route"][0]["version"] == 1 and doc["route"][0]["covers_current"]
    r = api("clerk").post(f"/api/v1/drafts/{doc['id']}/issue", json={"pin": ORG_PIN})
    assert r.status_code == 200, r.json


def test_the_draft_page_shows_which_version_each_approval_covered(api, world, keys,
                                                                  new_draft, browser_login):
    doc = new_draft(reviewer_ids=f"{world.users['head'].id},{world.users['head_vx'].id}")
    url = f"/api/v1/drafts/{doc['id']}"
    api("specialist").post(f"{url}/submit")
    api("head").post(f"{url}/approve", json={})
    api("head_vx").post(f"{url}/approve", json={})
    api("leader").post(f"{url}/return", json={"comment": "Sửa căn cứ"})
    author = browser_login("specialist")
    page = author.get(f"/outgoing/{doc['id']}").data.decode()
    assert page.count("Đã duyệt bản 1") == 2 and "cần duyệt lại" not in page

    form = author.get(f"/outgoing/{doc['id']}").data
    author.post(f"/outgoing/{doc['id']}/versions", data={
        "file": upload(draft_pdf()), "note": "Sửa căn cứ", "csrf_token": csrf_from(form)})
    page = author.get(f"/outgoing/{doc['id']}").data.decode()
    assert page.count("Đã duyệt bản 1") == 2
    assert page.count("Bản hiện tại là bản 2: cần duyệt lại.") == 2
    assert "Gửi Lê Thị Hoa xem xét bản 2" in page  # the submit button says where it goes

    author.post(f"/outgoing/{doc['id']}/submit", data={"csrf_token": csrf_from(page)})
    api("head").post(f"{url}/approve", json={})
    page = browser_login("head").get(f"/outgoing/{doc['id']}").data.decode()
    assert "Đã duyệt bản 2" in page and "Đã duyệt bản 1" in page
    assert "Đang chờ ý kiến về bản 2" in page
    assert page.count("cần duyệt lại") == 0  # the waiting reviewer's step says it instead
