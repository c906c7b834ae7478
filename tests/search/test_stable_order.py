"""Documents that rank alike come in one fixed order on every backend: equal scores (and,
sorting by date, equal dates) go newest date first, then highest number, then outgoing
before incoming — never in whatever order the engine happened to store them. So pages
never repeat or skip a hit, and a rebuilt index answers exactly as the one it replaces."""
import random
from datetime import date

import pytest

from docmgr.core import outbox
from docmgr.search import engines
from tests.conftest import registration_form, upload
from tests.search.test_backends import keys, make_doc, request

DAY = date(2024, 3, 15)
OLDER = date(2023, 11, 2)
CIRCULAR = "Thông báo lịch tiếp công dân định kỳ của lãnh đạo"
WORDS = "thong bao tiep cong dan"
QUERIES = ((WORDS, {}), (WORDS, {"sort": "date"}), ("", {}), ('"tiep cong dan"', {"year": 2023}),
           ("lanh dao", {"kind": "outgoing"}))
# The same through the API (whose "year" is the year of arrival, so a date range instead).
API_QUERIES = ((WORDS, {}), (WORDS, {"sort": "date"}), ("", {}),
               ('"tiep cong dan"', {"from": "2025-01-01"}), ("lanh dao", {"kind": "incoming"}))


def _tie_order(doc):
    """The documented order among equals, written out independently of the backends."""
    return (-(doc.doc_date.toordinal() if doc.doc_date else 0), -int(doc.key.split(":")[1]),
            doc.kind != "outgoing")


def _circulars():
    """42 copies of one circular: the same words, so the same score, on two dates; one
    outgoing copy shares its number and date with an incoming one. And one older text
    that says it twice, so scores better."""
    docs = [make_doc(f"in:{n}", CIRCULAR, doc_date=DAY if n <= 30 else OLDER)
            for n in range(1, 41)]
    docs.append(make_doc("out:7", CIRCULAR, kind="outgoing"))
    docs.append(make_doc("in:50", f"{CIRCULAR} — {CIRCULAR}", doc_date=date(2020, 1, 1)))
    return docs


def _write_shuffled(index, docs, *, seed: int, batches: int) -> None:
    """Write in an arbitrary order, one commit (a segment) per batch."""
    docs = list(docs)
    random.Random(seed).shuffle(docs)
    for start in range(batches):
        index.write(docs[start::batches], [])


@pytest.fixture(params=list(engines.BACKENDS))
def engine(request):
    return request.param


@pytest.fixture
def circulars(engine, tmp_path):
    index = engines.open_backend(engine, tmp_path / engine, create=True)
    docs = _circulars()
    _write_shuffled(index, docs, seed=1, batches=3)
    yield index, docs
    index.close()


def test_equal_scores_come_newest_first_then_highest_number(circulars):
    index, docs = circulars
    result = index.search(request(WORDS, limit=100))
    assert result.total == len(docs)
    assert keys(result)[0] == "in:50"  # a better score still comes first, however old
    assert len({score for _, score in result.hits[1:]}) == 1  # the rest are all equal
    copies = [doc for doc in docs if doc.key != "in:50"]
    assert keys(result)[1:] == [doc.key for doc in sorted(copies, key=_tie_order)]
    assert keys(result)[1:4] == ["in:30", "in:29", "in:28"]
    assert keys(result).index("out:7") + 1 == keys(result).index("in:7")


def test_equal_dates_come_highest_number_first(circulars):
    index, docs = circulars
    expected = [doc.key for doc in sorted(docs, key=_tie_order)]
    assert keys(index.search(request(WORDS, sort="date", limit=100))) \
        == expected
    assert keys(index.search(request("", limit=100))) == expected  # no words: by date


@pytest.mark.parametrize("sort", ["relevance", "date"])
def test_paging_gives_every_hit_once_in_order(circulars, sort):
    index, docs = circulars
    everything = keys(index.search(request(WORDS, sort=sort, limit=100)))
    for per_page in (1, 4, 7, 10, 41):
        pages = [index.search(request(WORDS, sort=sort, offset=offset,
                                      limit=per_page, facets=False))
                 for offset in range(0, len(docs) + per_page, per_page)]
        assert {page.total for page in pages} == {len(docs)}, per_page
        assert [key for page in pages for key in keys(page)] == everything, per_page


def _answers(index) -> list:
    found = []
    for query, options in QUERIES:
        result = index.search(request(query, limit=100, **options))
        found.append((result.total, keys(result), result.facets))
    return found


def test_the_same_documents_written_otherwise_answer_alike(engine, tmp_path):
    # What a rebuild changes: the order and batches the engine receives the documents in
    # (Tantivy also spreads them over its indexing threads), and earlier versions of some.
    docs = _circulars()
    first = engines.open_backend(engine, tmp_path / "first", create=True)
    second = engines.open_backend(engine, tmp_path / "second", create=True)
    try:
        first.write(docs, [])
        _write_shuffled(second, [make_doc(doc.key, "Bản nháp", kind=doc.kind) for doc in docs],
                        seed=2, batches=1)
        _write_shuffled(second, docs, seed=3, batches=5)  # replaces every one of them
        assert second.count() == first.count() == len(docs)
        assert _answers(second) == _answers(first)
    finally:
        first.close()
        second.close()


# --- through the real indexer: registering, draining, `flask docmgr reindex` --------------

def _register(api, pdf_bytes, number: int, subject: str, doc_date: str) -> int:
    r = api("clerk").post("/api/v1/incoming", data={
        **registration_form(notation=f"{number}/UBND-VP", subject=subject,
                            doc_date=doc_date), "file": upload(pdf_bytes)})
    assert r.status_code == 201, r.json
    return r.json["id"]


def _api_answers(api) -> dict:
    """Every page of every query, five hits a page, as the leader sees them: {(query,
    options): (ids, (id, score) pairs, facets)}; each hit on exactly one page."""
    found = {}
    for query, options in API_QUERIES:
        pages = []
        while not pages or pages[-1]["hits"]:
            r = api("leader").get("/api/v1/search", query_string={
                "q": query, "per_page": 5, "page": len(pages) + 1, **options})
            assert r.status_code == 200, r.json
            pages.append(r.json)
        hits = [(hit["id"], hit["score"]) for page in pages for hit in page["hits"]]
        ids = [doc_id for doc_id, _ in hits]
        assert {page["total"] for page in pages} == {len(ids)} == {len(set(ids))}, query
        assert all(page["facets"] == pages[0]["facets"] for page in pages), query
        found[query, tuple(options.items())] = (ids, hits, pages[0]["facets"])
    return found


def _reindex(app) -> None:
    result = app.test_cli_runner().invoke(args=["docmgr", "reindex"])
    assert result.exit_code == 0, result.output


def test_two_rebuilds_answer_exactly_alike(app, api, pdf_bytes, search, drain, db):
    copies = [_register(api, pdf_bytes, n, CIRCULAR, "2026-11-02") for n in range(1, 13)]
    older = [_register(api, pdf_bytes, n, CIRCULAR, "2025-05-20") for n in range(13, 17)]
    louder = _register(api, pdf_bytes, 17, f"{CIRCULAR} — {CIRCULAR}", "2024-01-08")
    drain()
    # Some documents re-indexed later, as after a change: the engines now hold them
    # elsewhere (Whoosh appends them, Tantivy writes a new segment).
    with db.transaction() as session:
        for doc_id in copies[:5] + older[:2]:
            outbox.enqueue(session, outbox.INDEX, f"in:{doc_id}")
    drain()
    by_relevance = [louder, *sorted(copies, reverse=True), *sorted(older, reverse=True)]
    live = _api_answers(api)
    assert live[WORDS, ()][0] == by_relevance
    assert live[WORDS, (("sort", "date"),)][0] == \
        [*sorted(copies, reverse=True), *sorted(older, reverse=True), louder]

    _reindex(app)
    rebuilt = _api_answers(api)
    _reindex(app)
    assert _api_answers(api) == rebuilt  # ids, order, scores, totals, facets
    # The index kept up as things happened orders as a fresh one does (its scores may
    # differ by the deleted entries it still counts).
    assert {query: ids for query, (ids, _, _) in rebuilt.items()} == \
        {query: ids for query, (ids, _, _) in live.items()}
