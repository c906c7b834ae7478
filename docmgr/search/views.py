"""The search page: a box on every page leads here; results with filters and pages."""
from flask import Blueprint, render_template, request
from flask_login import current_user

from docmgr.core.errors import DomainError
from docmgr.core.views import ANY_ROLE, roles_required
from docmgr.core.web import page_args, session
from docmgr.search import operations as ops
from docmgr.search.service import current as search_service

bp = Blueprint("search", __name__, template_folder="templates", url_prefix="/search")


@bp.get("/")
@roles_required(*ANY_ROLE)
def results():
    page = page_args(request.args)
    error, found, params = None, None, ops.SearchParams()
    try:
        params = ops.parse_params(request.args)
        if params.asked:
            found = ops.search(session(), search_service(), current_user, params,
                               page=page.number, per_page=page.per_page)
    except DomainError as exc:
        error = exc.message
    return render_template("search/results.html", found=found, params=params, error=error,
                           page=page, sorts=ops.SORTS, kinds=ops.KIND_LABELS,
                           advanced=any((params.notation, params.subject, params.signer,
                                         params.date_from, params.date_to)))
