"""Issue 11, passwords: a user changes their own, an administrator resets one (which must
then be changed at the next login); new passwords meet a minimum strength and are not
common; the new pages are CSRF-protected and confined to the administrator's organisation."""
import pytest
from sqlalchemy import select

from docmgr.core import audit, passwords
from docmgr.core import auth as accounts
from docmgr.core.errors import ValidationFailed
from tests.conftest import PASSWORD, csrf_from
from tests.core.signin_helpers import capture, log_in, post_form, replay, signed_in

NEW_PASSWORD = "con-duong-den-truong-2026"


def _hash(db, username):
    with db.transaction() as s:
        return s.scalar(select(accounts.User.password_hash)
                        .where(accounts.User.username == username))


def _user(db, username) -> accounts.User:
    with db.transaction() as s:
        user = s.scalar(select(accounts.User).where(accounts.User.username == username))
        s.expunge(user)
        return user


def _events(db, action):
    with db.transaction() as s:
        return s.scalars(select(audit.AuditEvent).where(audit.AuditEvent.action == action)
                         ).all()


# --- the rules ----------------------------------------------------------------------------

@pytest.mark.parametrize(("password", "message"), [
    ("ngan-qua", "Mật khẩu phải có ít nhất 10 ký tự."),
    ("x" * 129, "Mật khẩu dài tối đa 128 ký tự."),
    ("Clerk-cua-van-phong", "Mật khẩu không được chứa tên đăng nhập."),
    ("abababababab", "Mật khẩu quá đơn giản: hãy dùng nhiều ký tự khác nhau hơn."),
    ("qwertyuiop", "Mật khẩu này quá phổ biến, dễ bị đoán; hãy chọn mật khẩu khác."),
    ("1234567890", "Mật khẩu này quá phổ biến, dễ bị đoán; hãy chọn mật khẩu khác."),
    ("Sunshine2024!", "Mật khẩu này quá phổ biến, dễ bị đoán; hãy chọn mật khẩu khác."),
    ("@@Password123", "Mật khẩu này quá phổ biến, dễ bị đoán; hãy chọn mật khẩu khác."),
    ("anhyeuem123456", "Mật khẩu này quá phổ biến, dễ bị đoán; hãy chọn mật khẩu khác."),
])
def test_weak_passwords_are_refused_with_the_reason(password, message):
    with pytest.raises(ValidationFailed) as refused:
        passwords.check_new_password(password, username="clerk", min_length=10)
    assert refused.value.message == message and refused.value.field == "new_password"


@pytest.mark.parametrize("password", [
    NEW_PASSWORD, "Sáng nay trời mưa to", "k7dm-x3pq-9hrt", "ab3kd9-x7q!ZZ"])
def test_reasonable_passwords_pass(password):
    passwords.check_new_password(password, username="clerk", min_length=10)


def test_the_common_list_is_the_shipped_one():
    common = passwords.common_passwords()
    assert len(common) == 30000 and {"123456", "password", "matkhau"} <= common


def test_temporary_passwords_pass_the_rules_and_differ():
    made = {passwords.temporary_password(username="clerk", min_length=10) for _ in range(20)}
    assert len(made) == 20
    for password in made:
        passwords.check_new_password(password, username="clerk", min_length=10)
    assert len(passwords.temporary_password(username="x", min_length=30)) >= 30


# --- changing one's own -------------------------------------------------------------------

def _change(client, **form):
    return post_form(client, "/account/password", "/account/password", **form)


@pytest.mark.parametrize(("form", "message"), [
    ({"current_password": "sai-mat-khau", "new_password": NEW_PASSWORD,
      "confirm_password": NEW_PASSWORD}, "Mật khẩu hiện tại không đúng."),
    ({"current_password": PASSWORD, "new_password": NEW_PASSWORD,
      "confirm_password": NEW_PASSWORD + "x"}, "Hai lần nhập mật khẩu mới không khớp nhau."),
    ({"current_password": PASSWORD, "new_password": PASSWORD, "confirm_password": PASSWORD},
     "Mật khẩu mới phải khác mật khẩu hiện tại."),
    ({"current_password": PASSWORD, "new_password": "ngan-qua", "confirm_password": "ngan-qua"},
     "Mật khẩu phải có ít nhất 10 ký tự."),
    ({"current_password": PASSWORD, "new_password": "password2024",
      "confirm_password": "password2024"}, "quá phổ biến"),
    ({"current_password": PASSWORD, "new_password": "clerk-2026-abc",
      "confirm_password": "clerk-2026-abc"}, "không được chứa tên đăng nhập"),
    ({"current_password": PASSWORD, "new_password": "", "confirm_password": ""},
     "Nhập mật khẩu mới."),
])
def test_a_refused_change_says_why_and_changes_nothing(app, db, world, form, message):
    browser = log_in(app, "clerk")
    other = capture(log_in(app, "clerk"))
    before = _hash(db, "clerk")
    r = _change(browser, **form)
    assert r.status_code == 400
    assert message in r.data.decode()
    assert _hash(db, "clerk") == before
    assert signed_in(browser) and replay(app, session=other.session)  # nothing ended
    assert _events(db, "user.password_changed") == []


def test_the_change_page_is_reachable_from_the_user_menu(app, world):
    browser = log_in(app, "clerk")
    assert 'href="/account/password"' in browser.get("/").data.decode()
    page = browser.get("/account/password").data.decode()
    assert "Mật khẩu hiện tại" in page and "Nhập lại mật khẩu mới" in page


def test_a_change_is_audited_without_the_password(app, db, world):
    browser = log_in(app, "clerk")
    r = _change(browser, current_password=PASSWORD, new_password=NEW_PASSWORD,
                confirm_password=NEW_PASSWORD)
    assert r.status_code == 302
    assert "Đã đổi mật khẩu." in browser.get("/").data.decode()
    (event,) = _events(db, "user.password_changed")
    assert event.details == {"sessions_ended": 1, "tokens_revoked": 0}
    assert NEW_PASSWORD not in str(event.details)
    assert signed_in(log_in(app, "clerk", password=NEW_PASSWORD))


def test_api_change_refusals_are_vietnamese_400s(api, db, world):
    before = _hash(db, "clerk")
    r = api("clerk").post("/api/v1/auth/password", json={
        "current_password": PASSWORD, "new_password": "qwertyuiop"})
    assert r.status_code == 400 and r.json["error"]["field"] == "new_password"
    assert r.json["error"]["message"] == ("Mật khẩu này quá phổ biến, dễ bị đoán; "
                                          "hãy chọn mật khẩu khác.")
    r = api("clerk").post("/api/v1/auth/password", json={
        "current_password": PASSWORD, "new_password": 12345678901})
    assert r.status_code == 400 and r.json["error"]["field"] == "new_password"
    assert _hash(db, "clerk") == before
    assert api("clerk").get("/api/v1/me").status_code == 200  # token still valid


# --- an administrator's reset -------------------------------------------------------------

def test_reset_gives_a_temporary_password_once_and_forces_a_change(app, db, world):
    victim = log_in(app, "clerk", remember=True)
    stolen = capture(victim)
    admin = log_in(app, "admin")
    user_id = world.users["clerk"].id
    page = f"/admin/users/{user_id}/password"
    r = post_form(admin, page, page, password="")
    assert r.status_code == 200
    html = r.data.decode()
    temporary = html.split('data-testid="temporary-password">')[1].split("<")[0]
    assert "chỉ hiển thị một lần" in html
    passwords.check_new_password(temporary, username="clerk", min_length=10)
    assert temporary not in admin.get("/admin/users/").data.decode()
    (event,) = _events(db, "user.password_reset")
    assert event.details["generated"] is True and temporary not in str(event.details)

    # Everything the user had is gone; the old password too.
    assert not signed_in(victim) and not replay(app, remember=stolen.remember)
    fresh = app.test_client()
    r = fresh.post("/login", data={"username": "clerk", "password": PASSWORD,
                                   "csrf_token": csrf_from(fresh.get("/login").data)})
    assert r.status_code == 401

    # With the temporary password, every page leads to the change form...
    browser = log_in(app, "clerk", password=temporary)
    for url in ("/", "/incoming/", "/search/?q=x", "/signatures/profile"):
        r = browser.get(url)
        assert r.status_code == 302 and r.location.endswith("/account/password"), url
    assert browser.post("/records/", data={
        "csrf_token": csrf_from(browser.get("/account/password").data)}).status_code == 302
    assert "hãy đổi mật khẩu để tiếp tục" in browser.get("/account/password").data.decode()
    # ...and the API answers only 403 password_change_required, but for the change itself.
    token = app.test_client().post("/api/v1/auth/token", json={
        "username": "clerk", "password": temporary}).json["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    r = app.test_client().get("/api/v1/incoming", headers=bearer)
    assert r.status_code == 403 and r.json["error"]["code"] == "password_change_required"
    assert app.test_client().get("/api/v1/me", headers=bearer).json["must_change_password"]

    r = post_form(browser, "/account/password", "/account/password",
                  current_password=temporary, new_password=NEW_PASSWORD,
                  confirm_password=NEW_PASSWORD)
    assert r.status_code == 302
    assert browser.get("/").status_code == 200
    assert not _user(db, "clerk").must_change_password
    assert app.test_client().get("/api/v1/me", headers=bearer).status_code == 401


def test_reset_to_a_typed_password_must_meet_the_rules(app, db, world):
    admin = log_in(app, "admin")
    page = f"/admin/users/{world.users['clerk'].id}/password"
    before = _hash(db, "clerk")
    r = post_form(admin, page, page, password="123456789a")
    assert r.status_code == 400 and "quá phổ biến" in r.data.decode()
    assert _hash(db, "clerk") == before and not _user(db, "clerk").must_change_password
    r = post_form(admin, page, page, password=NEW_PASSWORD)
    assert r.status_code == 302
    assert "phải đổi mật khẩu ở lần đăng nhập tới" in admin.get("/admin/users/").data.decode()
    assert _user(db, "clerk").must_change_password
    browser = log_in(app, "clerk", password=NEW_PASSWORD)
    assert browser.get("/").location.endswith("/account/password")


def test_api_reset(api, app, db, world):
    user_id = world.users["clerk"].id
    r = api("admin").post(f"/api/v1/users/{user_id}/password-reset", json={})
    assert r.status_code == 200 and r.json["must_change_password"] is True
    temporary = r.json["temporary_password"]
    passwords.check_new_password(temporary, username="clerk", min_length=10)
    token = app.test_client().post("/api/v1/auth/token", json={
        "username": "clerk", "password": temporary}).json["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert app.test_client().get("/api/v1/incoming", headers=bearer).status_code == 403
    r = app.test_client().post("/api/v1/auth/password", headers=bearer, json={
        "current_password": temporary, "new_password": NEW_PASSWORD})
    assert r.status_code == 200
    fresh = {"Authorization": f"Bearer {r.json['token']}"}
    assert app.test_client().get("/api/v1/incoming", headers=fresh).status_code == 200

    r = api("admin").post(f"/api/v1/users/{user_id}/password-reset", json={"password": "abc"})
    assert r.status_code == 400 and r.json["error"]["field"] == "password"
    assert not _user(db, "clerk").must_change_password


def test_an_admin_cannot_reset_or_lock_themselves_out(app, api, db, world):
    admin_id = world.users["admin"].id
    r = api("admin").post(f"/api/v1/users/{admin_id}/password-reset", json={})
    assert r.status_code == 400 and "trang Đổi mật khẩu" in r.json["error"]["message"]
    r = api("admin").post(f"/api/v1/users/{admin_id}/deactivate")
    assert r.status_code == 400 and "tự khóa" in r.json["error"]["message"]
    browser = log_in(app, "admin")
    r = post_form(browser, f"/admin/users/{admin_id}/deactivate", "/admin/users/")
    assert r.status_code == 302 and r.location.endswith("/admin/users/")
    assert "Bạn không thể tự khóa tài khoản của chính mình." in browser.get(
        "/admin/users/").data.decode()
    assert _user(db, "admin").active
    assert _events(db, "user.deactivated") == []


# --- the administrator's page: who may, on whom, with CSRF --------------------------------

def test_the_users_page_lists_the_own_organisation(app, world):
    admin = log_in(app, "admin")
    log_in(app, "clerk")
    html = admin.get("/admin/users/").data.decode()
    assert 'data-user="clerk"' in html and 'data-user="other_clerk"' not in html
    assert "Đặt lại mật khẩu" in html and "Đăng xuất mọi nơi" in html
    assert "Khóa tài khoản" in html
    assert 'href="/admin/users/"' in html  # in the admin's menu


@pytest.mark.parametrize("action", ["logout-all", "deactivate", "activate", "password"])
def test_another_organisations_user_is_not_found(app, api, db, world, action):
    admin = log_in(app, "admin")
    stranger = world.users["other_clerk"].id
    r = post_form(admin, f"/admin/users/{stranger}/{action}", "/admin/users/")
    assert r.status_code == 404
    api_action = "password-reset" if action == "password" else action
    r = api("admin").post(f"/api/v1/users/{stranger}/{api_action}", json={})
    assert r.status_code == 404
    assert _user(db, "other_clerk").active and not _user(db, "other_clerk").must_change_password
    assert admin.get(f"/admin/users/{stranger}/password").status_code == 404
    assert admin.get("/admin/users/999999/password").status_code == 404


def test_only_an_admin_may(app, api, world):
    leader = log_in(app, "leader")
    assert leader.get("/admin/users/").status_code == 403
    target = world.users["clerk"].id
    r = post_form(leader, f"/admin/users/{target}/deactivate", "/")
    assert r.status_code == 403
    r = api("leader").post(f"/api/v1/users/{target}/logout-all")
    assert r.status_code == 403


@pytest.mark.parametrize("url", [
    "/admin/users/{id}/logout-all", "/admin/users/{id}/deactivate",
    "/admin/users/{id}/password", "/account/password", "/account/logout-all", "/logout"])
def test_new_forms_need_the_csrf_token(app, db, world, url):
    admin = log_in(app, "admin")
    before = _hash(db, "clerk"), _hash(db, "admin")
    r = admin.post(url.format(id=world.users["clerk"].id), data={
        "password": NEW_PASSWORD, "current_password": PASSWORD,
        "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    assert r.status_code == 400
    assert (_hash(db, "clerk"), _hash(db, "admin")) == before
    assert _user(db, "clerk").active and signed_in(admin)


def test_create_user_applies_the_rules(app, db, world):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["docmgr", "create-user", "--username", "moi",
                                 "--password", "12345678", "--full-name", "Người Mới",
                                 "--role", "clerk", "--org", world.org.code])
    assert result.exit_code == 1 and "ít nhất 10 ký tự" in result.output
    with db.transaction() as s:
        assert s.scalar(select(accounts.User).where(accounts.User.username == "moi")) is None
