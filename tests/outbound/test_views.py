"""The pages of văn bản đi: who may open them, CSRF on every form, the signing page
(box, wrong PIN), batch signing, and the whole route through the forms."""
import re

import pytest
from sqlalchemy import func, select

from docmgr.core.audit import AuditEvent
from docmgr.core.documents import StoredFile
from docmgr.core.numbering import Counter
from docmgr.inbound.models import IncomingDocument
from docmgr.outbound.models import OutgoingDocument
from docmgr.signing import placement
from docmgr.signing.models import SigningKey
from tests.conftest import csrf_from, upload
from tests.outbound.conftest import ORG_PIN, PIN, draft_pdf

USERS = ("clerk", "leader", "head", "specialist", "admin")


@pytest.fixture
def issued(api, signed_draft):
    doc = signed_draft()
    r = api("clerk").post(f"/api/v1/drafts/{doc['id']}/issue", json={"pin": ORG_PIN})
    assert r.status_code == 200, r.json
    return r.json


def _doc(db, doc_id) -> OutgoingDocument:
    with db.transaction(readonly=True) as s:
        return s.get(OutgoingDocument, doc_id)


def _key(db, username, world) -> SigningKey:
    with db.transaction(readonly=True) as s:
        return s.scalar(select(SigningKey).where(
            SigningKey.user_id == world.users[username].id))


def _count(db, model) -> int:
    with db.transaction(readonly=True) as s:
        return s.scalar(select(func.count()).select_from(model))


# --- access ---------------------------------------------------------------------------------

def test_pages_need_login(app):
    client = app.test_client()
    for url in ("/outgoing/", "/outgoing/new", "/outgoing/1", "/outgoing/1/sign",
                "/outgoing/sign-batch", "/outgoing/1/pages/1.png", "/outgoing/1/file",
                "/outgoing/register", "/outgoing/register/export?format=csv"):
        r = client.get(url)
        assert r.status_code == 302 and "/login" in r.location, url


@pytest.mark.parametrize("url,allowed", [
    ("/outgoing/", set(USERS)),
    ("/outgoing/?queue=to_sign", set(USERS)),
    ("/outgoing/new", {"clerk", "leader", "head", "specialist"}),
    ("/outgoing/sign-batch", {"leader", "head"}),
    ("/outgoing/register", {"clerk", "leader", "head", "admin"}),
    ("/outgoing/register/export?format=csv", {"clerk", "leader", "head", "admin"}),
    ("/outgoing/register/export?format=xlsx", {"clerk", "leader", "head", "admin"}),
])
def test_role_matrix_for_pages(browser_login, world, url, allowed):
    for username in USERS:
        r = browser_login(username).get(url)
        assert r.status_code == (200 if username in allowed else 403), (url, username)


def test_role_matrix_for_one_document(browser_login, issued, awaiting):
    waiting = awaiting()
    everyone = dict.fromkeys(USERS, 200)
    # Not a signer by role: 403. The head may sign but cannot even see this draft: 404.
    expected = [(f"/outgoing/{issued['id']}", everyone),
                (f"/outgoing/{issued['id']}/pages/1.png", everyone),
                (f"/outgoing/{issued['id']}/file", everyone),
                (f"/outgoing/{waiting['id']}/sign", {"leader": 200, "head": 404, "clerk": 403,
                                                     "specialist": 403, "admin": 403}),
                (f"/outgoing/{waiting['id']}", {"leader": 200, "specialist": 200, "head": 404,
                                                "clerk": 404, "admin": 404})]
    for url, statuses in expected:
        for username in USERS:
            r = browser_login(username).get(url)
            assert r.status_code == statuses[username], (url, username)
    # Another organisation never sees it.
    assert browser_login("other_clerk").get(f"/outgoing/{issued['id']}").status_code == 404


def test_only_the_chosen_signer_opens_the_signing_page(browser_login, awaiting, world,
                                                       unit_heads_sign):
    doc = awaiting(signer_id=str(world.users["head"].id), doc_type="CV")
    assert browser_login("head").get(f"/outgoing/{doc['id']}/sign").status_code == 200
    refused = browser_login("leader").get(f"/outgoing/{doc['id']}/sign")  # sees, may not sign
    assert refused.status_code == 403
    assert "Chỉ người ký được chỉ định" in refused.data.decode()
    # A signer without a certificate is told before typing the PIN.
    no_key = awaiting(signer_id=str(world.users["head_vx"].id), doc_type="CV")
    page = browser_login("head_vx").get(f"/outgoing/{no_key['id']}/sign").data.decode()
    assert "Người ký chưa có chứng thư số để ký." in page
    assert "chưa có chứng thư số" not in browser_login("head").get(
        f"/outgoing/{doc['id']}/sign").data.decode()


def test_a_place_outside_the_document_is_refused(browser_login, awaiting, db):
    doc = awaiting()
    leader = browser_login("leader")
    page = leader.get(f"/outgoing/{doc['id']}/sign")
    r = leader.post(f"/outgoing/{doc['id']}/sign", data={
        "pin": PIN, "page": "9", "x": "10", "y": "10", "csrf_token": csrf_from(page.data)})
    html = r.data.decode()
    assert r.status_code == 400 and "Trang đặt chữ ký không tồn tại." in html
    assert 'name="page" value=""' in html  # back to the proposed place
    for x in ("nan", "inf", "abc"):
        r = leader.post(f"/outgoing/{doc['id']}/sign", data={
            "pin": PIN, "page": "1", "x": x, "y": "10", "csrf_token": csrf_from(html)})
        assert r.status_code == 400
        assert f"Tọa độ x của chữ ký không phải là số hợp lệ: “{x}”." in r.data.decode()
    assert _doc(db, doc["id"]).status == "awaiting_signature"


def test_every_post_needs_the_csrf_token(browser_login, awaiting, signed_draft, db, world):
    waiting = awaiting()
    signed = signed_draft()
    posts = [("specialist", "/outgoing/new", {"subject": "x"}),
             ("specialist", f"/outgoing/{waiting['id']}/versions", {}),
             ("specialist", f"/outgoing/{waiting['id']}/submit", {}),
             ("head", f"/outgoing/{waiting['id']}/approve", {"comment": "x"}),
             ("leader", f"/outgoing/{waiting['id']}/return", {"comment": "x"}),
             ("leader", f"/outgoing/{waiting['id']}/sign", {"pin": PIN}),
             ("leader", "/outgoing/sign-batch", {"pin": PIN, "ids": str(waiting["id"])}),
             ("clerk", f"/outgoing/{signed['id']}/issue", {"pin": ORG_PIN}),
             ("clerk", "/incoming/1/accept", {}),
             ("clerk", "/incoming/1/reject", {"reason": "x"})]
    for username, url, data in posts:
        client = browser_login(username)
        assert client.post(url, data=data).status_code == 400, url
        assert client.post(url, data={**data, "csrf_token": "gia-mao"}).status_code == 400, url
    assert _doc(db, waiting["id"]).status == "awaiting_signature"
    assert _doc(db, signed["id"]).status == "signed"
    assert _key(db, "leader", world).failed_pins == 0


# --- the signing page ------------------------------------------------------------------------

def test_signing_page_shows_the_proposed_box(browser_login, awaiting, blobs, db, world):
    doc = awaiting()
    html = browser_login("leader").get(f"/outgoing/{doc['id']}/sign").data.decode()
    with db.transaction(readonly=True) as s:
        stored = s.get(StoredFile, s.get(OutgoingDocument, doc["id"]).file_id)
        layout = placement.find_layout(blobs.get(stored.sha256), "Phạm Minh Quang")
    assert layout.found
    box = re.search(r'<div id="signature-box"[^>]*>', html, re.S).group(0)
    assert f'data-page="{layout.personal.page + 1}"' in box
    assert f'data-x="{layout.personal.x0:.1f}"' in box
    assert f'data-y="{layout.personal.y0:.1f}"' in box
    assert f'data-w="{placement.SIGNATURE_W}"' in box
    assert 'class="sig-page" data-page="1" data-w="595' in html
    assert f"/outgoing/{doc['id']}/pages/1.png" in html
    assert "/static/signing.js" in html
    pin = re.search(r'<input id="pin"[^>]*>', html).group(0)
    for attribute in ('autofocus', 'autocomplete="off"', 'inputmode="numeric"',
                      'type="password"'):
        assert attribute in pin
    assert html.count(">Ký số</button>") == 1
    assert "Không tìm thấy khối chữ ký" not in html
    # The detail page offers the signing page to the signer only.
    assert f"/outgoing/{doc['id']}/sign" in browser_login("leader").get(
        f"/outgoing/{doc['id']}").data.decode()
    assert f"/outgoing/{doc['id']}/sign\"" not in browser_login("specialist").get(
        f"/outgoing/{doc['id']}").data.decode()


def test_wrong_pin_changes_nothing_but_the_failure_count(browser_login, awaiting, db, world):
    doc = awaiting()
    leader = browser_login("leader")
    page = leader.get(f"/outgoing/{doc['id']}/sign")
    files, events = _count(db, StoredFile), _count(db, AuditEvent)
    r = leader.post(f"/outgoing/{doc['id']}/sign", data={
        "pin": "000000", "page": "1", "x": "100", "y": "200",
        "csrf_token": csrf_from(page.data)})
    html = r.data.decode()
    assert r.status_code == 403 and "Mã PIN không đúng." in html
    assert 'data-x="100.0"' in html and 'name="x" value="100.0"' in html  # choice kept
    stored = _doc(db, doc["id"])
    assert stored.status == "awaiting_signature" and stored.signed_file_id is None
    assert stored.signature_box is None and stored.signature_report is None
    assert _key(db, "leader", world).failed_pins == 1  # committed despite the refusal
    assert _count(db, StoredFile) == files
    with db.transaction(readonly=True) as s:
        new = s.scalars(select(AuditEvent.action).order_by(AuditEvent.id)
                        .offset(events)).all()
    assert new == ["signing.wrong_pin"]
    assert _count(db, Counter) == 0

    # The right PIN signs where the signer clicked, then shows the validation badge.
    r = leader.post(f"/outgoing/{doc['id']}/sign", data={
        "pin": PIN, "page": "1", "x": "100", "y": "200", "csrf_token": csrf_from(html)})
    assert r.status_code == 302 and r.location.endswith(f"/outgoing/{doc['id']}")
    stored = _doc(db, doc["id"])
    assert stored.status == "signed"
    assert stored.signature_box == {"page": 0, "x0": 100.0, "y0": 200.0,
                                    "x1": 100.0 + placement.SIGNATURE_W,
                                    "y1": 200.0 + placement.SIGNATURE_H}
    assert _key(db, "leader", world).failed_pins == 0
    shown = leader.get(r.location).data.decode()
    assert "Đã ký số văn bản" in shown
    assert 'data-testid="signature-verdict">Hợp lệ<' in shown
    assert "Phạm Minh Quang" in shown
    # Signed: the signing page sends the signer back to the document.
    again = leader.get(f"/outgoing/{doc['id']}/sign")
    assert again.status_code == 302 and again.location.endswith(f"/outgoing/{doc['id']}")


def test_signing_without_moving_the_box_uses_the_proposal(browser_login, awaiting, db,
                                                         blobs):
    doc = awaiting()
    leader = browser_login("leader")
    page = leader.get(f"/outgoing/{doc['id']}/sign")
    r = leader.post(f"/outgoing/{doc['id']}/sign", data={
        "pin": PIN, "page": "", "x": "", "y": "", "csrf_token": csrf_from(page.data)})
    assert r.status_code == 302
    layout = placement.find_layout(draft_pdf(), "Phạm Minh Quang")
    assert _doc(db, doc["id"]).signature_box == layout.personal.as_dict()


def test_batch_signing(browser_login, awaiting, db, world):
    docs = [awaiting(subject=f"Văn bản ký lô số {n}") for n in (1, 2, 3)]
    leader = browser_login("leader")
    page = leader.get("/outgoing/sign-batch")
    html = page.data.decode()
    assert all(f"Văn bản ký lô số {n}" in html for n in (1, 2, 3))
    assert html.count('name="ids"') == 3 and "/static/signing.js" in html
    chosen = [str(docs[0]["id"]), str(docs[2]["id"])]

    wrong = leader.post("/outgoing/sign-batch", data={
        "ids": chosen, "pin": "999999", "csrf_token": csrf_from(html)})
    assert wrong.status_code == 403 and "Mã PIN không đúng." in wrong.data.decode()
    assert [_doc(db, d["id"]).status for d in docs] == ["awaiting_signature"] * 3
    assert _key(db, "leader", world).failed_pins == 1

    r = leader.post("/outgoing/sign-batch", data={
        "ids": chosen, "pin": PIN, "csrf_token": csrf_from(html)})
    result = r.data.decode()
    assert r.status_code == 200
    assert "đã ký 2/2 văn bản" in result and result.count(">Đã ký<") == 2
    assert [_doc(db, d["id"]).status for d in docs] == \
        ["signed", "awaiting_signature", "signed"]
    assert result.count('name="ids"') == 1  # what is left to sign

    # A document that is no longer waiting is reported, the others still signed.
    leftover = leader.post("/outgoing/sign-batch", data={
        "ids": [str(docs[0]["id"]), str(docs[1]["id"])], "pin": PIN,
        "csrf_token": csrf_from(html)}).data.decode()
    assert "đã ký 1/2 văn bản" in leftover and "Không ký được" in leftover
    assert "không ở trạng thái chờ ký" in leftover
    assert _doc(db, docs[1]["id"]).status == "signed"

    nothing = leader.post("/outgoing/sign-batch", data={"pin": PIN,
                                                        "csrf_token": csrf_from(html)})
    assert nothing.status_code == 400 and "Chọn ít nhất một văn bản" in nothing.data.decode()


# --- the whole route through the forms -----------------------------------------------------

def _new_draft_form(client, world, **overrides):
    page = client.get("/outgoing/new")
    data = {"csrf_token": csrf_from(page.data), "doc_type": "QĐ",
            "subject": "Quyết định ban hành Quy chế công tác văn thư",
            "signer_id": str(world.users["leader"].id),
            "reviewer_ids": [str(world.users["head"].id), ""],
            "recipient_orgs": [world.other_org.code],
            "external": "Sở Nội vụ tỉnh Quảng Ngãi\n\n", "urgency": "urgent",
            "secrecy": "normal", "reply_deadline": "", "copies": "3",
            "file": upload(draft_pdf(), "du-thao.pdf")}
    data.update(overrides)
    return client.post("/outgoing/new", data=data, content_type="multipart/form-data")


def test_new_draft_form_defaults_and_errors(browser_login, world, keys, db):
    client = browser_login("specialist")
    html = client.get("/outgoing/new").data.decode()
    # The unit's head reviews, the leader signs, công văn by default.
    assert re.search(rf'<option value="{world.users["leader"].id}" selected>', html)
    assert re.search(rf'<option value="{world.users["head"].id}" selected>', html)
    assert '<option value="CV" selected>' in html
    assert f'value="{world.other_org.code}"' in html and f'value="{world.org.code}"' not in html
    r = _new_draft_form(client, world, recipient_orgs=[], external="",
                        subject="Trích yếu đã gõ")
    assert r.status_code == 400
    assert "Vui lòng nhập ít nhất một nơi nhận." in r.data.decode()
    assert "Trích yếu đã gõ" in r.data.decode()
    r = _new_draft_form(client, world, reviewer_ids=[str(world.users["head"].id)] * 2)
    assert r.status_code == 400 and "Một người chỉ xem xét một lần" in r.data.decode()
    assert _count(db, OutgoingDocument) == 0


def test_route_through_the_pages(browser_login, world, keys, db):
    specialist = browser_login("specialist")
    r = _new_draft_form(specialist, world)
    assert r.status_code == 302, r.data
    doc_id = int(r.location.rsplit("/", 1)[1])
    with db.transaction(readonly=True) as s:
        doc = s.get(OutgoingDocument, doc_id)
        assert (doc.urgency, doc.copies, doc.doc_type) == ("urgent", 3, "QĐ")
    show = specialist.get(r.location).data.decode()
    assert "Đã tạo dự thảo" in show and ">Trình</button>" in show
    assert "Sở Xây dựng; Sở Nội vụ tỉnh Quảng Ngãi" in show
    assert specialist.post(f"/outgoing/{doc_id}/submit",
                           data={"csrf_token": csrf_from(show)}).status_code == 302
    assert _doc(db, doc_id).status == "in_review"

    head = browser_login("head")
    page = head.get(f"/outgoing/{doc_id}").data.decode()
    assert 'id="review-form"' in page
    r = head.post(f"/outgoing/{doc_id}/return", data={"comment": "",
                                                      "csrf_token": csrf_from(page)})
    assert "Vui lòng ghi ý kiến" in head.get(r.location).data.decode()
    assert _doc(db, doc_id).status == "in_review"
    head.post(f"/outgoing/{doc_id}/approve", data={"comment": "Đồng ý trình ký",
                                                   "csrf_token": csrf_from(page)})
    assert _doc(db, doc_id).status == "awaiting_signature"

    leader = browser_login("leader")
    sign_page = leader.get(f"/outgoing/{doc_id}/sign").data.decode()
    assert "Đồng ý trình ký" in sign_page  # the route history on the signing page
    leader.post(f"/outgoing/{doc_id}/sign", data={"pin": PIN,
                                                  "csrf_token": csrf_from(sign_page)})
    assert _doc(db, doc_id).status == "signed"

    clerk = browser_login("clerk")
    page = clerk.get(f"/outgoing/{doc_id}").data.decode()
    assert 'id="issue-form"' in page
    r = clerk.post(f"/outgoing/{doc_id}/issue", data={"pin": "111111",
                                                      "csrf_token": csrf_from(page)})
    assert "Mã PIN không đúng." in clerk.get(r.location).data.decode()
    assert _doc(db, doc_id).status == "signed" and _count(db, Counter) == 0
    r = clerk.post(f"/outgoing/{doc_id}/issue", data={"pin": ORG_PIN,
                                                      "csrf_token": csrf_from(page)})
    issued = clerk.get(r.location).data.decode()
    assert "Đã phát hành văn bản số 01/QĐ-VP." in issued
    assert '<span data-testid="notation">01/QĐ-VP</span>' in issued
    assert issued.count("Đã gửi (ngoài hệ thống)") == 1 and ">Đã đến<" in issued
    assert issued.count('class="badge sig-badge sig-valid"') >= 3  # overall + 2 signatures

    # The recipient: the pending document, its signature check, reject without a reason,
    # then accept.
    other = browser_login("other_clerk")
    with db.transaction(readonly=True) as s:
        incoming = s.scalar(select(IncomingDocument))
    page = other.get(f"/incoming/{incoming.id}").data.decode()
    assert "Tiếp nhận văn bản điện tử" in page and "Tiếp nhận và vào sổ" in page
    assert "Phạm Minh Quang" in page and "Hợp lệ" in page
    r = other.post(f"/incoming/{incoming.id}/reject", data={"reason": " ",
                                                            "csrf_token": csrf_from(page)})
    assert "Vui lòng nêu lý do trả lại." in other.get(r.location).data.decode()
    r = other.post(f"/incoming/{incoming.id}/accept", data={"csrf_token": csrf_from(page)})
    after = other.get(r.location).data.decode()
    assert "Đã tiếp nhận và vào sổ văn bản đến số 1: 01/QĐ-VP." in after
    assert "Tiếp nhận văn bản điện tử" not in after
    assert ">Đã vào sổ<" in clerk.get(f"/outgoing/{doc_id}").data.decode()
    # Only the recipient's clerk may accept: a leader is refused by role.
    assert browser_login("other_leader").post(
        f"/incoming/{incoming.id}/accept", data={"csrf_token": csrf_from(page)}
    ).status_code in (400, 403)

    book = clerk.get("/outgoing/register").data.decode()
    assert "01/QĐ-VP" in book and "Phạm Minh Quang" in book
    export = clerk.get("/outgoing/register/export?format=csv")
    assert "01/QĐ-VP" in export.data.decode("utf-8-sig")
    lists = clerk.get("/outgoing/?queue=issued").data.decode()
    assert "01/QĐ-VP" in lists


def test_recipient_rejects_through_the_page(browser_login, issued, db):
    other = browser_login("other_clerk")
    with db.transaction(readonly=True) as s:
        incoming = s.scalar(select(IncomingDocument))
    page = other.get(f"/incoming/{incoming.id}").data.decode()
    r = other.post(f"/incoming/{incoming.id}/reject", data={
        "reason": "Sai nơi nhận", "csrf_token": csrf_from(page)})
    assert "Đã trả lại văn bản cho nơi gửi." in other.get(r.location).data.decode()
    sender = browser_login("clerk").get(f"/outgoing/{issued['id']}").data.decode()
    assert ">Từ chối<" in sender and "Lý do: Sai nơi nhận" in sender


def test_queues_and_versions(browser_login, api, new_draft, keys, world):
    doc = new_draft()
    specialist = browser_login("specialist")
    listing = specialist.get("/outgoing/?queue=mine").data.decode()
    assert 'data-testid="queue-mine"' in listing and "Chưa cấp số" in listing
    assert 'data-testid="queue-to_issue"' not in listing  # not a clerk's page
    dashboard = specialist.get("/").data.decode()
    assert 'data-testid="out-mine"' in dashboard and 'data-testid="mine"' in dashboard
    page = specialist.get(f"/outgoing/{doc['id']}").data.decode()
    r = specialist.post(f"/outgoing/{doc['id']}/versions", data={
        "file": upload(draft_pdf(), "du-thao-2.pdf"), "note": "Sửa điều 2",
        "csrf_token": csrf_from(page)}, content_type="multipart/form-data")
    page = specialist.get(r.location).data.decode()
    assert "Đã tải lên phiên bản 2." in page and "Phiên bản 2" in page
    assert "“Sửa điều 2”" in page
    versions = re.findall(r'href="(/outgoing/\d+/file\?f=\d+&amp;download=1)"', page)
    assert len(versions) >= 2
    got = specialist.get(versions[-1].replace("&amp;", "&"))
    assert got.status_code == 200 and got.data.startswith(b"%PDF")
    assert "attachment" in got.headers["Content-Disposition"]
    assert specialist.get(f"/outgoing/{doc['id']}/file?f=999999").status_code == 404
    assert specialist.get(f"/outgoing/{doc['id']}/pages/9.png").status_code == 404
    png = specialist.get(f"/outgoing/{doc['id']}/pages/1.png")
    assert png.status_code == 200 and png.data.startswith(b"\x89PNG")
