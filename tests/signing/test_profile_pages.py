"""The profile page (own certificate, signature image) and the admin's seal page."""
import io

from PIL import Image

from tests.conftest import csrf_from


def _png(opaque=False) -> bytes:
    picture = Image.new("RGBA", (80, 30), (255, 255, 255, 255 if opaque else 0))
    for x in range(5, 75):
        picture.putpixel((x, 15), (17, 45, 160, 255))
    out = io.BytesIO()
    picture.save(out, format="PNG")
    return out.getvalue()


def _post(client, url, data):
    token = csrf_from(client.get(url).data)
    return client.post(url, data={**data, "csrf_token": token},
                       content_type="multipart/form-data")


def test_profile_shows_generated_then_uploaded_signature(browser_login):
    client = browser_login("leader")
    page = client.get("/signatures/profile")
    assert page.status_code == 200 and "chưa có chứng thư số" in page.data.decode()
    generated = client.get("/signatures/profile/signature.png")
    assert generated.status_code == 200 and generated.data.startswith(b"\x89PNG")
    refused = _post(client, "/signatures/profile", {"image": (io.BytesIO(_png(True)), "a.png")})
    assert refused.status_code == 400 and "nền trong suốt" in refused.data.decode()
    ok = _post(client, "/signatures/profile", {"image": (io.BytesIO(_png()), "a.png")})
    assert ok.status_code == 302
    assert Image.open(io.BytesIO(client.get("/signatures/profile/signature.png").data)).size \
        == (80, 30)


def test_seal_page_is_for_admins(browser_login):
    assert browser_login("leader").get("/signatures/seal").status_code == 403
    admin = browser_login("admin")
    assert "Chưa có hình ảnh con dấu" in admin.get("/signatures/seal").data.decode()
    assert admin.get("/signatures/seal/seal.png").status_code == 400
    bad = _post(admin, "/signatures/seal", {"image": (io.BytesIO(_png()), "s.png"),
                                            "diameter_mm": "90"})
    assert bad.status_code == 400 and "Đường kính" in bad.data.decode()
    ok = _post(admin, "/signatures/seal", {"image": (io.BytesIO(_png()), "s.png"),
                                           "diameter_mm": "38"})
    assert ok.status_code == 302
    assert "38 mm" in admin.get("/signatures/seal").data.decode()
    no_token = admin.post("/signatures/seal", data={"diameter_mm": "38"})
    assert no_token.status_code == 400


def test_the_seal_diameter_is_a_decimal_number(browser_login):
    admin = browser_login("admin")
    for raw in ("nan", "inf", "1e999", "36mm"):
        bad = _post(admin, "/signatures/seal", {"image": (io.BytesIO(_png()), "s.png"),
                                                "diameter_mm": raw})
        assert bad.status_code == 400
        assert f"Đường kính con dấu không phải là số hợp lệ: “{raw}”." in bad.data.decode()
    assert "Chưa có hình ảnh con dấu" in admin.get("/signatures/seal").data.decode()
    ok = _post(admin, "/signatures/seal", {"image": (io.BytesIO(_png()), "s.png"),
                                           "diameter_mm": "36,5"})  # the Vietnamese comma
    assert ok.status_code == 302
    assert "36.5 mm" in admin.get("/signatures/seal").data.decode()
