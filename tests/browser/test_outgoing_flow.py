"""Văn bản đi in a real browser: soạn thảo → xem xét → ký số (moving the signature box)
→ cấp số, phát hành → the recipient organisation tiếp nhận → the sender sees "Đã vào sổ"."""
import pytest
from sqlalchemy import select

from docmgr.inbound.models import IncomingDocument
from docmgr.outbound.models import OutgoingDocument
from docmgr.signing import placement
from tests.outbound.conftest import (
    ORG_PIN,
    PIN,
    draft_pdf,
    keys,  # noqa: F401  (the certificates and the seal)
)

try:
    from playwright.sync_api import expect
except ImportError:  # the `chromium` fixture then skips (or fails under CI)
    expect = None

pytestmark = pytest.mark.browser

SUBJECT = "Quyết định ban hành Quy chế công tác văn thư"


@pytest.fixture
def draft_file(tmp_path):
    path = tmp_path / "du-thao-quyet-dinh.pdf"
    path.write_bytes(draft_pdf())
    return path


def badge(page):
    return page.locator(".pagehead .badge").first


def test_draft_review_sign_issue_and_receive(page, login, logout, draft_file, keys,  # noqa: F811
                                             db, world):
    # (1) The specialist drafts: the head reviews, the leader signs, Sở Xây dựng receives.
    login("specialist")
    page.get_by_role("navigation").get_by_role("link", name="Văn bản đi").click()
    page.get_by_role("link", name="+ Soạn dự thảo").click()
    expect(page.get_by_role("heading", name="Soạn dự thảo văn bản đi")).to_be_visible()
    page.get_by_label("Tệp dự thảo (PDF)").set_input_files(draft_file)
    page.get_by_label("Loại văn bản").select_option(value="QĐ")
    page.get_by_label("Trích yếu nội dung").fill(SUBJECT)
    page.get_by_label("Người ký").select_option(label="Phạm Minh Quang — Lãnh đạo")
    page.get_by_label("Người xem xét 1").select_option(
        label="Lê Thị Hoa — Trưởng phòng (KT)")
    page.get_by_label("Sở Xây dựng").check()
    page.get_by_role("button", name="Tạo dự thảo").click()
    expect(page.locator(".flash-success")).to_contain_text("Đã tạo dự thảo")
    expect(badge(page)).to_have_text("Dự thảo")
    page.get_by_role("button", name="Trình", exact=True).click()
    expect(page.locator(".flash-success")).to_have_text("Đã trình xem xét.")
    expect(badge(page)).to_have_text("Đang xem xét")
    doc_url = page.url

    # (2) The head approves from the "Chờ cho ý kiến" queue.
    logout()
    login("head")
    card = page.get_by_test_id("out-to-review")
    expect(card.locator(".num")).to_have_text("1")
    card.click()
    page.get_by_role("link", name=SUBJECT).click()
    page.get_by_label("Ý kiến").fill("Đồng ý, trình lãnh đạo ký.")
    page.get_by_role("button", name="Đồng ý").click()
    expect(page.locator(".flash-success")).to_contain_text("chuyển người ký")
    expect(badge(page)).to_have_text("Chờ ký")

    # (3) The leader opens "Chờ ký", sees the box over the signature block, moves it.
    logout()
    login("leader")
    card = page.get_by_test_id("out-to-sign")
    expect(card.locator(".num")).to_have_text("1")
    card.click()
    page.get_by_role("link", name="Ký số").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ký số")
    image = page.get_by_role("img", name="Trang 1")
    page.wait_for_function("img => img.complete && img.naturalWidth > 0",
                           arg=image.element_handle())
    box = page.locator("#signature-box")
    expect(box).to_be_visible()
    img = image.bounding_box()
    drawn = box.bounding_box()
    layout = placement.find_layout(draft_pdf(), "Phạm Minh Quang")
    scale = img["width"] / 595
    assert drawn["x"] - img["x"] == pytest.approx(layout.personal.x0 * scale, abs=2)
    assert drawn["y"] - img["y"] == pytest.approx((842 - layout.personal.y1) * scale, abs=2)
    assert drawn["width"] == pytest.approx(placement.SIGNATURE_W * scale, abs=2)
    assert drawn["height"] == pytest.approx(placement.SIGNATURE_H * scale, abs=2)
    expect(page.locator("#sign-form input[name=page]")).to_have_value("")
    expect(page.get_by_label("Mã PIN chứng thư số")).to_be_focused()

    # Click lower left on page 1: the box is centred there, the form carries the points.
    image.click(position={"x": img["width"] * 0.3, "y": img["height"] * 0.75})
    want_x = 0.3 * 595 - placement.SIGNATURE_W / 2
    want_y = 0.25 * 842 - placement.SIGNATURE_H / 2
    expect(page.locator("#sign-form input[name=page]")).to_have_value("1")
    moved = box.bounding_box()
    assert moved["x"] - img["x"] == pytest.approx(want_x * scale, abs=2)
    assert float(page.locator("#sign-form input[name=x]").input_value()) == \
        pytest.approx(want_x, abs=1.5)
    assert float(page.locator("#sign-form input[name=y]").input_value()) == \
        pytest.approx(want_y, abs=1.5)
    expect(page.locator("#placement-status")).to_contain_text("vị trí bạn đã chọn")
    page.get_by_label("Mã PIN chứng thư số").fill(PIN)
    page.get_by_role("button", name="Ký số", exact=True).click()
    expect(page.locator(".flash-success")).to_contain_text("Đã ký số văn bản")
    expect(badge(page)).to_have_text("Đã ký, chờ phát hành")
    expect(page.get_by_test_id("signature-verdict")).to_have_text("Hợp lệ")
    with db.transaction(readonly=True) as s:
        doc = s.scalar(select(OutgoingDocument))
        assert doc.signature_box["page"] == 0
        assert doc.signature_box["x0"] == pytest.approx(want_x, abs=1.5)
        assert doc.signature_box["y0"] == pytest.approx(want_y, abs=1.5)

    # (4) The clerk issues with the organisation's PIN.
    logout()
    login("clerk")
    card = page.get_by_test_id("out-to-issue")
    expect(card.locator(".num")).to_have_text("1")
    card.click()
    page.get_by_role("link", name=SUBJECT).click()
    page.get_by_label("Mã PIN chứng thư số của cơ quan").fill(ORG_PIN)
    page.get_by_role("button", name="Cấp số và phát hành").click()
    expect(page.locator(".flash-success")).to_have_text("Đã phát hành văn bản số 01/QĐ-VP.")
    expect(page.get_by_test_id("notation")).to_have_text("01/QĐ-VP")
    expect(badge(page)).to_have_text("Đã phát hành")
    expect(page.get_by_test_id("signature-verdict")).to_have_text("Hợp lệ")
    expect(page.locator(".sig-list li")).to_have_count(2)
    expect(page.locator("tr[data-recipient='Sở Xây dựng'] .badge")).to_have_text("Đã đến")
    issued = page.get_by_role("img", name="Trang 1")
    page.wait_for_function("img => img.complete && img.naturalWidth > 0",
                           arg=issued.element_handle())

    # (5) Sở Xây dựng's clerk accepts the electronic document: số đến 1.
    logout()
    login("other_clerk")
    page.locator(".card", has_text="Chờ tiếp nhận").click()
    page.get_by_role("link", name="01/QĐ-VP").first.click()
    panel = page.get_by_role("region", name="Tiếp nhận văn bản điện tử")
    expect(panel).to_be_visible()
    expect(panel.get_by_test_id("signature-verdict")).to_have_text("Hợp lệ")
    expect(panel).to_contain_text("Phạm Minh Quang")
    panel.get_by_role("button", name="Tiếp nhận và vào sổ").click()
    expect(page.locator(".flash-success")).to_have_text(
        "Đã tiếp nhận và vào sổ văn bản đến số 1: 01/QĐ-VP.")
    expect(page.get_by_test_id("arrival-number")).to_have_text("1")
    expect(page.get_by_role("region", name="Tiếp nhận văn bản điện tử")).to_have_count(0)

    # (6) The sender follows the dispatch: "Đã vào sổ".
    logout()
    login("specialist")
    page.goto(doc_url)
    expect(page.locator("tr[data-recipient='Sở Xây dựng'] .badge")).to_have_text("Đã vào sổ")
    with db.transaction(readonly=True) as s:
        incoming = s.scalar(select(IncomingDocument))
        assert (incoming.status, incoming.arrival_number, incoming.org_id) == \
            ("registered", 1, world.other_org.id)
