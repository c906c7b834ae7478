"""Search through the API: what is registered or issued is found, in Vietnamese, and only
by those who may open it."""
import pytest
from sqlalchemy import func, select, update

from docmgr.core import outbox
from docmgr.search.models import FileText
from tests import corpus
from tests.conftest import registration_form, upload

LAW_PDF = corpus.data("pdf/vn/unsigned/thong-tu-12-2022-TT-BLDTBXH.pdf")


def register(api, pdf_bytes, user="clerk", **fields):
    r = api(user).post("/api/v1/incoming", data={**registration_form(**fields),
                                                   "file": upload(pdf_bytes)})
    assert r.status_code == 201, r.json
    return r.json


@pytest.fixture(autouse=True)
def _index(search):
    return search


def found(api, user="clerk", **query):
    r = api(user).get("/api/v1/search", query_string=query)
    assert r.status_code == 200, r.json
    return r.json


def ids(answer):
    return [hit["id"] for hit in answer["hits"]]


def test_registered_document_is_found_with_and_without_diacritics(api, pdf_bytes, drain):
    doc = register(api, pdf_bytes, subject="Quyết định về quản lý đất đai trên địa bàn tỉnh")
    other = register(api, pdf_bytes, notation="9/STC-NS", subject="Báo cáo quyết toán ngân sách")
    assert found(api, q="đất đai")["total"] == 0  # nothing is searchable before indexing
    drain()
    for query in ("quyết định đất đai", "quyet dinh dat dai", "QUYET DINH", "Đất Đai"):
        answer = found(api, q=query)
        assert ids(answer) == [doc["id"]], query
    hit = found(api, q="dat dai")["hits"][0]
    assert hit["kind"] == "incoming" and hit["notation"] == "412/STC-NS"
    assert "<mark>đất</mark> <mark>đai</mark>" in hit["subject_highlighted"]
    assert ids(found(api, q="ngân sách")) == [other["id"]]


def test_exact_diacritics_rank_first(api, pdf_bytes, drain):
    sold = register(api, pdf_bytes, notation="1/A", subject="Hồ sơ bán đấu giá tài sản")
    desk = register(api, pdf_bytes, notation="2/A", subject="Hồ sơ mua bàn ghế")
    drain()
    assert ids(found(api, q="bàn"))[0] == desk["id"]
    assert ids(found(api, q="bán"))[0] == sold["id"]
    assert set(ids(found(api, q="ban"))) == {sold["id"], desk["id"]}


def test_phrases_notations_and_vietnamese_short_words(api, pdf_bytes, drain):
    security = register(api, pdf_bytes, notation="876/BC-VP",
                        subject="Báo cáo tình hình an ninh trật tự tại huyện Long An")
    health = register(api, pdf_bytes, notation="55/2021/QĐ-UBND",
                      subject="Quyết định về y tế cơ sở, xin ý kiến các sở")
    drain()
    assert ids(found(api, q='"an ninh"')) == [security["id"]]
    assert ids(found(api, q='"ninh an"')) == []
    assert ids(found(api, q="Long An")) == [security["id"]]
    assert ids(found(api, q="y tế")) == [health["id"]]
    assert ids(found(api, q="ý kiến")) == [health["id"]]
    assert ids(found(api, q="876/BC-VP")) == [security["id"]]
    assert ids(found(api, q="876/bc-vp")) == [security["id"]]
    assert ids(found(api, q="877/BC-VP")) == []
    assert ids(found(api, q="876/BC-VPUB")) == []
    assert ids(found(api, q="876/BC")) == [security["id"]]  # the start of a notation
    assert ids(found(api, q="55/2021/QD-UBND")) == [health["id"]]
    assert ids(found(api, q="55/2021/Q\u00d0-UBND")) == [health["id"]]  # look-alike Ð
    assert ids(found(api, notation="55/2021/QĐ-UBND")) == [health["id"]]
    # A reply that cites the notation in its subject ranks after the document itself.
    reply = register(api, pdf_bytes, notation="9/UBND", subject="Trả lời Báo cáo số 876/BC-VP")
    drain()
    assert ids(found(api, q="876/BC-VP")) == [security["id"], reply["id"]]


def test_text_of_the_pdf_is_searchable_and_highlighted(api, drain, db, search):
    doc = register(api, LAW_PDF.read_bytes(), subject="Thông tư của Bộ Lao động")
    drain()
    answer = found(api, q="người lao động")
    assert ids(answer) == [doc["id"]]
    assert any("<mark>" in snippet for snippet in answer["hits"][0]["highlights"])
    with db.transaction(readonly=True) as s:
        kept = s.scalar(select(FileText))
        assert kept.pages > 1 and not kept.missing_pages
        assert "lao động" in kept.text.lower()


def test_confidential_documents_are_never_counted_for_others(api, pdf_bytes, drain, world):
    register(api, pdf_bytes, notation="1/M", subject="Kế hoạch phòng cháy chữa cháy")
    secret = register(api, pdf_bytes, notation="2/M", secrecy="confidential",
                      subject="Kế hoạch bảo vệ bí mật nhà nước")
    drain()
    assert found(api, "specialist", q="kế hoạch")["total"] == 1
    hidden = found(api, "specialist", q="bí mật")
    assert hidden["total"] == 0 and hidden["hits"] == []
    assert all(entry["count"] == 1 for facet in found(api, "specialist", q="ke hoach")["facets"]
               .values() for entry in facet)
    assert found(api, "leader", q="bi mat")["total"] == 1
    assert found(api, "clerk", q="bi mat")["total"] == 1  # the clerk who registered it
    assert found(api, "clerk2", q="bi mat")["total"] == 0
    # Assigned to the specialist's unit: its head may open it, its other members may not.
    r = api("leader").post(f"/api/v1/incoming/{secret['id']}/assignments",
                           json={"unit_id": world.units["KT"].id, "role": "main"})
    assert r.status_code in (200, 201), r.json
    drain()
    assert ids(found(api, "head", q="bi mat")) == [secret["id"]]
    assert found(api, "specialist", q="bi mat")["total"] == 0
    assert found(api, "specialist", q="ke hoach")["total"] == 1
    assert found(api, "specialist_vx", q="bi mat")["total"] == 0
    assert found(api, "head_vx", q="bi mat")["total"] == 0
    # The head passes it on to the specialist, who is then named on it.
    r = api("head").post(f"/api/v1/incoming/{secret['id']}/assignments",
                         json={"user_id": world.users["specialist"].id, "role": "main"})
    assert r.status_code == 201, r.json
    drain()
    assert ids(found(api, "specialist", q="bi mat")) == [secret["id"]]
    assert found(api, "other_leader", q="ke hoach")["total"] == 0  # another organisation


def _facet_counts(answer) -> dict:
    return {name: {entry["value"]: entry["count"] for entry in entries}
            for name, entries in answer["facets"].items()}


def test_revoked_access_leaves_totals_and_facets_before_the_indexer_runs(api, pdf_bytes,
                                                                          drain, world, db):
    register(api, pdf_bytes, notation="1/KH-X", doc_type="KH",
             subject="Kế hoạch kiểm tra công vụ")
    secret = register(api, pdf_bytes, notation="2/CV-M", doc_type="CV", secrecy="secret",
                      sender="Công an tỉnh Quảng Ngãi", subject="Kế hoạch bảo vệ mục tiêu")
    url = f"/api/v1/incoming/{secret['id']}/assignments"
    r = api("leader").post(url, json={"user_id": world.users["specialist"].id, "role": "main"})
    assert r.status_code == 201, r.json
    drain()
    before = found(api, "specialist", q="ke hoach")
    assert before["total"] == 2 and secret["id"] in ids(before)
    assert _facet_counts(before)["doc_type"] == {"KH": 1, "CV": 1}
    # The leader hands the main handling to another specialist: the first one loses it.
    r = api("leader").post(url, json={"user_id": world.users["specialist_vx"].id,
                                      "role": "main"})
    assert r.status_code == 201, r.json
    with db.transaction(readonly=True) as s:  # the indexer has not run
        assert f"in:{secret['id']}" in s.scalars(select(outbox.OutboxItem.key)).all()
    after = found(api, "specialist", q="ke hoach")
    assert after["total"] == 1 and ids(after) == [after["hits"][0]["id"]] != [secret["id"]]
    facets = _facet_counts(after)
    assert facets["doc_type"] == {"KH": 1} and facets["kind"] == {"incoming": 1}
    assert "Công an tỉnh Quảng Ngãi" not in facets["sender"]
    assert found(api, "specialist", q="bao ve muc tieu")["total"] == 0
    # Who keeps access is still counted meanwhile; the newly named one once it is indexed.
    assert found(api, "leader", q="bao ve muc tieu")["total"] == 1
    assert found(api, "clerk", q="bao ve muc tieu")["total"] == 1
    drain()
    assert found(api, "specialist", q="ke hoach")["total"] == 1
    assert ids(found(api, "specialist_vx", q="bao ve muc tieu")) == [secret["id"]]


def test_an_index_row_that_keeps_failing_still_hides_the_document(api, pdf_bytes, drain,
                                                                    world, db):
    secret = register(api, pdf_bytes, notation="3/CV-M", secrecy="confidential",
                      subject="Phương án bảo vệ bí mật")
    url = f"/api/v1/incoming/{secret['id']}/assignments"
    api("leader").post(url, json={"user_id": world.users["specialist"].id, "role": "main"})
    drain()
    assert found(api, "specialist", q="phuong an")["total"] == 1
    api("leader").post(url, json={"user_id": world.users["specialist_vx"].id, "role": "main"})
    with db.transaction() as s:  # the indexer gave up on the change (five failed tries)
        s.execute(update(outbox.OutboxItem).values(attempts=5, last_error="hỏng"))
    drain()
    assert found(api, "specialist", q="phuong an")["total"] == 0
    assert found(api, "leader", q="phuong an")["total"] == 1


def test_filters_facets_sort_and_pages(api, pdf_bytes, drain):
    made = [register(api, pdf_bytes, notation=f"{n}/TB-X", doc_type=kind, doc_date=day,
                     subject=f"Thông báo lịch công tác số {n}")
            for n, kind, day in ((1, "TB", "2024-03-01"), (2, "TB", "2025-06-01"),
                                 (3, "KH", "2025-07-01"))]
    drain()
    everything = found(api, q="lich cong tac")
    assert everything["total"] == 3
    facets = {f["value"]: f["count"] for f in everything["facets"]["doc_type"]}
    assert facets == {"TB": 2, "KH": 1}
    assert found(api, q="lich cong tac", doc_type="KH")["total"] == 1
    assert found(api, q="lich cong tac", kind="outgoing")["total"] == 0
    ranged = found(api, q="lich cong tac", **{"from": "2025-01-01", "to": "2025-06-30"})
    assert ids(ranged) == [made[1]["id"]]
    newest = found(api, q="lich cong tac", sort="date")
    assert ids(newest) == [made[2]["id"], made[1]["id"], made[0]["id"]]
    second = found(api, q="lich cong tac", sort="date", per_page=2, page=2)
    assert second["total"] == 3 and ids(second) == [made[0]["id"]]


def test_bad_queries_get_clear_errors(api):
    for query, field in (({"from": "hôm qua"}, "from"), ({"kind": "x"}, "kind"),
                         ({"per_page": "1000"}, "per_page"), ({"doc_type": "XYZ"}, "doc_type"),
                         ({"from": "2025-02-01", "to": "2025-01-01"}, "from")):
        r = api("clerk").get("/api/v1/search", query_string={"q": "a", **query})
        assert r.status_code == 400 and r.json["error"]["field"] == field
    assert api("clerk").client.get("/api/v1/search?q=a").status_code == 401


def test_changes_are_queued_in_the_same_transaction(api, pdf_bytes, db):
    doc = register(api, pdf_bytes)
    with db.transaction(readonly=True) as s:
        keys = s.scalars(select(outbox.OutboxItem.key).where(
            outbox.OutboxItem.topic == outbox.INDEX)).all()
    assert f"in:{doc['id']}" in keys
    # A refused registration (duplicate) queues nothing.
    r = api("clerk").post("/api/v1/incoming", data={**registration_form(), "file": upload(
        pdf_bytes)})
    assert r.status_code == 409
    with db.transaction(readonly=True) as s:
        assert s.scalar(select(func.count()).select_from(outbox.OutboxItem)) == len(keys)


def test_hostile_queries_are_answered_not_crashed(api, pdf_bytes, drain):
    doc = register(api, pdf_bytes, subject="Kế hoạch (dự thảo) 100% kinh phí")
    drain()
    for query in ('"ke hoach', '***', '((', '100%', 'a\x00b', '\\', '[ke', '"" ""', 'ke* OR 1=1',
                  "' ; DROP TABLE incoming_documents; --", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "/", "-", "a/"):
        r = api("clerk").get("/api/v1/search", query_string={"q": query})
        assert r.status_code == 200, (query, r.json)
    assert ids(found(api, q='"ke hoach')) == [doc["id"]]  # an unclosed quote is a phrase
    too_long = api("clerk").get("/api/v1/search", query_string={"q": "a" * 501})
    assert too_long.status_code == 400 and too_long.json["error"]["field"] == "q"
    assert found(api, q="ke hoach")["total"] == 1  # nothing above changed the archive
