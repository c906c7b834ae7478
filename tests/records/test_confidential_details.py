"""Issue 11: a hồ sơ's dates, as a reader sees them, come only from the documents the
reader may open; how many are hidden may be told, their dates may not."""
import html

from tests.records.conftest import file_into


def _with_a_secret(api, world, dossier, incoming):
    secret = incoming(days_ago=40, secrecy="confidential")
    plain = incoming(days_ago=5)
    r = api("leader").post(f"/api/v1/incoming/{secret['id']}/assignments", json={
        "user_id": world.users["specialist"].id, "role": "main"})
    assert r.status_code == 201
    d = dossier()
    assert file_into(api, "specialist", d["id"], "incoming", secret["id"]).status_code == 201
    assert file_into(api, "specialist", d["id"], "incoming", plain["id"]).status_code == 201
    return d, secret, plain


def test_api_details_and_list_date_only_what_the_reader_sees(api, world, dossier, incoming):
    d, secret, plain = _with_a_secret(api, world, dossier, incoming)
    seen = api("specialist_vx").get(f"/api/v1/records/{d['id']}").json
    assert seen["hidden_documents"] == 1 and seen["doc_total"] == 2
    assert seen["start_date"] == seen["end_date"] == plain["doc_date"]
    assert secret["doc_date"] not in str(seen)
    listed = api("specialist_vx").get("/api/v1/records").json["items"]
    row = next(x for x in listed if x["id"] == d["id"])
    assert row["start_date"] == row["end_date"] == plain["doc_date"]
    # Whoever may open both sees the whole span, as stored.
    for who in ("specialist", "leader"):
        full = api(who).get(f"/api/v1/records/{d['id']}").json
        assert (full["start_date"], full["end_date"]) == (secret["doc_date"], plain["doc_date"])
        row = next(x for x in api(who).get("/api/v1/records").json["items"]
                   if x["id"] == d["id"])
        assert (row["start_date"], row["end_date"]) == (secret["doc_date"], plain["doc_date"])


def _vn(iso: str) -> str:
    year, month, day = iso.split("-")
    return f"{day}/{month}/{year}"


def test_pages_date_only_what_the_reader_sees(api, world, dossier, incoming, browser_login):
    d, secret, plain = _with_a_secret(api, world, dossier, incoming)
    client = browser_login("specialist_vx")
    for url in (f"/records/{d['id']}", "/records/?year="):
        page = html.unescape(client.get(url).get_data(as_text=True))
        assert _vn(plain["doc_date"]) in page
        assert _vn(secret["doc_date"]) not in page, url
    page = html.unescape(browser_login("specialist").get(f"/records/{d['id']}")
                         .get_data(as_text=True))
    assert _vn(secret["doc_date"]) in page


def test_a_unit_secret_in_a_dossier_is_hidden_from_the_unit_members(api, world, dossier,
                                                                      incoming):
    """Assigned to Phòng Kinh tế, filed by its head: the unit's specialist, not named on
    it, sees only that one document is hidden, not its date or title."""
    secret = incoming(days_ago=40, secrecy="confidential", subject="Phương án an ninh kinh tế")
    plain = incoming(days_ago=5)
    r = api("leader").post(f"/api/v1/incoming/{secret['id']}/assignments", json={
        "unit_id": world.units["KT"].id, "role": "main"})
    assert r.status_code == 201
    d = dossier()
    assert file_into(api, "head", d["id"], "incoming", secret["id"]).status_code == 201
    assert file_into(api, "specialist", d["id"], "incoming", secret["id"]).status_code == 404
    assert file_into(api, "specialist", d["id"], "incoming", plain["id"]).status_code == 201
    seen = api("specialist").get(f"/api/v1/records/{d['id']}")
    assert [x["id"] for x in seen.json["documents"]] == [plain["id"]]
    assert seen.json["hidden_documents"] == 1
    assert "an ninh kinh tế" not in seen.get_data(as_text=True)
    assert secret["doc_date"] not in seen.get_data(as_text=True)
    head = api("head").get(f"/api/v1/records/{d['id']}").json
    assert {x["id"] for x in head["documents"]} == {secret["id"], plain["id"]}
