"""Pages every user meets: sign in and out, the dashboard, and the admin's audit log."""
from functools import wraps
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy import func, select

from docmgr.core import audit, signin
from docmgr.core.auth import Role
from docmgr.core.forms import LoginForm
from docmgr.core.transaction import flash_after_commit, on_refusal, show_again
from docmgr.core.web import authenticate, page_args, session

bp = Blueprint("core", __name__, template_folder="templates")


def roles_required(*allowed):
    """Declare who may open a page: anonymous users are sent to log in, others get 403."""
    def decorate(view):
        @wraps(view)
        @login_required
        def wrapper(*args, **kwargs):
            if current_user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)
        wrapper.allowed_roles = allowed
        return wrapper
    return decorate


ANY_ROLE = tuple(Role)


def _safe_next(target: str | None) -> str:
    # Only same-site paths: an attacker's link must not bounce a fresh login elsewhere.
    if target and target.startswith("/") and not target.startswith("//") \
            and not urlsplit(target).netloc:
        return target
    return url_for("home.dashboard")


def _login_page(form: LoginForm | None = None, status: int = 200):
    return render_template("core/login.html", form=form or LoginForm()), status


@bp.route("/login", methods=["GET", "POST"])
@on_refusal(show_again(_login_page))  # LoginRefused (401) keeps the count; 429: too many
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.dashboard"))
    form = LoginForm()
    if not form.validate_on_submit():
        return _login_page(form)
    user = authenticate(form.username.data, form.password.data)
    audit.record(session(), "auth.login", actor=user, ip=request.remote_addr)
    # A new server-side session; the cookies are given once the audit event is stored.
    signin.sign_in(session(), user, remember=form.remember.data)
    flash_after_commit(f"Xin chào, {user.full_name}.")
    return redirect(_safe_next(request.args.get("next")))


@bp.post("/logout")
@signin.open_before_password_change
@login_required
def logout():
    signin.sign_out(current_user)  # the session ends on the server: its cookies are dead
    audit.record(session(), "auth.logout", actor=current_user)
    flash_after_commit("Bạn đã đăng xuất.", "info")
    return redirect(url_for("core.login"))


@bp.get("/admin/audit")
@roles_required(Role.ADMIN)
def audit_log():
    page = page_args(request.args, default_per_page=50)
    chain = current_user.org_id
    stmt = select(audit.AuditEvent).where(audit.AuditEvent.chain == chain)
    action = request.args.get("action")
    if action:
        stmt = stmt.where(audit.AuditEvent.action == action)
    total = session().scalar(select(func.count()).select_from(stmt.subquery()))
    events = session().scalars(stmt.order_by(audit.AuditEvent.seq.desc())
                               .offset(page.offset).limit(page.per_page)).all()
    actions = session().scalars(select(audit.AuditEvent.action).where(
        audit.AuditEvent.chain == chain).distinct().order_by(audit.AuditEvent.action)).all()
    return render_template("core/audit.html", events=events, total=total, page=page,
                           actions=actions, action=action,
                           sealed=audit.sealed(session(), current_user, events))
