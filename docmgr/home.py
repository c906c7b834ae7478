"""The dashboard: each user's queues with counts, gathered from the slices' operations."""
from flask import Blueprint, render_template
from flask_login import current_user

from docmgr import config
from docmgr.core.views import ANY_ROLE, roles_required
from docmgr.core.web import session
from docmgr.inbound import operations as inbound
from docmgr.outbound import operations as outbound
from docmgr.records import operations as records

bp = Blueprint("home", __name__, template_folder="templates")


@bp.get("/")
@roles_required(*ANY_ROLE)
def dashboard():
    counts = inbound.queue_counts(session(), current_user)
    _, mine = inbound.list_documents(session(), current_user, queue="mine", limit=8,
                                     with_total=False)
    _, recent = inbound.list_documents(session(), current_user, limit=8, with_total=False)
    outgoing = outbound.queue_counts(session(), current_user,
                                     remind_after_hours=config.current().reminder_hours)
    records_due = (records.due_count(session(), current_user)
                   if current_user.role in records.SUBMITTERS else 0)
    return render_template("dashboard.html", counts=counts, mine=mine, recent=recent,
                           outgoing=outgoing, records_due=records_due)
