"""GET /api/v1/stats: parse the period and grouping, call one operation, answer JSON or a file."""
from flask import Blueprint, jsonify, request

from docmgr.core.api import current_user, roles
from docmgr.core.errors import ValidationFailed
from docmgr.core.web import file_download, session
from docmgr.reports import export, periods
from docmgr.reports import operations as ops

bp = Blueprint("reports_api", __name__)

FORMATS = ("json", "csv", "xlsx")


@bp.get("/stats")
@roles(*ops.READERS)  # leaders, clerks, unit heads and admins; specialists get 403
def stats():
    fmt = (request.args.get("format") or "json").strip()
    if fmt not in FORMATS:
        raise ValidationFailed("Định dạng phải là json, csv hoặc xlsx.", field="format")
    period = periods.parse(request.args)
    report = ops.statistics(session(), current_user(), period,
                            (request.args.get("group_by") or "doc_type").strip())
    if fmt == "json":
        return jsonify(report.to_dict())
    return file_download(*export.render(report, fmt))
