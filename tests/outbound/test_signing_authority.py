"""Thẩm quyền ký (ND30 Điều 13) as each organisation's data: who may sign which document in
what capacity, checked when the signer is named or changed and again when signing and
issuing; the signer block's capacity line (KT., TL. …) must match."""
import pytest
from sqlalchemy import func, select

from docmgr.core import auth as accounts
from docmgr.core.audit import AuditEvent
from docmgr.core.documents import StoredFile
from docmgr.core.numbering import Counter
from docmgr.outbound import authority
from docmgr.outbound.models import (
    Authority,
    OutgoingDocument,
    SignerKind,
    SigningAuthority,
)
from docmgr.signing import operations as signing
from docmgr.signing.models import SigningKey
from tests import corpus
from tests.conftest import PASSWORD, csrf_from, upload
from tests.outbound.conftest import ORG_PIN, PIN, draft_form, draft_pdf


@pytest.fixture
def deputy(app, db, world, keys, password_hash):
    """A deputy leader (phó chánh văn phòng) with a signing certificate."""
    with db.transaction() as s:
        org = s.get(accounts.Organization, world.org.id)
        user = accounts.create_user(s, org=org, username="deputy", password=PASSWORD,
                                    full_name="Đặng Văn Minh", role="leader")
        assert user.leader_position == accounts.LeaderPosition.DEPUTY  # the org has a head
        signing.issue_user_certificate(s, keys, user, PIN)
        s.refresh(user)
        s.expunge(user)
    world.users["deputy"] = user
    return user


def _count(db, model) -> int:
    with db.transaction(readonly=True) as s:
        return s.scalar(select(func.count()).select_from(model))


def _post_draft(api, world, author="specialist", pdf=None, **overrides):
    return api(author).post("/api/v1/drafts", data={
        **draft_form(world, reviewer_ids="", **overrides),
        "file": upload(pdf or draft_pdf(), "du-thao.pdf")})


def _allow(db, world, doc_class, signer, capacity, allowed=True):
    with db.transaction() as s:
        authority.set_allowed(s, s.get(accounts.User, world.users["admin"].id), doc_class,
                              signer, capacity, allowed)


# --- naming the signer -----------------------------------------------------------------------

def test_a_unit_head_naming_herself_signer_of_a_quyet_dinh_is_refused(api, world, db):
    r = _post_draft(api, world, author="head", signer_id=str(world.users["head"].id))
    assert r.status_code == 400
    error = r.json["error"]
    assert error["field"] == "signer_id" and error["code"] == "signing_authority"
    assert "Lê Thị Hoa (trưởng đơn vị thuộc cơ quan) không có thẩm quyền ký Quyết định" \
        in error["message"]
    assert "người đứng đầu cơ quan (ký trực tiếp, TM., Q.)" in error["message"]
    assert "cấp phó của người đứng đầu (KT.)" in error["message"]
    assert _count(db, OutgoingDocument) == 0 and _count(db, StoredFile) == 0


def test_leaders_documents_stay_with_leaders_whatever_the_organisation_allows(api, world, db):
    """TL. allowed for công văn does not reach a legal-normative one, and the table has no
    unit-head capacity on quyết định at all."""
    _allow(db, world, "CV", SignerKind.UNIT_HEAD, Authority.TL)
    head = str(world.users["head"].id)
    assert _post_draft(api, world, doc_type="CV", signer_id=head).status_code == 201
    legal = _post_draft(api, world, doc_type="CV", legal_normative="true", signer_id=head)
    assert legal.status_code == 400
    assert "không có thẩm quyền ký Văn bản quy phạm pháp luật" in legal.json["error"]["message"]
    with db.transaction() as s, pytest.raises(Exception, match="không có trong bảng"):
        authority.set_allowed(s, s.get(accounts.User, world.users["admin"].id), "QĐ",
                              SignerKind.UNIT_HEAD, Authority.TL, True)


def test_the_new_draft_page_says_the_rule(browser_login, world):
    author = browser_login("head")
    page = author.get("/outgoing/new")
    r = author.post("/outgoing/new", data={
        "doc_type": "QĐ", "subject": "Quyết định khen thưởng",
        "signer_id": str(world.users["head"].id), "external": "Sở Nội vụ",
        "file": upload(draft_pdf()), "csrf_token": csrf_from(page.data)})
    assert r.status_code == 400
    assert "không có thẩm quyền ký Quyết định" in r.data.decode()


def test_a_leader_without_a_known_position_is_not_taken_for_the_head(api, world, db):
    with db.transaction() as s:
        s.get(accounts.User, world.users["leader"].id).leader_position = None
    r = _post_draft(api, world)
    assert r.status_code == 400
    assert "người đứng đầu hay cấp phó" in r.json["error"]["message"]


# --- signing in the capacity the block states --------------------------------------------------

def test_a_deputy_leader_signs_with_kt(api, world, db, deputy, browser_login):
    block = draft_pdf(signer_name="Dang Van Minh", title="KT. Chanh Van phong")
    doc = _post_draft(api, world, pdf=block, signer_id=str(deputy.id))
    assert doc.status_code == 201, doc.json
    url = f"/api/v1/drafts/{doc.json['id']}"
    api("specialist").post(f"{url}/submit")
    page = browser_login("deputy").get(f"/outgoing/{doc.json['id']}/sign").data.decode()
    assert "Thẩm quyền ký theo khối chữ ký: <b>KT. (ký thay)</b>." in page
    signed = api("deputy").post(f"{url}/sign", json={"pin": PIN})
    assert signed.status_code == 200, signed.json
    assert signed.json["signer_authority"] == "KT"
    issued = api("clerk").post(f"{url}/issue", json={"pin": ORG_PIN})
    assert issued.status_code == 200, issued.json


def test_a_signer_block_that_contradicts_the_rule_is_refused_before_the_pin(
        api, world, db, deputy, browser_login):
    cases = [("deputy", "Dang Van Minh", "Chanh Van phong", "không ghi thẩm quyền"),
             ("leader", "Pham Minh Quang", "KT. Chanh Van phong", "ghi “KT.”"),
             ("deputy", "Dang Van Minh", "TL. Chanh Van phong", "ghi “TL.”")]
    for signer, name, title, said in cases:
        block = draft_pdf(signer_name=name, title=title)
        doc = _post_draft(api, world, pdf=block, signer_id=str(world.users[signer].id)).json
        url = f"/api/v1/drafts/{doc['id']}"
        api("specialist").post(f"{url}/submit")
        refused = api(signer).post(f"{url}/sign", json={"pin": "000000"})  # not even tried
        assert refused.status_code == 409, (title, refused.json)
        assert refused.json["error"]["code"] == "signing_authority"
        assert f"Khối chữ ký của dự thảo {said}" in refused.json["error"]["message"]
        page = browser_login(signer).get(f"/outgoing/{doc['id']}/sign", follow_redirects=True)
        assert "Khối chữ ký của dự thảo" in page.data.decode()
    with db.transaction() as s:  # the PIN was never checked: no failure counted
        assert all(k.failed_pins == 0 for k in s.scalars(select(SigningKey)))


def test_a_unit_head_signs_a_cong_van_as_tl_only_when_the_organisation_allows_it(
        api, world, db, keys, browser_login):
    head = str(world.users["head"].id)
    refused = _post_draft(api, world, doc_type="CV", signer_id=head)
    assert refused.status_code == 400
    assert "chưa cho phép trưởng đơn vị thuộc cơ quan ký TL., TUQ." in \
        refused.json["error"]["message"]

    admin = browser_login("admin")
    page = admin.get("/outgoing/signing-authority")
    r = admin.post("/outgoing/signing-authority", data={
        "doc_class": "CV", "signer": "unit_head", "authority": "TL", "allowed": "1",
        "csrf_token": csrf_from(page.data)}, follow_redirects=True)
    assert "Đã cập nhật thẩm quyền ký: Công văn" in r.data.decode()

    block = draft_pdf(signer_name="Le Thi Hoa", title="TL. Chanh Van phong")
    doc = _post_draft(api, world, pdf=block, doc_type="CV", signer_id=head)
    assert doc.status_code == 201, doc.json
    url = f"/api/v1/drafts/{doc.json['id']}"
    api("specialist").post(f"{url}/submit")
    signed = api("head").post(f"{url}/sign", json={"pin": PIN})
    assert signed.status_code == 200 and signed.json["signer_authority"] == "TL"
    shown = browser_login("specialist").get(f"/outgoing/{doc.json['id']}").data.decode()
    assert 'data-testid="signer-authority">TL.</span> Lê Thị Hoa' in shown

    # The rules change between signing and issuing: issuing follows today's rules.
    _allow(db, world, "CV", SignerKind.UNIT_HEAD, Authority.TL, False)
    stopped = api("clerk").post(f"{url}/issue", json={"pin": ORG_PIN})
    assert stopped.status_code == 409 and stopped.json["error"]["code"] == "signing_authority"
    assert _count(db, Counter) == 0
    _allow(db, world, "CV", SignerKind.UNIT_HEAD, Authority.TL, True)
    issued = api("clerk").post(f"{url}/issue", json={"pin": ORG_PIN})
    assert issued.status_code == 200, issued.json

    # TUQ. is a capacity of its own: still not allowed.
    tuq = draft_pdf(signer_name="Le Thi Hoa", title="TUQ. Chanh Van phong")
    other = _post_draft(api, world, pdf=tuq, doc_type="CV", signer_id=head).json
    api("specialist").post(f"/api/v1/drafts/{other['id']}/submit")
    r = api("head").post(f"/api/v1/drafts/{other['id']}/sign", json={"pin": PIN})
    assert r.status_code == 409 and "ghi “TUQ.”" in r.json["error"]["message"]


def test_signing_follows_the_rules_of_the_day(api, world, db, keys):
    """Named when allowed, refused at signing once the organisation withdrew it."""
    _allow(db, world, "CV", SignerKind.UNIT_HEAD, Authority.TL)
    block = draft_pdf(signer_name="Le Thi Hoa", title="TL. Chanh Van phong")
    doc = _post_draft(api, world, pdf=block, doc_type="CV",
                      signer_id=str(world.users["head"].id)).json
    api("specialist").post(f"/api/v1/drafts/{doc['id']}/submit")
    _allow(db, world, "CV", SignerKind.UNIT_HEAD, Authority.TL, False)
    r = api("head").post(f"/api/v1/drafts/{doc['id']}/sign", json={"pin": PIN})
    assert r.status_code == 409 and "không có thẩm quyền ký Công văn" in \
        r.json["error"]["message"]


# --- changing the signer -------------------------------------------------------------------------

def test_the_author_changes_the_signer_within_the_rules(api, world, db, deputy):
    doc = _post_draft(api, world).json
    url = f"/api/v1/drafts/{doc['id']}/signer"
    refused = api("specialist").post(url, json={"signer_id": world.users["head"].id})
    assert refused.status_code == 400 and refused.json["error"]["field"] == "signer_id"
    assert api("leader").post(url, json={"signer_id": deputy.id}).status_code == 403
    assert api("specialist").post(url, json={}).status_code == 400
    changed = api("specialist").post(url, json={"signer_id": deputy.id})
    assert changed.status_code == 200 and changed.json["signer_id"] == deputy.id
    api("specialist").post(f"/api/v1/drafts/{doc['id']}/submit")
    late = api("specialist").post(url, json={"signer_id": world.users["leader"].id})
    assert late.status_code == 409
    with db.transaction() as s:
        events = s.scalars(select(AuditEvent.action).where(
            AuditEvent.object_id == str(doc["id"]))).all()
    assert events.count("outgoing.signer_changed") == 1


def test_the_draft_page_offers_the_signer_change(browser_login, api, world, deputy):
    doc = _post_draft(api, world).json
    author = browser_login("specialist")
    page = author.get(f"/outgoing/{doc['id']}")
    assert 'id="signer-form"' in page.data.decode()
    r = author.post(f"/outgoing/{doc['id']}/signer", data={
        "signer_id": str(deputy.id), "csrf_token": csrf_from(page.data)},
        follow_redirects=True)
    assert "Đã đổi người ký: Đặng Văn Minh." in r.data.decode()


# --- the table ----------------------------------------------------------------------------------

def test_the_rules_are_readable_on_the_admin_page_and_the_api(browser_login, api, world):
    admin = browser_login("admin")
    dashboard = admin.get("/").data.decode()
    assert 'href="/outgoing/signing-authority"' in dashboard and "Thẩm quyền ký" in dashboard
    page = admin.get("/outgoing/signing-authority").data.decode()
    assert page.count("<tr data-class=") == len(authority.DOC_CLASSES)
    decision = page.split('<tr data-class="QĐ">')[1].split("</tr>")[0]
    assert "Quyết định" in decision and 'data-authority="KT" data-allowed="1"' in decision
    assert 'data-authority="TL"' not in decision  # no unit-head capacity at all
    letter = page.split('<tr data-class="CV">')[1].split("</tr>")[0]
    assert 'data-authority="TL" data-allowed="0"' in letter and "chưa cho phép" in letter

    # Everyone reads it (who may I name?); only the administrator changes it.
    assert browser_login("specialist").get("/outgoing/signing-authority").status_code == 200
    assert "Thẩm quyền ký" not in browser_login("specialist").get("/").data.decode()
    clerk = browser_login("clerk")
    form = clerk.get("/outgoing/signing-authority")
    assert 'name="allowed"' not in form.data.decode()
    assert clerk.post("/outgoing/signing-authority", data={
        "doc_class": "CV", "signer": "unit_head", "authority": "TL", "allowed": "1",
        "csrf_token": csrf_from(form.data)}).status_code == 403
    bad = admin.post("/outgoing/signing-authority", data={
        "doc_class": "CV", "signer": "boss", "authority": "TL", "allowed": "1",
        "csrf_token": csrf_from(page)}, follow_redirects=True)
    assert "Thẩm quyền ký không hợp lệ." in bad.data.decode()

    body = api("specialist").get("/api/v1/signing-authorities").json
    assert body["org_code"] == world.org.code and body["total"] == len(body["items"])
    rows = {(i["doc_class"], i["signer"], i["prefix"]): i["allowed"] for i in body["items"]}
    assert rows[("QĐ", "head", "")] and rows[("QĐ", "deputy", "KT.")]
    assert ("QĐ", "unit_head", "TL.") not in rows
    assert rows[("CV", "unit_head", "TL.")] is False
    assert rows[("legal_normative", "deputy", "KT.")]


def test_every_new_organisation_gets_the_nd30_table(app, db):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["docmgr", "create-org", "--code", "000.00.00.H48", "--name",
                                 "UBND tỉnh Thử", "--abbr", "UBND"])
    assert result.exit_code == 0, result.output
    with db.transaction() as s:
        org = s.scalar(select(accounts.Organization).where(
            accounts.Organization.code == "000.00.00.H48"))
        stored = s.scalars(select(SigningAuthority).where(
            SigningAuthority.org_id == org.id)).all()
        assert {(r.doc_class, r.signer, r.authority, r.allowed) for r in stored} == \
            {(r.doc_class, r.signer, r.authority, r.allowed) for r in authority.nd30_defaults()}
        assert authority.seed(s, org.id) == 0  # nothing twice


def test_leader_positions_one_head_per_organisation(app, db):
    runner = app.test_cli_runner()
    steps = [["create-org", "--code", "000.00.00.H48", "--name", "UBND tỉnh Thử",
              "--abbr", "UBND"],
             ["create-user", "--username", "chutich", "--password", "mot-mat-khau",
              "--full-name", "Chủ Tịch", "--role", "leader", "--org", "000.00.00.H48"],
             ["create-user", "--username", "phochutich", "--password", "mot-mat-khau",
              "--full-name", "Phó Chủ Tịch", "--role", "leader", "--org", "000.00.00.H48"]]
    for args in steps:
        result = runner.invoke(args=["docmgr", *args])
        assert result.exit_code == 0, result.output
    second_head = runner.invoke(args=["docmgr", "create-user", "--username", "khac",
                                      "--password", "mot-mat-khau", "--full-name", "Khác",
                                      "--role", "leader", "--org", "000.00.00.H48",
                                      "--leader-position", "head"])
    assert second_head.exit_code == 1 and "đã có người đứng đầu (Chủ Tịch)" in second_head.output
    with db.transaction(readonly=True) as s:
        positions = dict(s.execute(select(accounts.User.username, accounts.User.leader_position)
                                   .where(accounts.User.role == "leader")).all())
    assert positions == {"chutich": "head", "phochutich": "deputy"}
    # The head steps down, the deputy takes over.
    for username, position in (("chutich", "deputy"), ("phochutich", "head")):
        result = runner.invoke(args=["docmgr", "set-leader-position", "--username", username,
                                     "--position", position])
        assert result.exit_code == 0, result.output
    with db.transaction(readonly=True) as s:
        assert s.scalar(select(accounts.User.leader_position).where(
            accounts.User.username == "phochutich")) == "head"


# --- reading the signer block -------------------------------------------------------------------

@pytest.mark.parametrize("lines, stated", [
    (("CHỦ TỊCH",), Authority.NONE),
    (("TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH"), Authority.TM),
    (("TM. CHÍNH PHỦ", "KT. THỦ TƯỚNG", "PHÓ THỦ TƯỚNG"), Authority.KT),
    (("KT. BỘ TRƯỞNG ", "THỨ TRƯỞNG"), Authority.KT),
    (("tl. giám đốc", "chánh văn phòng"), Authority.TL),
    (("TUQ. CHỦ TỊCH", "GIÁM ĐỐC SỞ NỘI VỤ"), Authority.TUQ),
    (("Q. CHÁNH VĂN PHÒNG",), Authority.Q),
    (("trong phạm vi chức năng, nhiệm vụ.", "KT.CHỦ TỊCH"), Authority.KT),
    ((), Authority.NONE),
    (None, None),
])
def test_the_capacity_a_signer_block_states(lines, stated):
    assert authority.stated_authority(lines) == stated


@pytest.mark.corpus
@pytest.mark.parametrize("relative, signer, stated", [
    ("pdf/vn/unsigned/nghi-quyet-78-2025-UBTVQH15.pdf", "Trần Thanh Mẫn", Authority.TM),
    ("pdf/vn/unsigned/thong-tu-12-2022-TT-BLDTBXH.pdf", "Lê Văn Thanh", Authority.KT),
    ("signed/vn-congbao/valid/nghi-dinh-145-2026-ND-CP.pdf", "Nguyễn Văn Thắng", Authority.KT),
    ("signed/vn-congbao/valid/quyet-dinh-333-QD-BTC.pdf", "Nguyễn Đức Chi", Authority.KT),
])
def test_real_documents_signer_blocks(relative, signer, stated):
    from docmgr.signing import placement, signer_block
    pdf = corpus.path(relative).read_bytes()
    lines = signer_block.lines_above_name(pdf, placement.find_layout(pdf, signer))
    assert authority.stated_authority(lines) == stated
