"""A decompression bomb is refused at registration (API and form) with nothing stored;
one that got past the check (stored directly, as an older version would have) costs its
preview a worker once, not the web process: the preview answers promptly, the web
process's memory stays flat, the file is marked and the document page says why."""
import hashlib
import re
import time
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from docmgr.core import auth as accounts
from docmgr.core import previews
from docmgr.core.documents import StoredFile
from docmgr.core.uploads import MSG_BOMB, CheckedPdf
from docmgr.inbound import operations as inbound
from docmgr.inbound.models import IncomingDocument
from tests.bombs import content_bomb_pdf
from tests.conftest import csrf_from, registration_form, upload

NOTICE = "Không tạo được bản xem trước: tệp vượt giới hạn xử lý."


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return content_bomb_pdf(3000)  # 3 MB that decode to 3 GiB


def assert_nothing_stored(db, blobs):
    with db.transaction(readonly=True) as s:
        assert s.scalar(select(func.count()).select_from(IncomingDocument)) == 0
        assert s.scalar(select(func.count()).select_from(StoredFile)) == 0
    assert not [p for p in blobs.root.rglob("*") if p.is_file()]


def test_api_refuses_a_bomb_and_stores_nothing(api, db, blobs, bomb):
    r = api("clerk").post("/api/v1/incoming", data={**registration_form(),
                                                   "file": upload(bomb, "bom.pdf")})
    assert r.status_code == 400
    assert r.json["error"] == {"code": "upload_rejected", "message": MSG_BOMB, "field": "file",
                               "reason": "decompression_bomb"}
    assert_nothing_stored(db, blobs)


def test_form_refuses_a_bomb_and_stores_nothing(browser_login, db, blobs, bomb):
    client = browser_login("clerk")
    page = client.get("/incoming/new")
    r = client.post("/incoming/new", content_type="multipart/form-data", data={
        **registration_form(), "csrf_token": csrf_from(page.data), "file": upload(bomb)})
    assert r.status_code == 400
    assert MSG_BOMB in r.data.decode()
    assert_nothing_stored(db, blobs)


def stored_past_the_check(db, blobs, world, pdf: bytes) -> int:
    checked = CheckedPdf(data=pdf, page_count=1, sha256=hashlib.sha256(pdf).hexdigest(),
                         has_signatures=False)
    with db.transaction() as s:
        clerk = s.get(accounts.User, world.users["clerk"].id)
        data = inbound.Registration(sender="Không rõ", notation="1/BOM",
                                    doc_date=date(2026, 11, 2), doc_type="CV",
                                    subject="Tệp bom giải nén")
        return inbound.register(s, blobs, clerk, data, checked, "bom.pdf").id


def peak_rss_mib_during(action) -> tuple[object, float]:
    """What ``action`` returns and the process's peak resident memory while it ran."""
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM, the peak
    result = action()
    status = Path("/proc/self/status").read_text()
    return result, int(re.search(r"VmHWM:\s+(\d+)", status)[1]) / 1024


def test_preview_of_a_stored_bomb_answers_promptly_and_marks_the_file(
        browser_login, db, blobs, world, bomb):
    doc_id = stored_past_the_check(db, blobs, world, bomb)
    client = browser_login("clerk")
    client.get(f"/incoming/{doc_id}")  # warm the request path: what follows is the render
    rss_before = peak_rss_mib_during(lambda: None)[1]

    started = time.monotonic()
    r, peak = peak_rss_mib_during(lambda: client.get(f"/incoming/{doc_id}/pages/1.png"))
    took = time.monotonic() - started
    assert r.status_code == 422
    assert NOTICE in r.data.decode()
    assert took < previews.PREVIEW_LIMITS.wall  # the worker died; nothing waited it out
    assert peak - rss_before < 100  # 3 GiB were decoded elsewhere, if at all
    with db.transaction(readonly=True) as s:
        assert s.scalar(select(StoredFile.over_limit)) in ("memory", "crash")

    # From now on no worker is spent on it: the answer is immediate, the page explains.
    again = client.get(f"/incoming/{doc_id}/pages/1.png")
    assert again.status_code == 422
    page = client.get(f"/incoming/{doc_id}").data.decode()
    assert NOTICE in page and f"/incoming/{doc_id}/pages/1.png" not in page
