"""Search in a real browser: the box on every page, typed without diacritics, a facet, and
the result opened with its words marked on the page preview."""
import pytest

from tests.conftest import registration_form, upload

try:
    from playwright.sync_api import expect
except ImportError:  # the `chromium` fixture then skips (or fails under CI)
    expect = None

pytestmark = pytest.mark.browser


def test_search_from_the_top_box_to_the_marked_preview(app, api, pdf_bytes, page, login):
    made = {}
    for notation, doc_type, subject in (
            ("15/QĐ-UBND", "QĐ", "Quyết định phê duyệt quy hoạch sử dụng đất đai"),
            ("16/TB-UBND", "TB", "Thông báo kết luận về đất đai và khoáng sản"),
            ("17/TB-UBND", "TB", "Thông báo lịch tiếp công dân")):
        r = api("clerk").post("/api/v1/incoming", data={**registration_form(
            notation=notation, doc_type=doc_type, subject=subject), "file": upload(pdf_bytes)})
        assert r.status_code == 201, r.json
        made[notation] = r.json["id"]
    search = app.extensions["docmgr_search"]
    search.indexer.ensure_index()
    search.indexer.drain(with_ocr=False)

    login("specialist")
    box = page.get_by_role("searchbox", name="Tìm văn bản")
    box.fill("dat dai")
    box.press("Enter")
    hits = page.locator("article.hit")
    expect(hits).to_have_count(2)
    expect(page.locator("article.hit mark").first).to_have_text("đất")
    page.locator(".facets a", has_text="Thông báo").click()
    expect(hits).to_have_count(1)
    expect(hits.first).to_contain_text("16/TB-UBND")
    hits.first.locator("p.subject a").click()
    expect(page.locator("h1")).to_contain_text("16/TB-UBND")
    preview = page.locator("img[alt='Trang 1']")
    expect(preview).to_have_attribute(
        "src", f"/incoming/{made['16/TB-UBND']}/pages/1.png?hl=dat+dai")
    expect(preview).to_have_js_property("complete", True)
    assert preview.evaluate("img => img.naturalWidth") > 0
