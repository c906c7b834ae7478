"""/api/v1/search: parse, search, answer."""
from flask import Blueprint, jsonify, request

from docmgr.core.api import current_user, roles
from docmgr.core.auth import Role
from docmgr.core.web import page_args, session
from docmgr.search import operations as ops
from docmgr.search.service import current as search_service

bp = Blueprint("search_api", __name__)


def hit_dict(hit: ops.Hit) -> dict:
    doc = hit.doc
    return {"id": doc.id, "kind": hit.kind, "notation": doc.notation, "subject": doc.subject,
            "doc_type": doc.doc_type, "doc_date": doc.doc_date.isoformat() if doc.doc_date
            else None, "sender": hit.sender, "secrecy": doc.secrecy,
            "score": round(hit.score, 4), "subject_highlighted": str(hit.subject),
            "highlights": [str(snippet) for snippet in hit.highlights]}


@bp.get("/search")
@roles(*Role)
def search():
    page = page_args(request.args)
    params = ops.parse_params(request.args)
    found = ops.search(session(), search_service(), current_user(), params, page=page.number,
                       per_page=page.per_page)
    return jsonify({"total": found.total, "page": found.page, "per_page": found.per_page,
                    "hits": [hit_dict(hit) for hit in found.hits],
                    "facets": {name: [{"value": value, "count": count}
                                      for value, count in values]
                               for name, values in found.facets.items()}})
