"""Văn bản đến in a real browser: vào sổ → phân phối → nhận xử lý → hoàn thành,
and the duplicate warning on the registration form."""
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from docmgr.core.audit import AuditEvent
from docmgr.inbound.models import IncomingDocument

try:
    from playwright.sync_api import expect
except ImportError:  # the `chromium` fixture then skips (or fails under CI)
    expect = None

pytestmark = pytest.mark.browser

SENDER = "Sở Tài chính tỉnh Quảng Ngãi"
NOTATION = "412/STC-NS"
SUBJECT = "Báo cáo tình hình thực hiện dự toán ngân sách quý III"


def local_today() -> date:
    return datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()


@pytest.fixture
def pdf_file(tmp_path, pdf_bytes):
    path = tmp_path / "1520-UBND-KT.pdf"
    path.write_bytes(pdf_bytes)
    return path


def fill_registration(page, pdf_file, *, sender=SENDER, notation=NOTATION, doc_date,
                      doc_type="BC", subject=SUBJECT, urgency="Khẩn"):
    page.locator("#file").set_input_files(pdf_file)
    page.get_by_label("Cơ quan ban hành (tác giả)").fill(sender)
    page.get_by_label("Số, ký hiệu").fill(notation)
    page.get_by_label("Ngày văn bản").fill(doc_date.isoformat())
    page.get_by_label("Loại văn bản").select_option(value=doc_type)
    page.get_by_label("Trích yếu nội dung").fill(subject)
    page.get_by_label("Độ khẩn").select_option(label=urgency)


def open_registration_form(page):
    page.get_by_role("navigation").get_by_role("link", name="Vào sổ").click()
    expect(page.get_by_role("heading", name="Vào sổ văn bản đến")).to_be_visible()


def submit_registration(page):
    page.get_by_role("button", name="Vào sổ").click()


def test_register_assign_handle_complete(page, login, logout, pdf_file, db, world):
    doc_date = local_today() - timedelta(days=3)
    deadline = local_today() + timedelta(days=5)

    # (1) The clerk registers the document.
    login("clerk")
    open_registration_form(page)
    fill_registration(page, pdf_file, doc_date=doc_date)
    submit_registration(page)
    expect(page.locator(".flash-success")).to_contain_text("Đã vào sổ văn bản đến số 1")
    expect(page.locator(".flash-success")).to_have_text(
        f"Đã vào sổ văn bản đến số 1: {NOTATION}.")

    page.get_by_role("link", name=f"số đến 1 — {NOTATION}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Báo cáo {NOTATION}")
    expect(page.get_by_test_id("arrival-number")).to_have_text("1")
    expect(page.locator(".pagehead .badge").first).to_have_text("Đã vào sổ")
    preview = page.get_by_role("img", name="Trang 1")
    expect(preview).to_be_visible()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=preview.element_handle())
    assert preview.evaluate("img => img.naturalWidth") > 0
    expect(page.get_by_role("img", name="Trang 2")).to_have_count(1)

    # (2) The leader distributes it to the specialist.
    logout()
    login("leader")
    to_assign = page.get_by_test_id("to-assign")
    expect(to_assign.locator(".num")).to_have_text("1")
    to_assign.click()
    page.get_by_role("link", name=NOTATION).click()
    expect(page.get_by_test_id("arrival-number")).to_have_text("1")

    form = page.locator("#assign-form")
    option = form.locator("#target option", has_text="Trần Văn Bình")
    expect(option).to_have_count(1)
    form.get_by_label("Chuyển cho").select_option(value=option.get_attribute("value"))
    form.get_by_label("Vai trò").select_option(label="Xử lý chính")
    form.get_by_label("Hạn xử lý").fill(deadline.isoformat())
    form.get_by_label("Ý kiến chỉ đạo").fill("Đề nghị phòng KT tham mưu văn bản trả lời.")
    form.get_by_role("button", name="Chuyển xử lý").click()
    expect(page.locator(".flash-success")).to_have_text("Đã chuyển xử lý văn bản.")
    expect(page.locator(".pagehead .badge").first).to_have_text("Đã chuyển xử lý")
    expect(page.locator(".assignment").first).to_contain_text(
        f"Trần Văn Bình — Xử lý chính, hạn {deadline:%d/%m/%Y}")
    expect(page.locator(".stamp")).to_contain_text("Trần Văn Bình")

    # (3) The specialist takes it on and completes it.
    logout()
    login("specialist")
    mine = page.get_by_test_id("mine")
    expect(mine.locator(".num")).to_have_text("1")
    page.locator("a.row", has_text=NOTATION).first.click()
    expect(page.get_by_test_id("arrival-number")).to_have_text("1")
    page.get_by_role("button", name="Nhận xử lý").click()
    expect(page.locator(".flash-success")).to_have_text("Đã nhận xử lý văn bản.")
    expect(page.locator(".pagehead .badge").first).to_have_text("Đang xử lý")
    page.get_by_label("Kết quả xử lý").fill("Đã tham mưu văn bản trả lời số 77/KT.")
    page.get_by_role("button", name="Hoàn thành xử lý").click()
    expect(page.locator(".flash-success")).to_have_text("Đã hoàn thành xử lý văn bản.")
    expect(page.locator(".pagehead .badge").first).to_have_text("Hoàn thành")
    expect(page.get_by_role("button", name="Nhận xử lý")).to_have_count(0)
    expect(page.locator(".facts")).to_contain_text("Đã tham mưu văn bản trả lời số 77/KT.")

    # (4) What was stored.
    with db.transaction(readonly=True) as s:
        doc = s.scalars(select(IncomingDocument)).one()
        assert (doc.status, doc.arrival_number, doc.org_id) == ("completed", 1, world.org.id)
        assert doc.completion_note == "Đã tham mưu văn bản trả lời số 77/KT."
        assert doc.doc_date == doc_date and doc.urgency == "urgent"
        actions = s.scalars(select(AuditEvent.action).where(
            AuditEvent.object_type == IncomingDocument.__tablename__,
            AuditEvent.object_id == str(doc.id)).order_by(AuditEvent.seq)).all()
    assert actions == ["incoming.registered", "incoming.assigned", "incoming.started",
                       "incoming.completed"]


def test_duplicate_warning_and_refusal(page, login, pdf_file, db):
    doc_date = local_today() - timedelta(days=1)
    login("clerk")
    open_registration_form(page)
    fill_registration(page, pdf_file, doc_date=doc_date)
    submit_registration(page)
    expect(page.locator(".flash-success")).to_contain_text("Đã vào sổ văn bản đến số 1")

    warning = page.locator("#duplicate-warning")
    expect(warning).to_be_hidden()
    # The clerk types the same document again; each field's `change` asks the server.
    # Date first, notation last: only the last change has all three values, so exactly
    # one check runs (answers arriving out of order are covered by the test below).
    page.get_by_label("Ngày văn bản").fill(doc_date.isoformat())
    page.get_by_label("Cơ quan ban hành (tác giả)").fill(SENDER)
    page.get_by_label("Số, ký hiệu").fill(NOTATION.lower())  # case does not matter
    page.get_by_label("Trích yếu nội dung").click()  # leave the field: fires `change`
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("Văn bản này đã được vào sổ (số đến 1)")
    expect(warning.get_by_role("link", name="Mở văn bản đã vào sổ")).to_have_attribute(
        "href", f"/incoming/{_only_id(db)}")

    # Saving anyway is refused and stores nothing.
    page.locator("#file").set_input_files(pdf_file)
    page.get_by_label("Trích yếu nội dung").fill(SUBJECT)
    submit_registration(page)
    expect(page.locator("#duplicate-warning")).to_contain_text("đã được vào sổ (số đến 1)")
    with db.transaction(readonly=True) as s:
        assert s.scalar(select(func.count()).select_from(IncomingDocument)) == 1

    # The refused attempt gave its number back: the next document is số đến 2.
    page.locator("#file").set_input_files(pdf_file)
    page.get_by_label("Số, ký hiệu").fill("413/STC-NS")
    submit_registration(page)
    expect(page.locator(".flash-success")).to_contain_text("Đã vào sổ văn bản đến số 2")
    with db.transaction(readonly=True) as s:
        assert s.scalars(select(IncomingDocument.arrival_number)
                         .order_by(IncomingDocument.arrival_number)).all() == [1, 2]


# Counts duplicate-check answers fully handled by app.js: the counter moves in a task
# queued once the body is parsed, so after every promise callback chained on it.
COUNT_HANDLED_CHECKS = """
window.__handledChecks = 0;
const json = Response.prototype.json;
Response.prototype.json = function () {
  const counted = this.url.includes("/incoming/check-duplicate");
  return json.call(this).then(body => {
    if (counted) setTimeout(() => { window.__handledChecks += 1; }, 0);
    return body;
  });
};
"""


def test_duplicate_warning_survives_answers_out_of_order(page, login, pdf_file):
    doc_date = local_today() - timedelta(days=1)
    login("clerk")
    open_registration_form(page)
    fill_registration(page, pdf_file, doc_date=doc_date)
    submit_registration(page)
    expect(page.locator(".flash-success")).to_contain_text("Đã vào sổ văn bản đến số 1")

    page.add_init_script(COUNT_HANDLED_CHECKS)
    held = []

    def hold_stale_checks(route):
        if f"doc_date={doc_date.isoformat()}" in route.request.url:
            route.continue_()
        else:
            held.append(route)  # the check sent with the default date: answer it late
    page.route("**/incoming/check-duplicate?*", hold_stale_checks)
    page.reload()

    # The natural order: notation, then the date. Leaving the notation field checks with
    # today's default date (held back); changing the date checks again (answered).
    page.get_by_label("Số, ký hiệu").fill(NOTATION)
    page.get_by_label("Ngày văn bản").fill(doc_date.isoformat())
    page.get_by_label("Trích yếu nội dung").click()
    warning = page.locator("#duplicate-warning")
    expect(warning).to_be_visible()
    assert len(held) == 1, [r.request.url for r in held]

    held[0].continue_()  # the older answer ("no duplicate") arrives last
    page.wait_for_function("() => window.__handledChecks >= 2")
    expect(warning).to_be_visible(timeout=1000)


def _only_id(db) -> int:
    with db.transaction(readonly=True) as s:
        return s.scalars(select(IncomingDocument.id)).one()
