"""Limits on what a request may carry, set once for the whole application.

- ``<int:...>`` in a route matches only ids a database column can hold, so
  /api/v1/incoming/10000000000000000000000000 is a plain 404 instead of an integer
  overflow in the database (a 500).
- A JSON body is at most JSON_MAX_BYTES: MAX_CONTENT_LENGTH is sized for PDF uploads
  (50 MB), far more than any note or list of ids needs, and a JSON body is parsed whole
  in memory.
"""
import flask
from werkzeug.routing import IntegerConverter

from docmgr.core.values import INT_MAX

JSON_MAX_BYTES = 1024 * 1024


class BoundedIntConverter(IntegerConverter):
    """Werkzeug's converter with ``max`` defaulting to INT_MAX and ASCII digits only
    (``\\d`` would also match Arabic-Indic digits, which int() accepts)."""

    regex = r"[0-9]+"

    def __init__(self, map, fixed_digits=0, min=None, max=INT_MAX, signed=False):
        super().__init__(map, fixed_digits, min, max, signed)


class Request(flask.Request):
    """Flask's request with the smaller limit for JSON bodies. Decided when the body is
    first read (werkzeug checks Content-Length then, and counts while reading), so no
    before_request hook can come too late."""

    @property
    def max_content_length(self) -> int | None:
        limit = super().max_content_length
        if self.is_json:
            return JSON_MAX_BYTES if limit is None else min(limit, JSON_MAX_BYTES)
        return limit

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        flask.Request.max_content_length.fset(self, value)


def install(app: flask.Flask) -> None:
    """Before any blueprint is registered: rules pick their converter when they are added."""
    app.url_map.converters["int"] = BoundedIntConverter
    app.request_class = Request
