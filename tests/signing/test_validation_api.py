"""POST /api/v1/signatures/validate and the /signatures/validate page."""
from html import unescape

import pytest

from docmgr.demo import sample_pdf
from tests import corpus
from tests.conftest import csrf_from, upload
from tests.generated import scan_jpeg
from tests.signing.tamper import refill

URL = "/api/v1/signatures/validate"
PAGE = "/signatures/validate"
API_FIELDS = ["field", "signer", "signed_at", "intact", "valid", "trusted", "timestamped",
              "modification_level", "coverage"]
VN_SIGNED = corpus.data("signed/vn-congbao/valid/thong-tu-02-2026-TT-BTC.pdf")
TAMPERED = corpus.data("signed/eu-dss/pdf-signed-added-page.pdf")


def post_file(client, data: bytes, name: str = "van-ban.pdf"):
    return client.post(URL, data={"file": upload(data, name)},
                       content_type="multipart/form-data")


# --- API -----------------------------------------------------------------------------------

def test_requires_a_token(app, world):
    response = app.test_client().post(URL, data={"file": upload(sample_pdf(["x"]))},
                                      content_type="multipart/form-data")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize("username", ["clerk", "specialist", "leader", "head", "admin"])
def test_unsigned_pdf_gives_an_empty_list_for_every_role(api, username):
    response = post_file(api(username), sample_pdf(["Cong van khong ky so"], pages=2))
    assert response.status_code == 200
    body = response.get_json()
    assert body == {"signatures": [], "summary": "Văn bản không có chữ ký số.",
                    "verdict": "unsigned"}


def test_signed_file_answers_the_api_md_fields(api):
    response = post_file(api("clerk"), VN_SIGNED.read_bytes(), VN_SIGNED.name)
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"signatures", "summary", "verdict"}
    (entry,) = body["signatures"]
    assert set(API_FIELDS) <= set(entry)  # (Flask sorts JSON keys: order is not part of it)
    assert entry["field"] == "Signature1"
    assert entry["signer"] == "CÔNG BÁO NƯỚC CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    assert entry["signed_at"].endswith("+07:00")
    assert (entry["intact"], entry["valid"], entry["trusted"], entry["timestamped"]) == \
        (True, True, False, True)
    assert (entry["modification_level"], entry["coverage"]) == ("none", "entire_file")
    assert entry["verdict"] == body["verdict"] == "untrusted"
    assert entry["verdict_label"] == "Toàn vẹn nhưng chưa xác thực được nguồn gốc chứng thư"
    assert entry["revocation"] == "unknown" and entry["notes"]


def test_tampered_file_is_reported_altered(api):
    body = post_file(api("specialist"), TAMPERED.read_bytes()).get_json()
    assert body["verdict"] == "altered"
    assert body["signatures"][0]["modification_level"] == "other"


PYHANKO_TRUST = corpus.data("signed/pyhanko/trust/root.cert.pem").parent


@pytest.mark.parametrize("app_config", [{"TRUST_ROOTS": [
    PYHANKO_TRUST / "root.cert.pem", PYHANKO_TRUST / "interm.cert.pem"]}])
def test_configured_trust_roots_are_used(api):
    data = corpus.data("signed/pyhanko/sig-no-signed-attrs.pdf").read_bytes()
    body = post_file(api("clerk"), data).get_json()
    assert body["verdict"] == "valid" and body["signatures"][0]["trusted"] is True


@pytest.mark.parametrize("data, name", [
    (b"Day la mot tep van ban, khong phai PDF.\n", "ghi-chu.txt"),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64, "anh.jpg"),
])
def test_not_a_pdf_is_a_4xx_with_json(api, data, name):
    response = post_file(api("clerk"), data, name)
    assert 400 <= response.status_code < 500
    error = response.get_json()["error"]
    assert error["code"] == "upload_rejected" and error["message"] == "Tệp không phải PDF."


def test_real_jpeg_scan_is_refused(api):
    response = post_file(api("clerk"), scan_jpeg(), "nghi-dinh-28-2021-ND-CP-p1.jpg")
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "file"


def test_missing_file_and_broken_pdf(api):
    response = api("clerk").post(URL, data={}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert response.get_json()["error"]["message"] == "Vui lòng chọn tệp."
    response = post_file(api("clerk"), b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog\n")
    assert response.status_code == 400
    assert "không kiểm tra được chữ ký" in response.get_json()["error"]["message"]


@pytest.mark.parametrize("app_config", [{"MAX_UPLOAD_MB": 1}])
def test_too_large(api):
    response = post_file(api("clerk"), b"%PDF-1.7\n" + b"0" * (1024 * 1024 + 10))
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "upload_too_large"


# --- page ------------------------------------------------------------------------------------

def test_page_requires_login(app, world):
    response = app.test_client().get(PAGE)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_page_shows_the_form_and_the_menu_link(browser_login):
    client = browser_login("specialist")
    page = client.get(PAGE)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'name="csrf_token"' in html and 'type="file"' in html
    assert f'href="{PAGE}"' in html and "Kiểm tra chữ ký" in html
    assert 'href="/signatures/validate"' in client.get("/").get_data(as_text=True)


def test_page_renders_the_report(browser_login):
    client = browser_login("leader")
    token = csrf_from(client.get(PAGE).data)
    response = client.post(PAGE, data={"csrf_token": token,
                                       "file": upload(VN_SIGNED.read_bytes(), VN_SIGNED.name)},
                            content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'data-verdict="untrusted"' in html
    assert "CÔNG BÁO NƯỚC CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in html
    assert "Toàn vẹn nhưng chưa xác thực được nguồn gốc chứng thư" in html
    assert "Nội dung đã ký không bị thay đổi" in html
    assert "(giờ Việt Nam)" in html and VN_SIGNED.name in html


def test_page_shows_altered_differently(browser_login):
    client = browser_login("clerk")
    token = csrf_from(client.get(PAGE).data)
    response = client.post(PAGE, data={"csrf_token": token,
                                       "file": upload(TAMPERED.read_bytes(), TAMPERED.name)},
                           content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert 'class="panel sig-card sig-altered"' in html
    assert "Văn bản đã bị sửa đổi sau khi ký" in html
    assert 'data-verdict="untrusted"' not in html


def test_page_reports_upload_errors(browser_login):
    client = browser_login("clerk")
    token = csrf_from(client.get(PAGE).data)
    response = client.post(PAGE, data={"csrf_token": token, "file": upload(b"hello", "a.txt")},
                           content_type="multipart/form-data")
    assert response.status_code == 400
    assert "Tệp không phải PDF." in response.get_data(as_text=True)


def test_page_post_requires_csrf(browser_login):
    client = browser_login("clerk")
    response = client.post(PAGE, data={"file": upload(sample_pdf(["x"]))},
                           content_type="multipart/form-data")
    assert response.status_code == 400
    assert "sig-report" not in response.get_data(as_text=True)


# --- a number changed after issue (issue 12) ---------------------------------------------------

LEGACY = corpus.data("signed/docmgr/issued-certified-p2.pdf")
LEGACY_ROOT = corpus.data("signed/docmgr/test-root-ca.pem")
NUMBER_CHANGE = "Trường SoKyHieu: '02/TB-VP' → '99/TB-VP'"


@pytest.fixture(scope="module")
def renumbered() -> bytes:
    return refill(LEGACY.read_bytes(), {"SoKyHieu": "99/TB-VP"})


@pytest.mark.parametrize("app_config", [{"TRUST_ROOTS": [LEGACY_ROOT]}])
def test_issued_document_and_its_renumbered_copy(api, renumbered):
    client = api("clerk")
    body = post_file(client, LEGACY.read_bytes()).get_json()
    assert body["verdict"] == "valid"
    assert body["signatures"][0]["changed_fields"] == [
        {"field": "NgayBanHanh", "old": None, "new": "Quảng Ngãi, ngày 05 tháng 01 năm 2026",
         "what": "value"},
        {"field": "SoKyHieu", "old": None, "new": "02/TB-VP", "what": "value"}]

    body = post_file(client, renumbered).get_json()
    assert body["verdict"] == "altered"
    assert [s["verdict"] for s in body["signatures"]] == ["altered", "altered"]
    assert {s["verdict_label"] for s in body["signatures"]} == {
        "Văn bản đã bị sửa đổi sau khi ký"}
    organisation = body["signatures"][1]
    assert organisation["unsigned_changes"] is True
    assert organisation["changed_fields"] == [
        {"field": "SoKyHieu", "old": "02/TB-VP", "new": "99/TB-VP", "what": "value"}]
    assert organisation["notes"][0].endswith(NUMBER_CHANGE[0].lower() + NUMBER_CHANGE[1:] + ".")
    assert NUMBER_CHANGE[1:] in body["summary"]


@pytest.mark.parametrize("app_config", [{"TRUST_ROOTS": [LEGACY_ROOT]}])
def test_page_names_the_changed_number(browser_login, renumbered):
    client = browser_login("clerk")
    token = csrf_from(client.get(PAGE).data)
    response = client.post(PAGE, data={"csrf_token": token,
                                       "file": upload(renumbered, "02-TB-VP.pdf")},
                           content_type="multipart/form-data")
    page = unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    assert 'class="panel sig-summary sig-altered" data-verdict="altered"' in page
    assert f'<li class="sig-maybe" data-field="SoKyHieu">{NUMBER_CHANGE}</li>' in page
    assert "Có thay đổi sau chữ ký cuối cùng mà không chữ ký nào xác nhận" in page
