"""Issue 11 for outgoing documents: files named from the notation, served as PDFs; a
refused draft upload leaves nothing on disk."""
from docmgr.demo import sample_pdf
from tests.conftest import upload
from tests.outbound.conftest import draft_form, draft_pdf


def _blob_files(blobs):
    return {p for p in blobs.root.rglob("*") if p.is_file()}


def test_refused_draft_upload_leaves_no_new_blob(api, world, blobs):
    before = _blob_files(blobs)
    annex = sample_pdf(["PHU LUC", "Danh sach"], pages=1)
    # The document and its attachment are stored before the recipients are checked.
    r = api("specialist").post("/api/v1/drafts", data={
        **draft_form(world, recipients=f'["{world.org.code}"]'),
        "file": upload(draft_pdf(), "du-thao.pdf"), "attachments": [upload(annex, "pl.pdf")]})
    assert r.status_code == 400 and r.json["error"]["field"] == "recipients", r.json
    assert _blob_files(blobs) == before


def test_draft_file_and_attachment_names(api, world, issued):
    annex = sample_pdf(["PHU LUC"], pages=1)
    r = api("specialist").post("/api/v1/drafts", data={
        **draft_form(world), "file": upload(draft_pdf(), "du-thao.html"),
        "attachments": [upload(annex, "phu-luc.htm")]})
    assert r.status_code == 201, r.json
    doc = r.json
    assert doc["attachments"][0]["filename"] == "phu-luc.pdf"
    got = api("specialist").get(f"/api/v1/drafts/{doc['id']}/file")
    assert got.mimetype == "application/pdf" and got.headers["X-Content-Type-Options"] == "nosniff"
    assert got.headers["Content-Disposition"].startswith(
        f'attachment; filename="van-ban-di-{doc["id"]}.pdf"')
    attached = api("specialist").get(
        f"/api/v1/outgoing/{doc['id']}/attachments/{doc['attachments'][0]['id']}")
    assert attached.headers["Content-Disposition"].startswith(
        f'attachment; filename="van-ban-di-{doc["id"]}-phu-luc-1.pdf"')

    done = issued()
    named = done["notation"].replace("/", "-")
    assert "Đ" in named or "/" in done["notation"]
    signed = api("clerk").get(f"/api/v1/outgoing/{done['id']}/file")
    plain = named.replace("Đ", "D")
    assert signed.headers["Content-Disposition"].startswith(
        f'attachment; filename="{plain}.pdf"; filename*=UTF-8\'\'')
    assert signed.headers["Cache-Control"] == "no-store"
