"""The administrator's page of the organisation's accounts: who is active, how many
sessions each has open, and the buttons to reset a password, log an account out
everywhere, deactivate or activate it. Every action is audited (core/credentials.py)."""
from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user

from docmgr.core import clock, credentials, sessions, signin
from docmgr.core.account_forms import ResetPasswordForm
from docmgr.core.auth import Role
from docmgr.core.errors import NotFound
from docmgr.core.transaction import flash_after_commit, form_action, on_refusal, show_again
from docmgr.core.views import roles_required
from docmgr.core.web import session, settings

bp = Blueprint("admin_users", __name__, template_folder="templates", url_prefix="/admin/users")


def _list_page(**_view_args) -> str:
    return url_for("admin_users.index")


def _account_action(success):
    """A button of the list (core/transaction.py ``form_action``): back to the list with
    the outcome, except for an account that is not the organisation's — a 404, as if
    the address did not exist."""
    def decorate(view):
        run = form_action(back_to=_list_page, success=success)(view)
        back_to_list = run.on_refusal

        def respond(exc, **view_args):
            if isinstance(exc, NotFound):
                raise exc  # answered with the error page for it
            return back_to_list(exc, **view_args)
        run.on_refusal = respond
        return run
    return decorate


@bp.get("/")
@roles_required(Role.ADMIN)
def index():
    users = credentials.accounts(session(), current_user)
    live = sessions.live_counts(session(), [u.id for u in users], signin.lifetimes(),
                                clock.now())
    return render_template("core/admin_users.html", users=users, live=live)


def _reset_page(user_id: int, form: ResetPasswordForm | None = None, status: int = 200):
    user = credentials.account(session(), current_user, user_id)
    return render_template("core/admin_user_password.html", user=user,
                           form=form or ResetPasswordForm(),
                           min_length=settings().password_min_length), status


@bp.route("/<int:user_id>/password", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
@on_refusal(show_again(_reset_page))
def reset_password(user_id):
    form = ResetPasswordForm()
    if request.method == "GET" or not form.validate_on_submit():
        return _reset_page(user_id, form, 400 if request.method == "POST" else 200)
    user, temporary = credentials.reset_password(
        session(), current_user, user_id, password=form.password.data or None,
        min_length=settings().password_min_length)
    if temporary is None:
        flash_after_commit(f"Đã đặt lại mật khẩu của {user.full_name}; người dùng phải đổi "
                           "mật khẩu ở lần đăng nhập tới.")
        return redirect(url_for(".index"))
    # Shown in this answer only, never stored or flashed (the Flask session is a cookie).
    # The answer reaches the browser only if the reset is committed (core/transaction.py).
    return render_template("core/admin_user_password.html", user=user, temporary=temporary,
                           form=None, min_length=settings().password_min_length)


def _ended_message(result) -> str:
    user, ended = result
    return (f"Đã đăng xuất {user.full_name} khỏi mọi nơi ({ended.sessions} phiên đăng nhập, "
            f"{ended.tokens} mã API).")


@bp.post("/<int:user_id>/logout-all")
@roles_required(Role.ADMIN)
@_account_action(_ended_message)
def end_sessions(user_id):
    return credentials.end_sessions(session(), current_user, user_id)


@bp.post("/<int:user_id>/deactivate")
@roles_required(Role.ADMIN)
@_account_action(lambda u: f"Đã khóa tài khoản {u.username}; mọi phiên đăng nhập và mã "
                          "API của tài khoản đã hết hiệu lực.")
def deactivate(user_id):
    return credentials.set_active(session(), current_user, user_id, False)


@bp.post("/<int:user_id>/activate")
@roles_required(Role.ADMIN)
@_account_action(lambda u: f"Đã mở lại tài khoản {u.username}.")
def activate(user_id):
    return credentials.set_active(session(), current_user, user_id, True)
