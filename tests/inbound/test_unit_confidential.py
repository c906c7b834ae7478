"""Issue 11: a classified document assigned to a unit is for the unit's head and deputies
(Phó trưởng phòng) and the persons named on it — not for every member of the unit.
Everywhere: list, counts, dashboard, document page, file, preview, register export and
hồ sơ (search: tests/search)."""
import pytest
from sqlalchemy import select

from docmgr.core import auth as accounts
from docmgr.core import clock
from docmgr.core.errors import ValidationFailed
from docmgr.inbound import operations as ops
from tests.conftest import registration_form, upload

SECRET_SUBJECT = "Bảo đảm an ninh kinh tế trong các dự án trọng điểm"
PLAIN_SUBJECT = "Báo cáo tình hình thực hiện dự toán ngân sách quý III"
# username -> may open a Mật document assigned to Phòng Kinh tế (KT) by the leader
SIGHT = {"leader": True, "clerk": True,  # every leader; the clerk who registered it
         "head": True, "deputy": True,  # the unit's head and its deputy head
         "specialist": False,  # a member of the unit, not named on it
         "clerk2": False, "head_vx": False, "specialist_vx": False, "admin": False}


def register(api, pdf_bytes, who="clerk", **fields):
    r = api(who).post("/api/v1/incoming", data={**registration_form(**fields),
                                                 "file": upload(pdf_bytes)})
    assert r.status_code == 201, r.json
    return r.json


def assign(api, who, doc_id, **target):
    return api(who).post(f"/api/v1/incoming/{doc_id}/assignments",
                         json={"role": "main", **target})


@pytest.fixture
def deputy(db, world, password_hash):
    """A Phó trưởng phòng of Phòng Kinh tế: a specialist by role, marked deputy."""
    with db.transaction() as s:
        user = accounts.User(org_id=world.org.id, unit_id=world.units["KT"].id,
                             username="deputy", password_hash=password_hash,
                             full_name="Đặng Văn Phúc", role="specialist", is_deputy=True)
        s.add(user)
        s.flush()
        s.refresh(user)
        s.expunge(user)
    world.users["deputy"] = user
    return user


@pytest.fixture
def unit_secret(api, world, pdf_bytes, deputy):
    """A normal document and a Mật one, both registered today; the Mật one assigned to
    Phòng Kinh tế as a unit."""
    register(api, pdf_bytes, notation="412/STC-NS", subject=PLAIN_SUBJECT)
    secret = register(api, pdf_bytes, notation="37/CAT-PA03", subject=SECRET_SUBJECT,
                      sender="Công an tỉnh Quảng Ngãi", secrecy="confidential")
    r = assign(api, "leader", secret["id"], unit_id=world.units["KT"].id)
    assert r.status_code == 201, r.json
    return secret


def test_the_unit_head_and_deputy_see_it_its_other_members_do_not(api, unit_secret):
    url = f"/api/v1/incoming/{unit_secret['id']}"
    for who, sees in SIGHT.items():
        listing = api(who).get("/api/v1/incoming").json
        assert listing["total"] == (2 if sees else 1), who
        assert (unit_secret["id"] in [d["id"] for d in listing["items"]]) == sees, who
        assert api(who).get(url).status_code == (200 if sees else 404), who
        assert api(who).get(f"{url}/file").status_code == (200 if sees else 404), who
        mine = api(who).get("/api/v1/incoming", query_string={"queue": "mine"}).json
        assert (unit_secret["id"] in [d["id"] for d in mine["items"]]) == (who == "head"), who


def test_dashboard_counts_and_lists_leave_it_out_for_unit_members(api, app, db, world,
                                                                    browser_login,
                                                                    unit_secret):
    for who in ("specialist", "head", "deputy"):
        with db.transaction(readonly=True) as s:
            counts = ops.queue_counts(s, s.get(accounts.User, world.users[who].id))
        assert counts["today"] == (2 if SIGHT[who] else 1), who
        assert counts["mine"] == (1 if who == "head" else 0), who  # the head handles it
        dashboard = browser_login(who).get("/").get_data(as_text=True)
        assert PLAIN_SUBJECT in dashboard
        assert (SECRET_SUBJECT in dashboard) == SIGHT[who], who
        page = browser_login(who).get("/incoming/").get_data(as_text=True)
        assert (SECRET_SUBJECT in page) == SIGHT[who], who


def test_the_page_and_preview_are_refused_to_unit_members(browser_login, unit_secret):
    for who in ("specialist", "head"):
        client = browser_login(who)
        page = client.get(f"/incoming/{unit_secret['id']}")
        preview = client.get(f"/incoming/{unit_secret['id']}/pages/1.png")
        download = client.get(f"/incoming/{unit_secret['id']}/file?download=1")
        if SIGHT[who]:
            assert page.status_code == 200 and SECRET_SUBJECT in page.get_data(as_text=True)
            assert preview.status_code == 200 and preview.mimetype == "image/png"
            assert download.status_code == 200
        else:
            assert (page.status_code, preview.status_code, download.status_code) == (
                404, 404, 404), who
            assert SECRET_SUBJECT not in page.get_data(as_text=True)


def test_register_exports_follow_the_rule(api, world, pdf_bytes, unit_secret):
    # Assigned to Phòng Hành chính, where clerk2 works (not the clerk who registered it).
    hc_secret = register(api, pdf_bytes, notation="9/MẬT-HC", subject="Hồ sơ nhân sự mật",
                         secrecy="secret")
    assert assign(api, "leader", hc_secret["id"], unit_id=world.units["HC"].id
                  ).status_code == 201
    year = clock.today().year
    for who, sees_kt, sees_hc in (("clerk2", False, False), ("head", True, False),
                                  ("head_vx", False, False), ("clerk", True, True),
                                  ("leader", True, True)):
        csv = api(who).get(f"/api/v1/registers/incoming?year={year}&format=csv")
        assert csv.status_code == 200, who
        text = csv.data.decode("utf-8-sig")
        assert "412/STC-NS" in text
        assert ("37/CAT-PA03" in text) == sees_kt, who
        assert ("9/MẬT-HC" in text) == sees_hc, who
        book = api(who).get(f"/api/v1/registers/incoming?year={year}&format=xlsx")
        assert book.status_code == 200, who
    # A specialist reads no register at all.
    assert api("specialist").get(f"/api/v1/registers/incoming?year={year}&format=csv"
                                 ).status_code == 403


def test_the_head_passes_it_on_and_the_named_member_may_work_it(api, world, unit_secret):
    url = f"/api/v1/incoming/{unit_secret['id']}"
    specialist = world.users["specialist"]
    assert api("specialist").get(url).status_code == 404
    r = assign(api, "head", unit_secret["id"], user_id=specialist.id,
               note="Chuyên viên Bình tham mưu.")
    assert r.status_code == 201, r.json
    assert api("specialist").get(url).status_code == 200
    assert api("specialist").get("/api/v1/incoming").json["total"] == 2
    mine = api("specialist").get("/api/v1/incoming", query_string={"queue": "mine"}).json
    assert [d["id"] for d in mine["items"]] == [unit_secret["id"]]
    # Passed on by the head, the work is in progress: the named member completes it.
    assert api("specialist").post(f"{url}/complete", json={"note": "Xong"}).status_code == 200
    # Still hidden from the unit's other members, and the head keeps sight of it.
    assert api("head").get(url).status_code == 200
    assert api("specialist_vx").get(url).status_code == 404


def test_every_named_role_opens_it(api, world, pdf_bytes):
    secret = register(api, pdf_bytes, notation="5/MẬT", secrecy="top_secret")
    url = f"/api/v1/incoming/{secret['id']}"
    for who, role in (("specialist", "main"), ("specialist_vx", "info"),
                      ("head_vx", "cooperate")):
        assert api(who).get(url).status_code == 404, who
        r = api("leader").post(f"{url}/assignments",
                               json={"user_id": world.users[who].id, "role": role})
        assert r.status_code == 201, r.json
        assert api(who).get(url).status_code == 200, who


def test_a_role_change_or_deputy_mark_takes_effect_at_once(api, db, world, unit_secret):
    url = f"/api/v1/incoming/{unit_secret['id']}"
    with db.transaction() as s:
        s.get(accounts.User, world.users["specialist"].id).is_deputy = True
        s.get(accounts.User, world.users["deputy"].id).is_deputy = False
    assert api("specialist").get(url).status_code == 200
    assert api("deputy").get(url).status_code == 404
    with db.transaction() as s:
        s.get(accounts.User, world.users["head"].id).role = "specialist"
    assert api("head").get(url).status_code == 404


# --- the deputy mark itself -----------------------------------------------------------------

def test_a_deputy_is_labelled_and_belongs_to_a_unit(db, world, deputy, api):
    assert api("deputy").get("/api/v1/me").json["is_deputy"] is True
    with db.transaction() as s:
        org = s.get(accounts.Organization, world.org.id)
        unit = s.get(accounts.Unit, world.units["KT"].id)
        assert s.get(accounts.User, deputy.id).role_label == "Phó trưởng phòng"
        made = accounts.create_user(s, org=org, username="pho.kt", password="mot-mat-khau",
                                    full_name="Phan Văn Phó", role="head", unit=unit,
                                    deputy=True)
        assert made.is_deputy and made.headed_unit_id == unit.id
        for role, where in (("specialist", None), ("clerk", unit)):
            with pytest.raises(ValidationFailed) as refused:
                accounts.create_user(s, org=org, username=f"x.{role}", password="mot-mat-khau",
                                     full_name="Ai Đó", role=role, unit=where, deputy=True)
            assert refused.value.field == ("unit" if where is None else "role")
        assert s.scalar(select(accounts.User).where(accounts.User.username.like("x.%"))) is None


def test_cli_creates_a_deputy(app, db, world):
    result = app.test_cli_runner().invoke(args=[
        "docmgr", "create-user", "--username", "pho.vx", "--password", "mot-mat-khau",
        "--full-name", "Hồ Thị Phó", "--role", "specialist", "--org", world.org.code,
        "--unit", "VX", "--deputy"])
    assert result.exit_code == 0, result.output
    with db.transaction(readonly=True) as s:
        user = s.scalar(select(accounts.User).where(accounts.User.username == "pho.vx"))
        assert user.is_deputy and user.headed_unit_id == world.units["VX"].id
    refused = app.test_cli_runner().invoke(args=[
        "docmgr", "create-user", "--username", "pho.x", "--password", "mot-mat-khau",
        "--full-name", "Hồ Thị Phó", "--role", "clerk", "--org", world.org.code, "--deputy"])
    assert refused.exit_code == 1 and "Phó trưởng phòng" in refused.output
