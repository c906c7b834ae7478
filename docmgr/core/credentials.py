"""Changing a password, an administrator's reset, deactivation and "log out everywhere".

Each of them ends every session and revokes every API token of the account
(core/sessions.py ``end_all``), whatever device or script holds them: a password
someone else may know, or an account taken away, must not stay usable through a cookie or
token obtained before. The caller then gives the person making the change a fresh
credential of their own where it makes sense (core/signin.py ``sign_in`` for the browser, a
new token for the API): their current session is thus kept, under a new token.

What is audited: who did what to which account, and how many sessions and tokens ended —
never a password.
"""
from sqlalchemy import select
from werkzeug.security import check_password_hash

from docmgr.core import audit, clock, sessions
from docmgr.core.auth import Role, User, hash_password, require_role
from docmgr.core.errors import NotFound, ValidationFailed
from docmgr.core.passwords import check_new_password, temporary_password


def change_password(session, actor: User, *, current: str, new: str, confirm: str,
                    min_length: int) -> sessions.Ended:
    """The user's own change: the current password, and the new one twice."""
    if not check_password_hash(actor.password_hash, current):
        raise ValidationFailed("Mật khẩu hiện tại không đúng.", field="current_password")
    if new != confirm:
        raise ValidationFailed("Hai lần nhập mật khẩu mới không khớp nhau.",
                               field="confirm_password")
    if new == current:
        raise ValidationFailed("Mật khẩu mới phải khác mật khẩu hiện tại.",
                               field="new_password")
    check_new_password(new, username=actor.username, min_length=min_length)
    actor.password_hash = hash_password(new)
    actor.must_change_password = False
    ended = sessions.end_all(session, actor, clock.now())
    audit.record(session, "user.password_changed", actor=actor, obj=actor,
                 **ended.as_details())
    return ended


def log_out_everywhere(session, actor: User) -> sessions.Ended:
    """The user ends all their own sessions and tokens (a lost phone, a shared computer)."""
    ended = sessions.end_all(session, actor, clock.now())
    audit.record(session, "user.sessions_ended", actor=actor, obj=actor, **ended.as_details())
    return ended


# --- an administrator, on the accounts of their own organisation ---------------------------

def account(session, admin: User, user_id: int) -> User:
    """A user of the administrator's organisation, active or not; another organisation's
    is not found."""
    require_role(admin, Role.ADMIN)
    user = session.get(User, user_id)
    if user is None or user.org_id != admin.org_id:
        raise NotFound("Không tìm thấy người dùng.", field="user_id")
    return user


def accounts(session, admin: User) -> list[User]:
    require_role(admin, Role.ADMIN)
    return list(session.scalars(select(User).where(User.org_id == admin.org_id)
                                .order_by(User.active.desc(), User.full_name, User.id)))


def _not_self(admin: User, user: User, message: str) -> None:
    if user.id == admin.id:
        raise ValidationFailed(message, field="user_id")


def reset_password(session, admin: User, user_id: int, *, password: str | None,
                   min_length: int) -> tuple[User, str | None]:
    """Give the account a new password — the one the administrator typed (it must pass
    the rules) or, without one, a random temporary one returned to be shown once — that
    must be changed at the next login."""
    user = account(session, admin, user_id)
    _not_self(admin, user, "Hãy đổi mật khẩu của chính bạn ở trang Đổi mật khẩu.")
    if password:
        check_new_password(password, username=user.username, min_length=min_length,
                           field="password")
        temporary = None
    else:
        temporary = password = temporary_password(username=user.username,
                                                  min_length=min_length)
    user.password_hash = hash_password(password)
    user.must_change_password = True
    ended = sessions.end_all(session, user, clock.now())
    audit.record(session, "user.password_reset", actor=admin, obj=user,
                 username=user.username, generated=temporary is not None,
                 **ended.as_details())
    return user, temporary


def end_sessions(session, admin: User, user_id: int) -> tuple[User, sessions.Ended]:
    """"Đăng xuất mọi nơi" for one account of the organisation."""
    user = account(session, admin, user_id)
    ended = sessions.end_all(session, user, clock.now())
    audit.record(session, "user.sessions_ended", actor=admin, obj=user,
                 username=user.username, **ended.as_details())
    return user, ended


def set_active(session, admin: User, user_id: int, active: bool) -> User:
    """Deactivate an account (it can no longer sign in, and all its sessions and tokens
    end) or activate it again (with the password it had)."""
    user = account(session, admin, user_id)
    if not active:
        _not_self(admin, user, "Bạn không thể tự khóa tài khoản của chính mình.")
    if user.active == active:
        return user
    user.active = active
    details = {} if active else sessions.end_all(session, user, clock.now()).as_details()
    audit.record(session, "user.activated" if active else "user.deactivated", actor=admin,
                 obj=user, username=user.username, **details)
    return user
