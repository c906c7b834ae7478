"""The search slice's tests run once per backend."""
import pytest

from docmgr.search.engines import BACKENDS
from docmgr.search.service import SearchService
from tests.outbound.conftest import keys, new_draft, signed_draft  # noqa: F401  (fixtures)


@pytest.fixture(params=BACKENDS)
def app_config(request) -> dict:
    return {"SEARCH_BACKEND": request.param}


@pytest.fixture
def search(app) -> SearchService:
    service = app.extensions["docmgr_search"]
    service.indexer.ensure_index()  # what `flask docmgr init` does
    return service


@pytest.fixture
def drain(search):
    """Index what is queued, as the worker would (without OCR unless asked)."""
    def run(**kwargs):
        kwargs.setdefault("with_ocr", False)
        stats = search.indexer.drain(**kwargs)
        assert not stats.errors, stats.errors
        return stats
    return run
