"""``/api/v1``: one's own password and sessions, and an administrator's hand on the
accounts of the organisation (reset a password, log out everywhere, deactivate)."""
from flask import Blueprint, jsonify

from docmgr.core import credentials
from docmgr.core.api import current_user, json_body, roles
from docmgr.core.auth import Role, User, issue_token
from docmgr.core.errors import ValidationFailed
from docmgr.core.signin import open_before_password_change
from docmgr.core.web import session, settings

bp = Blueprint("account_api", __name__)


def _text(body: dict, name: str, default: str = "") -> str:
    value = body.get(name, default)
    if value is None:
        return default
    if not isinstance(value, str):
        raise ValidationFailed("Mật khẩu phải là một chuỗi ký tự.", field=name)
    return value


def _account(user: User) -> dict:
    return {**user.to_dict(), "active": user.active,
            "must_change_password": user.must_change_password}


@bp.post("/auth/password")
@open_before_password_change
def change_password():
    """Change one's own password. Every session and API token of the account ends, this
    request's too: the answer carries a new token for the caller."""
    body = json_body()
    new = _text(body, "new_password")
    actor = current_user()
    credentials.change_password(session(), actor, current=_text(body, "current_password"),
                                new=new, confirm=_text(body, "confirm_password", new),
                                min_length=settings().password_min_length)
    return jsonify({"token": issue_token(session(), actor, settings().token_ttl_days)})


@bp.post("/auth/logout-all")
@open_before_password_change
def log_out_everywhere():
    """End every session and API token of one's account, this request's token included."""
    return jsonify(credentials.log_out_everywhere(session(), current_user()).as_details())


@bp.post("/users/<int:user_id>/password-reset")
@roles(Role.ADMIN)
def reset_password(user_id):
    """Without ``password``, a temporary one is made and returned once."""
    password = _text(json_body(), "password") or None
    user, temporary = credentials.reset_password(session(), current_user(), user_id,
                                                 password=password,
                                                 min_length=settings().password_min_length)
    return jsonify({**_account(user), "temporary_password": temporary})


@bp.post("/users/<int:user_id>/logout-all")
@roles(Role.ADMIN)
def end_sessions(user_id):
    user, ended = credentials.end_sessions(session(), current_user(), user_id)
    return jsonify({**_account(user), **ended.as_details()})


@bp.post("/users/<int:user_id>/deactivate")
@roles(Role.ADMIN)
def deactivate(user_id):
    return jsonify(_account(credentials.set_active(session(), current_user(), user_id, False)))


@bp.post("/users/<int:user_id>/activate")
@roles(Role.ADMIN)
def activate(user_id):
    return jsonify(_account(credentials.set_active(session(), current_user(), user_id, True)))
