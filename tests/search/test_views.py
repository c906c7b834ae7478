"""The search page, the search box on every page, and indexing in the background thread."""
import html
import io

import pytest

from docmgr import create_app
from tests import corpus
from tests.conftest import registration_form, upload

LAW_PDF = corpus.data("pdf/vn/unsigned/thong-tu-12-2022-TT-BLDTBXH.pdf")


def register(api, pdf, **fields):
    r = api("clerk").post("/api/v1/incoming", data={**registration_form(**fields),
                                                      "file": upload(pdf)})
    assert r.status_code == 201, r.json
    return r.json


def test_search_box_on_every_page_and_results_with_facets(browser_login, api, pdf_bytes,
                                                          drain, search):
    doc = register(api, pdf_bytes, notation="12/KH-UBND",
                   subject="Kế hoạch tổ chức Hội nghị tổng kết năm")
    register(api, pdf_bytes, notation="13/KH-UBND", subject="Kế hoạch tổ chức Tết",
             secrecy="secret")
    drain()
    client = browser_login("specialist")
    assert 'action="/search/"' in client.get("/").get_data(as_text=True)
    page = client.get("/search/?q=ke+hoach+to+chuc").get_data(as_text=True)
    assert f'href="/incoming/{doc["id"]}?hl=ke+hoach+to+chuc"' in page
    assert "<mark>Kế</mark> <mark>hoạch</mark> <mark>tổ</mark> <mark>chức</mark>" in page
    assert "Tết" not in page  # the secret one, not even its subject
    assert 'class="count">1<' in page  # facet counts
    empty = client.get("/search/?q=khong+co+dau+ca").get_data(as_text=True)
    assert "Không tìm thấy văn bản nào phù hợp" in empty
    bad = client.get("/search/?q=a&from=2025-13-01").get_data(as_text=True)
    assert html.escape("không đúng dạng") in bad or "không đúng dạng" in bad


def test_search_page_needs_login(app):
    r = app.test_client().get("/search/?q=a")
    assert r.status_code == 302 and "/login" in r.location


@pytest.fixture
def threaded_app(database_url, tmp_path, app):
    """A second app on the same database with the embedded background indexer."""
    other = create_app({"DATABASE_URL": database_url, "DATA_DIR": app.config["DATA_DIR"],
                        "TESTING": True, "SECRET_KEY": "test-secret", "INDEXER": "thread",
                        "SEARCH_BACKEND": app.config["SEARCH_BACKEND"]})
    yield other
    other.extensions["docmgr_search"].stop()
    other.extensions["docmgr"].db.dispose()


def test_registration_is_searchable_without_any_worker(threaded_app, world, pdf_bytes):
    from tests.conftest import ApiClient
    service = threaded_app.extensions["docmgr_search"]
    service.indexer.ensure_index()
    clerk = ApiClient(threaded_app, threaded_app.extensions["docmgr"].db, world.users["clerk"])
    r = clerk.post("/api/v1/incoming", data={**registration_form(
        subject="Tờ trình xin chủ trương đầu tư"), "file": upload(pdf_bytes)})
    assert r.status_code == 201
    assert service.wait_idle(timeout=60)
    found = clerk.get("/api/v1/search?q=to+trinh+dau+tu").json
    assert [hit["id"] for hit in found["hits"]] == [r.json["id"]]


def _yellow_pixels(png: bytes) -> int:
    from PIL import Image
    image = Image.open(io.BytesIO(png)).convert("RGB")
    return sum(1 for r, g, b in image.get_flattened_data() if r > 200 and g > 170 and b < 150)


def test_a_result_opens_with_the_words_marked_in_the_preview(browser_login, api, drain):
    doc = register(api, LAW_PDF.read_bytes(), subject="Thông tư về lao động")
    drain()
    client = browser_login("specialist")
    results = client.get("/search/?q=nguoi+lao+dong").get_data(as_text=True)
    link = f'/incoming/{doc["id"]}?hl=nguoi+lao+dong'
    assert link in results
    page = client.get(link).get_data(as_text=True)
    assert f'/incoming/{doc["id"]}/pages/1.png?hl=nguoi+lao+dong' in page
    plain = client.get(f'/incoming/{doc["id"]}/pages/1.png').data
    marked = client.get(f'/incoming/{doc["id"]}/pages/1.png?hl=nguoi+lao+dong').data
    assert _yellow_pixels(marked) > _yellow_pixels(plain) + 500
    nowhere = client.get(f'/incoming/{doc["id"]}/pages/1.png?hl=khongcotu').data
    assert _yellow_pixels(nowhere) == _yellow_pixels(plain)
