"""The search engines docmgr can use, by the name the ``SEARCH_BACKEND`` setting gives, and
how to open one.

The table names each backend's class by module path instead of importing it: the
interface (:mod:`docmgr.search.backend`) and the backends never import this module, so
there is no cycle, and a Whoosh site never loads tantivy's compiled extension (nor needs
it installed), nor a Tantivy site Whoosh.
"""
import importlib
from pathlib import Path

from docmgr.search.backend import Backend

BACKENDS: dict[str, str] = {
    "whoosh": "docmgr.search.whoosh_backend:WhooshBackend",
    "tantivy": "docmgr.search.tantivy_backend:TantivyBackend",
}


def backend_class(name: str) -> type[Backend]:
    """The class of the backend called ``name``, imported on first use."""
    try:
        module, _, attribute = BACKENDS[name].partition(":")
    except KeyError:
        raise ValueError(f"unknown search backend {name!r}") from None
    return getattr(importlib.import_module(module), attribute)


def open_backend(name: str, path: Path, *, create: bool = False) -> Backend:
    """Open the index at ``path``; with ``create``, make an empty one if it is missing.
    Raises :class:`~docmgr.search.backend.IndexUnavailable` when it is missing (without
    ``create``) or unreadable."""
    return backend_class(name)(Path(path), create=create)
