"""Pages of one's own account: change the password, log out on every device."""
from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user

from docmgr.core import credentials, signin
from docmgr.core.account_forms import ChangePasswordForm
from docmgr.core.transaction import after_commit, flash_after_commit, on_refusal, show_again
from docmgr.core.views import ANY_ROLE, roles_required
from docmgr.core.web import session, settings

bp = Blueprint("account", __name__, template_folder="templates", url_prefix="/account")


def _password_page(form: ChangePasswordForm | None = None, status: int = 200):
    return render_template("core/account_password.html", form=form or ChangePasswordForm(),
                           min_length=settings().password_min_length), status


@bp.route("/password", methods=["GET", "POST"])
@signin.open_before_password_change
@roles_required(*ANY_ROLE)
@on_refusal(show_again(_password_page))
def change_password():
    form = ChangePasswordForm()
    if request.method == "GET":
        return _password_page(form)
    if not form.validate_on_submit():
        return _password_page(form, 400)
    user = current_user._get_current_object()  # Flask-Login is handed the user, not a proxy
    remembered = user.web_session is not None and user.web_session.remember
    credentials.change_password(session(), user, current=form.current_password.data,
                                new=form.new_password.data, confirm=form.confirm_password.data,
                                min_length=settings().password_min_length)
    # Every session ended with the old password, this one too: this browser goes on
    # under a new one.
    signin.sign_in(session(), user, remember=remembered)
    flash_after_commit("Đã đổi mật khẩu. Các phiên đăng nhập khác và các mã API của bạn "
                       "đã hết hiệu lực.")
    return redirect(url_for("home.dashboard"))


@bp.post("/logout-all")
@signin.open_before_password_change
@roles_required(*ANY_ROLE)
def log_out_everywhere():
    credentials.log_out_everywhere(session(), current_user)
    after_commit(signin.forget_browser)
    flash_after_commit("Đã đăng xuất khỏi mọi thiết bị.", "info")
    return redirect(url_for("core.login"))
