"""Issue 11: a stored document is always served as what it is — a PDF under a .pdf name
made from its notation, never the uploader's name — and refused uploads leave no file."""
import stat

from docmgr.demo import sample_pdf
from tests.conftest import csrf_from, registration_form, upload

HTML_THEN_PDF_PREFIX = b"<html><body><script>alert(document.cookie)</script></body></html>\n"


def _register(api, pdf, name="van-ban.pdf", who="clerk", **fields):
    return api(who).post("/api/v1/incoming", data={**registration_form(**fields),
                                                   "file": upload(pdf, name)})


def _blob_files(blobs):
    return {p for p in blobs.root.rglob("*") if p.is_file()}


def test_pdf_names_come_from_the_notation():
    from docmgr.core.web import content_disposition, pdf_filename
    assert pdf_filename("02/QĐ-VP", "van-ban-den-1") == "02-QĐ-VP.pdf"
    assert pdf_filename(" ../../etc/passwd ", "x") == "etc-passwd.pdf"
    assert pdf_filename("", "van-ban-den-7") == "van-ban-den-7.pdf"
    assert pdf_filename(None, "") == "van-ban.pdf"
    header = content_disposition("02-QĐ-VP.pdf")
    assert header == ("attachment; filename=\"02-QD-VP.pdf\"; "
                      "filename*=UTF-8''02-Q%C4%90-VP.pdf")
    assert content_disposition("Tờ trình.pdf", inline=True) == (
        "inline; filename=\"To trinh.pdf\"; filename*=UTF-8''T%E1%BB%9D%20tr%C3%ACnh.pdf")


def test_html_followed_by_pdf_downloads_as_pdf_from_the_api(api, pdf_bytes):
    doc = _register(api, HTML_THEN_PDF_PREFIX + pdf_bytes, "hoa-don.html",
                    notation="02/QĐ-VP").json
    shown = api("clerk").get(f"/api/v1/incoming/{doc['id']}").json
    assert shown["file"]["filename"] == "hoa-don.pdf"
    r = api("clerk").get(f"/api/v1/incoming/{doc['id']}/file")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Content-Disposition"] == (
        "attachment; filename=\"02-QD-VP.pdf\"; filename*=UTF-8''02-Q%C4%90-VP.pdf")
    assert "html" not in r.headers["Content-Disposition"]
    assert r.headers["Cache-Control"] == "no-store"


def test_viewer_link_is_inline_and_download_link_an_attachment(app, api, browser_login,
                                                                pdf_bytes):
    doc = _register(api, HTML_THEN_PDF_PREFIX + pdf_bytes, "hoa-don.html").json
    client = browser_login("clerk")
    shown = client.get(f"/incoming/{doc['id']}/file")
    assert shown.status_code == 200 and shown.mimetype == "application/pdf"
    assert shown.headers["Content-Disposition"].startswith('inline; filename="412-STC-NS.pdf"')
    assert shown.headers["X-Content-Type-Options"] == "nosniff"
    saved = client.get(f"/incoming/{doc['id']}/file?download=1")
    assert saved.headers["Content-Disposition"].startswith(
        'attachment; filename="412-STC-NS.pdf"')
    assert saved.headers["Cache-Control"] == "no-store"


def test_api_duplicate_409_leaves_no_new_blob(api, blobs, pdf_bytes):
    assert _register(api, pdf_bytes).status_code == 201
    before = _blob_files(blobs)
    other_scan = sample_pdf(["Ban chup lai", "So: 412/STC-NS"], pages=1)
    again = _register(api, other_scan, who="clerk2")
    assert again.status_code == 409
    assert _blob_files(blobs) == before
    # The same content as a stored document is not touched by a refusal either.
    assert _register(api, pdf_bytes, who="clerk2").status_code == 409
    assert _blob_files(blobs) == before


def test_refused_registration_form_leaves_no_new_blob(api, blobs, browser_login, pdf_bytes):
    assert _register(api, pdf_bytes).status_code == 201
    before = _blob_files(blobs)
    client = browser_login("clerk")
    page = client.get("/incoming/new")
    r = client.post("/incoming/new", data={
        **registration_form(), "csrf_token": csrf_from(page.data),
        "file": upload(sample_pdf(["Ban khac"], pages=1))}, content_type="multipart/form-data")
    assert r.status_code == 409
    assert _blob_files(blobs) == before


def test_stored_blobs_are_private(api, blobs, pdf_bytes):
    doc = _register(api, pdf_bytes).json
    blob = next(iter(_blob_files(blobs)))
    assert stat.S_IMODE(blob.stat().st_mode) == 0o400
    directory = blob.parent
    while directory != blobs.root.parent:
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory
        directory = directory.parent
    assert doc["id"]


def test_page_previews_stay_privately_cached_while_pages_are_not(api, browser_login, pdf_bytes):
    doc = _register(api, pdf_bytes).json
    client = browser_login("clerk")
    preview = client.get(f"/incoming/{doc['id']}/pages/1.png")
    assert preview.status_code == 200 and preview.mimetype == "image/png"
    assert preview.headers["Cache-Control"] == "private, max-age=86400"
    page = client.get(f"/incoming/{doc['id']}")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
