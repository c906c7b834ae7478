"""Behaviour every search backend must share (Whoosh and Tantivy), tested through the
:class:`docmgr.search.backend.Backend` interface only. Documents are prepared from raw
Vietnamese strings with :mod:`docmgr.search.analysis`, queries with ``analysis.parse``,
as the real indexer and search page do."""
import gzip
import json
from datetime import date

import pytest

from docmgr.search import analysis
from docmgr.search.backend import (
    FACETS,
    IndexedDoc,
    IndexUnavailable,
    SearchRequest,
)
from docmgr.search.engines import open_backend
from tests import corpus as test_files

BACKENDS = ("whoosh", "tantivy")
DAY = date(2024, 3, 15)


def make_doc(key: str, subject: str, body: str = "", *, notation: str = "",
             notation_in_text: bool = True, sender: str = "Sở Nội vụ", signer: str = "",
             kind: str = "incoming", org_id: int = 1, principals=("org:1",),
             doc_type: str = "Công văn", doc_date: date | None = DAY, secrecy: str = "thuong",
             unit: str = "") -> IndexedDoc:
    """An IndexedDoc prepared from raw text the way the indexer prepares it."""
    text = " ".join(part for part in (notation if notation_in_text else "", sender, subject,
                                      signer, body) if part)
    return IndexedDoc(
        key=key, kind=kind, org_id=org_id, principals=list(principals), doc_type=doc_type,
        year=doc_date.year if doc_date else 0, doc_date=doc_date,
        notation_key=analysis.notation_key(notation) if notation else "", sender=sender,
        secrecy=secrecy, unit=unit, subject_f=analysis.fold(subject),
        subject_x=analysis.normalise(subject), text_f=analysis.fold(text),
        text_x=analysis.normalise(text), signer_f=analysis.fold(signer))


def request(query: str = "", *, field: str = "text", org_id: int = 1,
            principals=("org:1",), **options) -> SearchRequest:
    return SearchRequest(clauses=analysis.parse(query, field).clauses, org_id=org_id,
                         principals=tuple(principals), **options)


def keys(result) -> list[str]:
    return [key for key, _ in result.hits]


def find(backend, query: str = "", **options) -> list[str]:
    options.setdefault("limit", 100)
    return keys(backend.search(request(query, **options)))


@pytest.fixture(params=BACKENDS)
def engine(request):
    return request.param


@pytest.fixture
def backend(engine, tmp_path):
    index = open_backend(engine, tmp_path / engine, create=True)
    yield index
    index.close()


# --- Vietnamese words -------------------------------------------------------------------

def test_query_without_diacritics_finds_accented_text(backend):
    backend.write([make_doc("in:1", "Quyết định về việc phê duyệt kế hoạch tuyển dụng"),
                   make_doc("in:2", "Báo cáo tình hình thực hiện nhiệm vụ")], [])
    assert find(backend, "quyet dinh") == ["in:1"]
    assert find(backend, "QUYẾT ĐỊNH") == ["in:1"]
    assert find(backend, "phe duyet ke hoach") == ["in:1"]


@pytest.mark.parametrize("query,first", [("bàn", "in:1"), ("bán", "in:2"), ("ban", None)])
def test_exact_diacritics_rank_first(backend, query, first):
    backend.write([make_doc("in:1", "Về việc bàn giao hồ sơ lưu trữ"),
                   make_doc("in:2", "Về việc bán thanh lý hồ sơ lưu trữ"),
                   make_doc("in:3", "Về việc ban giao hồ sơ lưu trữ"),
                   make_doc("in:4", "Về việc tiếp nhận hồ sơ lưu trữ")], [])
    found = find(backend, query)
    assert sorted(found) == ["in:1", "in:2", "in:3"]  # folding decides the match
    if first:  # the exact spelling decides the order
        assert found[0] == first
    else:
        assert found[0] == "in:3"


def test_phrase_matches_words_in_order_only(backend):
    backend.write([make_doc("in:1", "Kế hoạch phòng chống thiên tai năm 2024"),
                   make_doc("in:2", "Phòng chống tham nhũng theo kế hoạch thiên tai"),
                   make_doc("in:3", "Kế hoạch phòng cháy chống thiên tai")], [])
    assert find(backend, '"ke hoach phong chong"') == ["in:1"]
    assert find(backend, '"phòng chống thiên tai"') == ["in:1"]
    assert sorted(find(backend, "ke hoach phong chong")) == ["in:1", "in:2", "in:3"]
    assert find(backend, '"chong phong"') == []


def test_notation_is_matched_exactly(backend):
    backend.write([
        make_doc("in:1", "Báo cáo công tác văn thư", notation="876/BC-VP"),
        make_doc("in:2", "Báo cáo công tác lưu trữ", notation="876/BC-VPUB"),
        make_doc("in:3", "Báo cáo công tác thi đua", notation="877/BC-VP"),
        make_doc("in:4", "Quyết định ban hành quy chế", notation="55/2021/QĐ-UBND"),
        make_doc("in:5", "Quyết định sửa đổi quy chế", notation="56/2021/QĐ-UBND"),
    ], [])
    assert find(backend, "876/BC-VP") == ["in:1"]
    assert find(backend, "876/bc-vp") == ["in:1"]
    assert find(backend, "876/BC-VPUB") == ["in:2"]
    assert find(backend, "55/2021/QD-UBND") == ["in:4"]
    assert find(backend, "55/2021/QĐ-UBND") == ["in:4"]
    assert find(backend, "55/2021/Q\u00d0-UBND") == ["in:4"]  # look-alike Ð (U+00D0)
    assert find(backend, "55/2021/QĐ-UBND quy chế") == ["in:4"]


def test_notation_field_matches_without_the_text(backend):
    # in:1 is matched through notation_key alone (the OR's first branch), in:2 through the
    # same tokens as a phrase in its text (the second branch).
    backend.write([
        make_doc("in:1", "Thông báo kết luận giao ban", notation="12/TB-UBND",
                 notation_in_text=False),
        make_doc("in:2", "Thực hiện thông báo 12/TB-UBND về giao ban"),
        make_doc("in:3", "Thông báo lịch công tác", notation="13/TB-UBND"),
    ], [])
    assert sorted(find(backend, "12/TB-UBND")) == ["in:1", "in:2"]
    assert find(backend, "13/TB-UBND") == ["in:3"]
    assert find(backend, "12/TB-UBND", field="subject") == ["in:2"]  # no notation_key there


def test_one_letter_syllables(backend):
    backend.write([make_doc("in:1", "Xin ý kiến góp ý dự thảo quy chế"),
                   make_doc("in:2", "Công văn của Sở Y tế về phòng dịch"),
                   make_doc("in:3", "Kế hoạch tuyển sinh lớp mười")], [])
    assert find(backend, "ý kiến") == ["in:1"]
    assert find(backend, "y kien") == ["in:1"]
    assert find(backend, "y tế") == ["in:2"]
    assert find(backend, '"y te"') == ["in:2"]
    assert find(backend, "ý") == ["in:1", "in:2"]  # exact "ý" ranks above folded "y"


@pytest.mark.parametrize("query,expected", [
    ("an ninh", ["in:1"]), ("Long An", ["in:2"]), ("an", ["in:1", "in:2"]),
    ("to", ["in:3"]), ("tờ trình", ["in:3"]), ("can", ["in:4"]), ("cần", ["in:4"]),
    ("in", ["in:5"]), ("may", ["in:5"]),
])
def test_english_stop_words_are_vietnamese_words(backend, query, expected):
    backend.write([make_doc("in:1", "Bảo đảm an ninh trật tự dịp lễ"),
                   make_doc("in:2", "Báo cáo của tỉnh Long An"),
                   make_doc("in:3", "Tờ trình đề nghị phê duyệt"),
                   make_doc("in:4", "Những việc cần làm ngay"),
                   make_doc("in:5", "Mua máy in cho văn phòng"),
                   make_doc("in:6", "Kế hoạch tuyển sinh lớp mười")], [])
    assert sorted(find(backend, query)) == expected


def test_every_word_must_match(backend):
    backend.write([make_doc("in:1", "Quyết định tuyển dụng viên chức"),
                   make_doc("in:2", "Quyết định khen thưởng"),
                   make_doc("in:3", "Kế hoạch tuyển dụng")], [])
    assert find(backend, "quyet dinh tuyen dung") == ["in:1"]
    assert sorted(find(backend, "tuyen dung")) == ["in:1", "in:3"]
    assert find(backend, "quyet dinh ky luat") == []


def test_subject_and_signer_fields(backend):
    backend.write([make_doc("in:1", "Kế hoạch đào tạo", "nội dung về tài chính",
                            signer="Nguyễn Văn An"),
                   make_doc("in:2", "Báo cáo tài chính", "nội dung về đào tạo",
                            signer="Trần Thị Bình")], [])
    assert find(backend, "dao tao", field="subject") == ["in:1"]
    assert find(backend, "tài chính", field="subject") == ["in:2"]
    assert find(backend, "nguyen van an", field="signer") == ["in:1"]
    assert find(backend, '"thi binh"', field="signer") == ["in:2"]
    assert find(backend, "dao tao", field="signer") == []


def test_empty_query_matches_everything_the_filters_allow(backend):
    backend.write([make_doc("in:1", "Một", doc_date=date(2024, 1, 2)),
                   make_doc("in:2", "Hai", doc_date=date(2024, 5, 6)),
                   make_doc("in:3", "Ba", principals=["user:5"])], [])
    result = backend.search(request(""))
    assert result.total == 2
    assert keys(result) == ["in:2", "in:1"]  # newest first when nothing ranks


# --- access control and filters ---------------------------------------------------------

def test_acl_hidden_documents_are_never_seen_nor_counted(backend):
    backend.write([
        make_doc("in:1", "Quyết định tuyển dụng", sender="Sở Nội vụ"),
        make_doc("in:2", "Quyết định mật tuyển dụng", sender="Bộ Công an", doc_type="Mật lệnh",
                 principals=["user:5"], doc_date=date(2019, 1, 1), kind="outgoing"),
    ], [])
    result = backend.search(request("quyet dinh"))
    assert keys(result) == ["in:1"] and result.total == 1
    assert result.facets["sender"] == [("Sở Nội vụ", 1)]
    assert result.facets["doc_type"] == [("Công văn", 1)]
    assert result.facets["year"] == [("2024", 1)]
    assert result.facets["kind"] == [("incoming", 1)]
    everything = backend.search(request(""))
    assert keys(everything) == ["in:1"] and everything.total == 1
    assert sorted(find(backend, "quyet dinh", principals=("org:1", "user:5"))) == [
        "in:1", "in:2"]
    assert find(backend, "quyet dinh", principals=("user:5",)) == ["in:2"]
    nothing = backend.search(request("quyet dinh", principals=()))
    assert nothing.total == 0 and nothing.hits == []
    assert all(not nothing.facets.get(name) for name in FACETS)


def test_excluded_keys_are_never_seen_nor_counted(backend):
    """What the database denies while the index catches up (search.pending)."""
    backend.write([make_doc(f"in:{n}", f"Kế hoạch số {n}", sender=sender, doc_type=kind)
                   for n, sender, kind in ((1, "Sở Nội vụ", "KH"), (2, "Bộ Công an", "CV"),
                                           (3, "Sở Nội vụ", "KH"))], [])
    for sort in ("relevance", "date"):
        result = backend.search(request("ke hoach", exclude_keys=("in:2", "out:9"), sort=sort,
                                        limit=1))
        assert result.total == 2 and keys(result) == ["in:3"]
        assert result.facets["sender"] == [("Sở Nội vụ", 2)]
        assert result.facets["doc_type"] == [("KH", 2)]
    second = backend.search(request("", exclude_keys=("in:2",), offset=1, limit=1))
    assert second.total == 2 and keys(second) == ["in:1"]
    assert backend.search(request("ke hoach", exclude_keys=("in:1", "in:2", "in:3"))
                          ).total == 0


def test_organisations_are_isolated(backend):
    backend.write([make_doc("in:1", "Quyết định số một", org_id=1),
                   make_doc("in:2", "Quyết định số hai", org_id=2, principals=["org:1"])], [])
    assert find(backend, "quyet dinh") == ["in:1"]
    assert find(backend, "quyet dinh", org_id=2) == ["in:2"]
    assert find(backend, "", org_id=3) == []


@pytest.fixture
def filtered(backend):
    backend.write([
        make_doc("in:1", "Thông báo một", kind="incoming", doc_type="Công văn",
                 sender="Sở Nội vụ", doc_date=date(2023, 12, 31)),
        make_doc("out:1", "Thông báo hai", kind="outgoing", doc_type="Quyết định",
                 sender="UBND huyện", doc_date=date(2024, 1, 1)),
        make_doc("in:2", "Thông báo ba", kind="incoming", doc_type="Quyết định",
                 sender="Sở Nội vụ", doc_date=date(2024, 6, 30)),
        make_doc("in:3", "Thông báo bốn", kind="incoming", doc_type="Công văn",
                 sender="Sở Tài chính", doc_date=None),
    ], [])
    return backend


@pytest.mark.parametrize("options,expected", [
    ({"kind": "outgoing"}, ["out:1"]),
    ({"kind": "incoming"}, ["in:1", "in:2", "in:3"]),
    ({"doc_type": "Quyết định"}, ["in:2", "out:1"]),
    ({"year": 2024}, ["in:2", "out:1"]),
    ({"year": 2023}, ["in:1"]),
    ({"sender": "Sở Nội vụ"}, ["in:1", "in:2"]),
    ({"sender": "Sở Nội"}, []),
    ({"date_from": date(2024, 1, 1)}, ["in:2", "out:1"]),
    ({"date_to": date(2024, 1, 1)}, ["in:1", "out:1"]),
    ({"date_from": date(2024, 1, 1), "date_to": date(2024, 1, 1)}, ["out:1"]),
    ({"date_from": date(2023, 12, 31), "date_to": date(2024, 6, 30)},
     ["in:1", "in:2", "out:1"]),
    ({"kind": "incoming", "doc_type": "Công văn", "year": 2023}, ["in:1"]),
])
def test_filters(filtered, options, expected):
    result = filtered.search(request("thong bao", **options))
    assert sorted(keys(result)) == expected
    assert result.total == len(expected)
    without_words = filtered.search(request("", **options))
    assert sorted(keys(without_words)) == expected


def test_sort_by_date_newest_first_then_highest_number(backend):
    backend.write([
        make_doc("in:1", "Thông báo", doc_date=date(2024, 1, 5)),
        make_doc("in:2", "Thông báo", doc_date=None),
        make_doc("in:3", "Thông báo", doc_date=date(2024, 7, 1)),
        make_doc("out:1", "Thông báo", kind="outgoing", doc_date=date(2024, 1, 5)),
        make_doc("in:10", "Thông báo", doc_date=date(2024, 1, 5)),
        make_doc("in:4", "Thông báo thông báo thông báo", doc_date=date(2020, 1, 1)),
    ], [])
    # One date: the highest number first (10 is not "1" + "0"), then outgoing first.
    assert find(backend, "thong bao", sort="date") == [
        "in:3", "in:10", "out:1", "in:1", "in:4", "in:2"]
    assert find(backend, "thong bao")[0] == "in:4"  # relevance: most occurrences


def test_paging_with_exact_total(backend):
    docs = [make_doc(f"in:{n}", f"Thông báo số {n}", doc_date=date(2024, 1, 1 + n % 28))
            for n in range(1, 26)]
    docs.append(make_doc("in:99", "Báo cáo"))
    backend.write(docs, [])
    pages = [backend.search(request("thong bao", sort=sort, offset=offset, limit=10))
             for sort in ("date", "relevance") for offset in (0, 10, 20)]
    assert [p.total for p in pages] == [25] * 6
    assert [len(p.hits) for p in pages] == [10, 10, 5] * 2
    for sort_pages in (pages[:3], pages[3:]):
        seen = [key for page in sort_pages for key in keys(page)]
        assert sorted(seen) == sorted(f"in:{n}" for n in range(1, 26))
    by_date = keys(backend.search(request("thong bao", sort="date", limit=25)))
    assert [key for page in pages[:3] for key in keys(page)] == by_date
    beyond = backend.search(request("thong bao", offset=30, limit=10))
    assert beyond.total == 25 and beyond.hits == []


def test_facet_counts(backend):
    docs = []
    for n, (sender, doc_type, year) in enumerate(
            [("Sở Nội vụ", "Công văn", 2024)] * 3 + [("Bộ Y tế", "Quyết định", 2023)] * 2
            + [("Sở Tài chính", "Công văn", 2023), ("Sở Tư pháp", "Công văn", 2022)]):
        docs.append(make_doc(f"in:{n}", "Thông báo", sender=sender, doc_type=doc_type,
                             doc_date=date(year, 5, 1)))
    docs.append(make_doc("out:1", "Thông báo", kind="outgoing", sender="UBND huyện",
                         doc_type="Tờ trình", doc_date=date(2022, 1, 1)))
    docs.append(make_doc("out:2", "Báo cáo", kind="outgoing", sender="UBND huyện",
                         doc_type="Báo cáo"))  # does not match the words
    backend.write(docs, [])
    result = backend.search(request("thong bao", limit=1))
    assert result.total == 8
    assert result.facets["sender"] == [("Sở Nội vụ", 3), ("Bộ Y tế", 2), ("Sở Tài chính", 1),
                                       ("Sở Tư pháp", 1), ("UBND huyện", 1)]
    assert result.facets["doc_type"] == [("Công văn", 5), ("Quyết định", 2), ("Tờ trình", 1)]
    assert result.facets["year"] == [("2023", 3), ("2024", 3), ("2022", 2)]
    assert result.facets["kind"] == [("incoming", 7), ("outgoing", 1)]
    filtered = backend.search(request("thong bao", year=2023))
    assert filtered.facets["sender"] == [("Bộ Y tế", 2), ("Sở Tài chính", 1)]
    assert backend.search(request("thong bao", facets=False)).facets == {}


def test_facets_keep_the_twenty_largest(backend):
    docs = [make_doc(f"in:{n}", "Thông báo", sender=f"Đơn vị {n:02d}") for n in range(25)]
    docs += [make_doc(f"in:{100 + n}", "Thông báo", sender="Đơn vị 24") for n in range(3)]
    backend.write(docs, [])
    senders = backend.search(request("thong bao")).facets["sender"]
    assert len(senders) == 20
    assert senders[0] == ("Đơn vị 24", 4)
    assert senders[1:] == [(f"Đơn vị {n:02d}", 1) for n in range(19)]


# --- writing, reopening, damage --------------------------------------------------------------

def test_update_by_key_replaces(backend):
    backend.write([make_doc("in:1", "Dự thảo kế hoạch"), make_doc("in:2", "Báo cáo")], [])
    backend.write([make_doc("in:1", "Kế hoạch chính thức", doc_type="Kế hoạch")], [])
    assert backend.count() == 2
    assert find(backend, "du thao") == []
    assert find(backend, "chinh thuc") == ["in:1"]
    result = backend.search(request("ke hoach"))
    assert keys(result) == ["in:1"] and result.total == 1
    assert result.facets["doc_type"] == [("Kế hoạch", 1)]
    # the same key twice in one batch: the last one wins
    backend.write([make_doc("in:2", "Bản một"), make_doc("in:2", "Bản hai")], [])
    assert backend.count() == 2
    assert find(backend, "ban") == ["in:2"] and find(backend, "mot") == []


def test_delete(backend):
    backend.write([make_doc(f"in:{n}", "Thông báo") for n in range(1, 4)], [])
    assert backend.count() == 3
    backend.write([], ["in:2", "in:404"])
    assert backend.count() == 2
    assert sorted(find(backend, "thong bao")) == ["in:1", "in:3"]
    backend.write([make_doc("in:4", "Thông báo")], ["in:1"])  # one batch: add and delete
    assert sorted(find(backend, "thong bao")) == ["in:3", "in:4"]
    assert backend.count() == 2


def test_count(backend):
    assert backend.count() == 0
    backend.write([make_doc(f"in:{n}", "Thông báo") for n in range(7)], [])
    assert backend.count() == 7
    backend.write([make_doc("in:0", "Thông báo mới")], [])
    assert backend.count() == 7


def _answers(index):
    answers = []
    for query, options in (("quyet dinh", {}), ("876/BC-VP", {}), ("", {"sort": "date"}),
                           ("thong bao", {"year": 2023})):
        result = index.search(request(query, **options))
        answers.append((result.total, keys(result), result.facets))
    return answers


def test_reopen_from_disk_gives_the_same_answers(engine, tmp_path):
    path = tmp_path / engine
    index = open_backend(engine, path, create=True)
    index.write([make_doc("in:1", "Quyết định tuyển dụng", notation="876/BC-VP"),
                 make_doc("in:2", "Thông báo quyết định", doc_date=date(2023, 2, 1)),
                 make_doc("out:1", "Thông báo", kind="outgoing", doc_date=date(2023, 3, 1))],
                [])
    index.write([], ["in:1"])
    before = _answers(index)
    count = index.count()
    index.close()
    again = open_backend(engine, path)  # create=False
    try:
        assert again.count() == count == 2
        assert _answers(again) == before
        again.write([make_doc("in:3", "Quyết định mới")], [])
        assert sorted(find(again, "quyet dinh")) == ["in:2", "in:3"]
    finally:
        again.close()


def test_a_second_instance_sees_commits_at_once(engine, tmp_path):
    # The worker writes, the web processes read the same directory.
    writer = open_backend(engine, tmp_path / engine, create=True)
    writer.write([make_doc("in:1", "Quyết định")], [])
    reader = open_backend(engine, tmp_path / engine)
    try:
        assert find(reader, "quyet dinh") == ["in:1"]
        writer.write([make_doc("in:2", "Quyết định mới")], ["in:1"])
        assert find(reader, "quyet dinh") == ["in:2"]
        assert reader.count() == 1
    finally:
        reader.close()
        writer.close()


def test_missing_index_is_unavailable(engine, tmp_path):
    with pytest.raises(IndexUnavailable):
        open_backend(engine, tmp_path / "nothing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(IndexUnavailable):
        open_backend(engine, tmp_path / "empty")


@pytest.mark.parametrize("damage", ["garbage", "truncate"])
def test_corrupt_index_is_unavailable(engine, tmp_path, damage):
    path = tmp_path / engine
    index = open_backend(engine, path, create=True)
    index.write([make_doc(f"in:{n}", "Quyết định tuyển dụng") for n in range(20)], [])
    index.close()
    files = [f for f in path.rglob("*") if f.is_file() and not f.name.endswith(".lock")]
    assert files
    for f in files:
        size = f.stat().st_size
        f.write_bytes(b"\x00garbage\xff" * max(size // 9, 1) if damage == "garbage" else b"")
    with pytest.raises(IndexUnavailable):
        index = open_backend(engine, path)
        # Some engines open lazily: a damaged index must fail by the first search at least.
        index.search(request("quyet dinh"))


# --- relevance on real texts -----------------------------------------------------------------

# Corpus tests (the relevance figures need the 300 real texts, not a committed sample).
CORPUS_FILE = "vn-text/congbao-legal-fulltext.jsonl.gz"
CORPUS_SIZE = 300
TEXT_CHARS = 6000  # the head of each text (title, preamble, first articles) keeps it quick
# The laws among the first 300 records. "bao hiem xa hoi" is the subject of two of them
# (41/2024, 58/2014), "lao dong" and "doanh nghiep" occur in hundreds of texts.
LAWS = ["41/2024/QH15", "51/2024/QH15", "58/2014/QH13", "04/2017/QH14", "59/2020/QH14",
        "94/2025/QH15", "91/2015/QH13", "69/2020/QH14", "45/2019/QH14"]
# Its consolidated text (125/VBHN-VPQH) carries "45/2019/QH14" in its subject.
CITED_IN_A_SUBJECT = "45/2019/QH14"


def _corpus_docs() -> list[IndexedDoc]:
    docs = []
    with gzip.open(test_files.path(CORPUS_FILE), "rt", encoding="utf-8") as lines:
        for n, line in enumerate(lines):
            if n >= CORPUS_SIZE:
                break
            row = json.loads(line)
            day = date.fromisoformat(row["date"]) if row.get("date") else None
            docs.append(make_doc(
                f"in:{n}", row.get("subject") or "", (row.get("text") or "")[:TEXT_CHARS],
                notation=row.get("number") or "", sender=row.get("issuer") or "",
                doc_type=row.get("type") or "", doc_date=day))
    return docs


@pytest.fixture(scope="module", params=BACKENDS)
def corpus(request, tmp_path_factory):
    index = open_backend(request.param, tmp_path_factory.mktemp(request.param) / "index",
                         create=True)
    docs = _corpus_docs()
    index.write(docs, [])
    yield index, {doc.notation_key: doc for doc in docs if doc.notation_key}
    index.close()


@pytest.mark.corpus
def test_corpus_is_indexed(corpus):
    index, _ = corpus
    assert index.count() == CORPUS_SIZE
    result = index.search(request("", limit=1))
    assert result.total == CORPUS_SIZE
    assert dict(result.facets["doc_type"])["Luật"] >= len(LAWS)


@pytest.mark.corpus
@pytest.mark.parametrize("number", LAWS)
def test_corpus_law_found_by_its_subject_without_diacritics(corpus, number):
    index, by_notation = corpus
    doc = by_notation[analysis.notation_key(number)]
    query = doc.subject_f  # folded: what a clerk types without a Vietnamese keyboard
    assert query.isascii()
    assert doc.key in find(index, query, limit=3), query


@pytest.mark.corpus
@pytest.mark.parametrize("number", [n for n in LAWS if n != CITED_IN_A_SUBJECT])
def test_corpus_law_found_first_by_its_number(corpus, number):
    index, by_notation = corpus
    doc = by_notation[analysis.notation_key(number)]
    assert find(index, number)[0] == doc.key
    assert find(index, number.lower())[0] == doc.key


@pytest.mark.corpus
def test_corpus_number_beats_a_subject_citing_it(corpus):
    index, by_notation = corpus
    doc = by_notation[analysis.notation_key(CITED_IN_A_SUBJECT)]
    found = find(index, CITED_IN_A_SUBJECT, limit=3)
    assert doc.key in found[:2]
    assert found[0] == doc.key


@pytest.mark.corpus
def test_corpus_phrase_and_filters(corpus):
    index, _ = corpus
    everything = index.search(request('"bao hiem xa hoi"', limit=5))
    assert everything.total > 0
    laws = index.search(request('"bao hiem xa hoi"', doc_type="Luật", limit=50))
    assert 0 < laws.total < everything.total
    assert {"Luật"} == {name for name, _ in laws.facets["doc_type"]}


@pytest.mark.corpus
def test_ranking_and_total_do_not_depend_on_facets(corpus):
    index, _ = corpus
    for query in ("lao dong", "nguoi lao dong viet nam di lam viec o nuoc ngoai", '"bao hiem"'):
        with_facets = index.search(request(query, limit=5))
        without = index.search(request(query, limit=5, facets=False))
        assert without.hits == with_facets.hits, query
        assert without.total == with_facets.total, query
