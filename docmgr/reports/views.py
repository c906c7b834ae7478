"""The statistics page, its per-table exports and the printable report. Thin: parse the
period, call one operation, render."""
from flask import Blueprint, flash, render_template, request
from flask_login import current_user

from docmgr.core import clock
from docmgr.core.errors import ValidationFailed
from docmgr.core.views import roles_required
from docmgr.core.web import file_download, session
from docmgr.outbound.operations import date_line
from docmgr.reports import charts, export, periods
from docmgr.reports import operations as ops
from docmgr.reports.formatting import number

bp = Blueprint("reports", __name__, template_folder="templates", url_prefix="/reports")

MONTHS = range(1, 13)


def _period_or_default():
    """The chosen period, or — when the choice is wrong — this year, with the reason shown
    and the wrong field marked."""
    try:
        return periods.parse(request.args), None
    except ValidationFailed as exc:
        flash(exc.message, "error")
        return periods.parse({}), exc.field


def _page(template: str, **extra):
    period, error_field = _period_or_default()
    data = ops.overview(session(), current_user, period)
    return render_template(
        template, data=data, period=period, charts=charts, number=number,
        choice=request.args, error_field=error_field, period_labels=periods.PERIOD_LABELS,
        half_labels=periods.HALF_LABELS, roman=periods.ROMAN, months=MONTHS,
        years=range(clock.today().year + 1, clock.today().year - 10, -1), **extra
    ), 400 if error_field else 200


@bp.get("/")
@roles_required(*ops.READERS)
def index():
    return _page("reports/index.html")


@bp.get("/print")
@roles_required(*ops.READERS)
def printable():
    org = current_user.org
    return _page("reports/print.html", org=org, date_line=date_line(org.place, clock.today()))


@bp.get("/export")
@roles_required(*ops.READERS)
def export_table():
    """One table of the page as CSV or XLSX (the API's files, for a signed-in browser)."""
    period = periods.parse(request.args)
    report = ops.statistics(session(), current_user, period,
                            request.args.get("group_by") or "doc_type")
    return file_download(*export.render(report, request.args.get("format") or "csv"))
