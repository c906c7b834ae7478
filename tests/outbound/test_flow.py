"""Outgoing documents through the API: the whole route, every refusal, and the file."""
import io

from pyhanko.pdf_utils.reader import PdfFileReader
from sqlalchemy import func, select

from docmgr.core import clock
from docmgr.core.numbering import Counter
from docmgr.signing import engine
from tests.conftest import upload
from tests.outbound.conftest import ORG_PIN, PIN, draft_form, draft_pdf
from tests.signing.checks import pdfsig_report
from tests.signing.tamper import refill


def test_route_review_return_resubmit_sign_issue_dispatch(api, world, keys, new_draft,
                                                          tmp_path):
    doc = new_draft()
    assert doc["status"] == "draft" and doc["route"][0]["reviewer"] == "Lê Thị Hoa"
    url = f"/api/v1/drafts/{doc['id']}"
    assert api("specialist").post(f"{url}/submit").json["status"] == "in_review"
    # Not the head's turn yet? It is: the head is the only reviewer. The signer must wait.
    assert api("leader").post(f"{url}/approve", json={}).status_code == 403
    assert api("head").post(f"{url}/return", json={}).status_code == 400  # comment required
    returned = api("head").post(f"{url}/return", json={"comment": "Sửa lại điều 2"}).json
    assert returned["status"] == "returned"
    assert returned["route"][0]["decision"] == "returned"
    v2 = api("specialist").post(f"{url}/versions", data={"file": upload(draft_pdf()),
                                                         "note": "Đã sửa điều 2"})
    assert v2.status_code == 201 and len(v2.json["versions"]) == 2
    again = api("specialist").post(f"{url}/submit").json
    assert again["status"] == "in_review" and again["route"][0]["current"]
    approved = api("head").post(f"{url}/approve", json={"comment": "Đồng ý"}).json
    assert approved["status"] == "awaiting_signature"

    wrong = api("leader").post(f"{url}/sign", json={"pin": "000000"})
    assert wrong.status_code == 403 and wrong.json["error"]["field"] == "pin"
    assert api("leader").get(url).json["status"] == "awaiting_signature"
    assert api("head").post(f"{url}/sign", json={"pin": PIN}).status_code == 403
    signed = api("leader").post(f"{url}/sign", json={"pin": PIN})
    assert signed.status_code == 200, signed.json
    assert signed.json["status"] == "signed" and signed.json["number"] is None

    assert api("clerk").post(f"{url}/issue", json={"pin": "111111"}).status_code == 403
    with_counter = api("clerk").get(url).json
    assert with_counter["status"] == "signed" and with_counter["number"] is None
    issued = api("clerk").post(f"{url}/issue", json={"pin": ORG_PIN})
    assert issued.status_code == 200, issued.json
    body = issued.json
    year = clock.today().year
    assert body["status"] == "issued" and body["number"] == 1
    assert body["notation"] == "01/QĐ-VP" and body["doc_date"] == clock.today().isoformat()
    assert body["id"] == doc["id"]
    report = body["signature_report"]["signatures"]
    assert [s["intact"] for s in report] == [True, True]
    assert report[0]["modification_level"] == "form_filling"
    assert [s["trusted"] for s in report] == [True, True]

    final = api("specialist").get(f"/api/v1/outgoing/{doc['id']}/file").data
    poppler = pdfsig_report(final, tmp_path)
    assert [s["Signature Validation"] for s in poppler] == ["Signature is Valid."] * 2

    dispatch = {d["name"]: d["status"] for d in body["dispatch"]}
    assert dispatch == {"Sở Xây dựng": "received", "Sở Nội vụ tỉnh Quảng Ngãi": "sent"}
    pending = api("other_clerk").get("/api/v1/incoming?status=pending").json
    assert pending["total"] == 1
    incoming = pending["items"][0]
    assert incoming["notation"] == "01/QĐ-VP" and incoming["arrival_number"] is None
    assert incoming["sender"] == "Văn phòng UBND tỉnh Quảng Ngãi"
    assert len(incoming["signature_check"]["signatures"]) == 2
    assert api("other_clerk").get(f"/api/v1/incoming/{incoming['id']}/file").data == final
    accepted = api("other_clerk").post(f"/api/v1/incoming/{incoming['id']}/accept")
    assert accepted.status_code == 200 and accepted.json["arrival_number"] == 1
    follow = api("specialist").get(f"/api/v1/outgoing/{doc['id']}").json
    assert {d["name"]: d["status"] for d in follow["dispatch"]}["Sở Xây dựng"] == "registered"
    export = api("clerk").get(f"/api/v1/registers/outgoing?year={year}&format=csv")
    text = export.data.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("\"Số, ký hiệu\"") or text.startswith("Số, ký hiệu")
    assert "01/QĐ-VP" in text and "Phạm Minh Quang" in text


def test_recipient_can_reject_with_reason(api, world, signed_draft):
    doc = signed_draft()
    api("clerk").post(f"/api/v1/drafts/{doc['id']}/issue", json={"pin": ORG_PIN})
    incoming = api("other_clerk").get("/api/v1/incoming?status=pending").json["items"][0]
    url = f"/api/v1/incoming/{incoming['id']}/reject"
    assert api("other_clerk").post(url, json={}).status_code == 400
    assert api("other_leader").post(url, json={"reason": "x"}).status_code == 403
    r = api("other_clerk").post(url, json={"reason": "Sai nơi nhận"})
    assert r.status_code == 200 and r.json["status"] == "rejected"
    dispatch = api("clerk").get(f"/api/v1/outgoing/{doc['id']}").json["dispatch"]
    rejected = [d for d in dispatch if d["internal"]][0]
    assert rejected["status"] == "rejected" and rejected["reason"] == "Sai nơi nhận"
    assert api("other_clerk").post(f"/api/v1/incoming/{incoming['id']}/accept").status_code \
        == 409


def test_notations_per_nd30(api, world, signed_draft):
    year = clock.today().year
    cases = [
        ({"doc_type": "CV"}, "01/VP-KT"),          # công văn: body - drafting unit
        ({"doc_type": "BC"}, "02/BC-VP"),          # shared sequence continues
        ({"doc_type": "QĐ", "legal_normative": "true"}, f"01/{year}/QĐ-VP"),
        ({"doc_type": "QĐ", "legal_normative": "true"}, f"02/{year}/QĐ-VP"),
        ({"doc_type": "NQ", "legal_normative": "true"}, f"01/{year}/NQ-VP"),
        ({"doc_type": "TB", "secrecy": "confidential"}, "01/TB-VP"),  # own sequence
        ({"doc_type": "KH"}, "03/KH-VP"),
    ]
    for overrides, expected in cases:
        doc = signed_draft(**overrides)
        issued = api("clerk").post(f"/api/v1/drafts/{doc['id']}/issue", json={"pin": ORG_PIN})
        assert issued.status_code == 200, issued.json
        assert issued.json["notation"] == expected, overrides
    # The classified one was not sent over the interchange.
    assert api("other_clerk").get("/api/v1/incoming?status=pending").json["total"] == 6


def test_refusals(api, world, keys, new_draft, signed_draft, db):
    doc = new_draft()
    url = f"/api/v1/drafts/{doc['id']}"
    # A clerk cannot even see someone's unsigned draft; their own unsigned one is refused.
    assert api("clerk").post(f"{url}/issue", json={"pin": ORG_PIN}).status_code == 404
    own = new_draft(author="clerk", doc_type="TB")
    assert api("clerk").post(f"/api/v1/drafts/{own['id']}/issue",
                             json={"pin": ORG_PIN}).status_code == 409
    assert api("specialist_vx").post(f"{url}/submit").status_code == 404  # cannot see it
    assert api("head").post(f"{url}/submit").status_code == 403  # sees it, not the author
    assert api("leader").post(f"{url}/sign", json={"pin": PIN}).status_code == 409
    assert api("other_leader").get(url).status_code == 404
    assert api("admin").post("/api/v1/drafts", data={}).status_code == 403
    signed = signed_draft()
    surl = f"/api/v1/drafts/{signed['id']}"
    assert api("leader").post(f"{surl}/sign", json={"pin": PIN}).status_code == 409
    assert api("leader").post(f"{surl}/issue", json={"pin": ORG_PIN}).status_code == 403
    assert api("specialist").post(f"{surl}/versions",
                                  data={"file": upload(draft_pdf())}).status_code == 409
    with db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Counter)) == 0  # no number yet


def test_bad_drafts_are_refused(api, world, keys):
    def post(**overrides):
        data = {**draft_form(world, **overrides), "file": upload(draft_pdf())}
        return api("specialist").post("/api/v1/drafts", data=data)
    assert post(doc_type="XX").json["error"]["field"] == "doc_type"
    assert post(subject="").json["error"]["field"] == "subject"
    assert post(signer_id=str(world.users["specialist_vx"].id)).json["error"]["field"] == \
        "signer_id"
    assert post(signer_id=str(world.users["other_leader"].id)).status_code == 404
    assert post(reviewer_ids="abc").json["error"]["field"] == "reviewer_ids"
    assert post(recipients="[]").json["error"]["field"] == "recipients"
    assert post(recipients=f'["{world.org.code}"]').json["error"]["field"] == "recipients"
    bad_file = api("specialist").post("/api/v1/drafts", data={
        **draft_form(world), "file": upload(b"not a pdf")})
    assert bad_file.status_code == 400 and bad_file.json["error"]["field"] == "file"


def test_signer_can_return_and_it_comes_back_to_the_signer(api, world, keys, new_draft):
    doc = new_draft(reviewer_ids="")
    url = f"/api/v1/drafts/{doc['id']}"
    assert api("specialist").post(f"{url}/submit").json["status"] == "awaiting_signature"
    assert api("leader").post(f"{url}/return", json={"comment": "Bổ sung căn cứ"}).json[
        "status"] == "returned"
    assert api("specialist").post(f"{url}/submit").json["status"] == "awaiting_signature"


def test_explicit_signature_position(api, world, keys, new_draft, db):
    doc = new_draft(reviewer_ids="")
    url = f"/api/v1/drafts/{doc['id']}"
    api("specialist").post(f"{url}/submit")
    assert api("leader").post(f"{url}/sign", json={"pin": PIN, "page": 9}).status_code == 400
    r = api("leader").post(f"{url}/sign", json={"pin": PIN, "page": 1, "x": 300, "y": 200})
    assert r.status_code == 200
    from docmgr.outbound.models import OutgoingDocument
    with db.transaction() as s:
        box = s.get(OutgoingDocument, doc["id"]).signature_box
    assert box["page"] == 0 and box["x0"] == 300 and box["y0"] == 200


def test_batch_signing_with_one_pin(api, world, keys, new_draft, unit_heads_sign):
    ids = []
    for _ in range(3):
        doc = new_draft(reviewer_ids="")
        api("specialist").post(f"/api/v1/drafts/{doc['id']}/submit")
        ids.append(doc["id"])
    not_mine = new_draft(reviewer_ids="", signer_id=str(world.users["head"].id), doc_type="CV")
    api("specialist").post(f"/api/v1/drafts/{not_mine['id']}/submit")
    wrong = api("leader").post("/api/v1/drafts/sign-batch", json={"ids": ids, "pin": "000000"})
    assert wrong.status_code == 403
    r = api("leader").post("/api/v1/drafts/sign-batch",
                           json={"ids": ids + [not_mine["id"]], "pin": PIN})
    assert r.status_code == 200 and r.json["signed"] == 3
    assert [x["ok"] for x in r.json["results"]] == [True, True, True, False]
    assert all(api("leader").get(f"/api/v1/drafts/{i}").json["status"] == "signed" for i in ids)
    assert api("head").get(f"/api/v1/drafts/{not_mine['id']}").json["status"] == \
        "awaiting_signature"


def test_reminder_counts_what_waits_too_long(api, world, keys, new_draft, db, browser_login):
    from datetime import timedelta

    from docmgr.core import clock
    from docmgr.core.auth import User
    from docmgr.outbound import operations as ops
    from docmgr.outbound.models import OutgoingDocument
    doc = new_draft(reviewer_ids="")
    api("specialist").post(f"/api/v1/drafts/{doc['id']}/submit")
    with db.transaction() as s:
        leader = s.get(User, world.users["leader"].id)
        assert ops.queue_counts(s, leader)["waiting"] == 0
        s.get(OutgoingDocument, doc["id"]).updated_at = clock.now() - timedelta(hours=30)
    with db.transaction() as s:
        leader = s.get(User, world.users["leader"].id)
        assert ops.queue_counts(s, leader)["waiting"] == 1
        assert ops.queue_counts(s, leader, remind_after_hours=48)["waiting"] == 0
    page = browser_login("leader").get("/").data.decode()
    assert "Chờ quá 24 giờ" in page


def test_attachments_get_the_organisation_text_signature(api, world, keys, tmp_path):
    from docmgr.demo import sample_pdf
    from tests.signing.checks import extracted_text
    annex = sample_pdf(["PHU LUC", "Danh sach don vi"], pages=2)
    r = api("specialist").post("/api/v1/drafts", data={
        **draft_form(world, reviewer_ids=""), "file": upload(draft_pdf()),
        "attachments": [upload(annex, "phu-luc-1.pdf"), upload(annex + b"\n", "phu-luc-2.pdf")]})
    assert r.status_code == 201, r.json
    doc = r.json
    assert [a["filename"] for a in doc["attachments"]] == ["phu-luc-1.pdf", "phu-luc-2.pdf"]
    url = f"/api/v1/drafts/{doc['id']}"
    api("specialist").post(f"{url}/submit")
    api("leader").post(f"{url}/sign", json={"pin": PIN})
    issued = api("clerk").post(f"{url}/issue", json={"pin": ORG_PIN}).json
    assert all(a["signed"] for a in issued["attachments"])
    first = issued["attachments"][0]["id"]
    signed = api("specialist").get(f"/api/v1/outgoing/{doc['id']}/attachments/{first}").data
    assert signed.startswith(annex)  # the original bytes, then the signature revision
    poppler = pdfsig_report(signed, tmp_path)
    assert [s["Signature Validation"] for s in poppler] == ["Signature is Valid."]
    text = extracted_text(signed, tmp_path)
    assert issued["notation"] in text and "+07:00" in text
    bad = api("specialist").post("/api/v1/drafts", data={
        **draft_form(world), "file": upload(draft_pdf()),
        "attachments": [upload(b"not a pdf", "x.pdf")]})
    assert bad.status_code == 400
    assert api("other_clerk").get(
        f"/api/v1/outgoing/{doc['id']}/attachments/{first}").status_code == 404


def test_issued_file_is_locked_and_says_why_where_and_when(api, world, keys, signed_draft):
    """Issue 12: the number is locked by the organisation's signature; every signature has
    /Reason, /Location (the organisation's place) and /M in +07:00."""
    doc = signed_draft()
    issued = api("clerk").post(f"/api/v1/drafts/{doc['id']}/issue", json={"pin": ORG_PIN}).json
    assert issued["signature_report"]["verdict"] == "valid"
    final = api("specialist").get(f"/api/v1/outgoing/{doc['id']}/file").data
    leader, organisation = PdfFileReader(io.BytesIO(final), strict=False).embedded_signatures
    for sig in (leader, organisation):
        assert str(sig.sig_object["/Location"]) == "Quảng Ngãi"
        assert str(sig.sig_object["/M"]).endswith("+07'00'")
    assert str(leader.sig_object["/Reason"]) == "Người có thẩm quyền ký văn bản"
    assert str(organisation.sig_object["/Reason"]) == \
        f"Cơ quan ký số phát hành văn bản số {issued['notation']}"
    renumbered = refill(final, {engine.FIELD_NUMBER: "99/QĐ-VP"})
    body = api("clerk").post("/api/v1/signatures/validate", data={
        "file": upload(renumbered, "van-ban.pdf")}, content_type="multipart/form-data").json
    assert body["verdict"] == "altered"
    assert body["signatures"][1]["changed_fields"] == [{
        "field": "SoKyHieu", "old": issued["notation"], "new": "99/QĐ-VP", "what": "value"}]
