"""The ``int`` URL converter, bounded: ``<int:doc_id>`` matches only ids a database column
can hold, so /api/v1/incoming/10000000000000000000000000 is a plain 404 instead of an
integer overflow in PostgreSQL (a 500)."""
from werkzeug.routing import IntegerConverter

from docmgr.core.values import INT_MAX


class BoundedIntConverter(IntegerConverter):
    """Werkzeug's converter with ``max`` defaulting to INT_MAX and ASCII digits only
    (``\\d`` would also match Arabic-Indic digits, which int() accepts)."""

    regex = r"[0-9]+"

    def __init__(self, map, fixed_digits=0, min=None, max=INT_MAX, signed=False):
        super().__init__(map, fixed_digits, min, max, signed)


def install(app) -> None:
    """Before any blueprint is registered: rules pick their converter when they are added."""
    app.url_map.converters["int"] = BoundedIntConverter
