"""The Tantivy backend (PyPI ``tantivy``): a Rust engine, embedded, for large archives.

Same semantics as the Whoosh backend (see :mod:`docmgr.search.backend`): every clause must
match, exact-diacritic words and subject/notation hits only rank, access control and the
other filters are part of the query so totals and facets never count a hidden document.
"""
import heapq
import threading
from pathlib import Path

import tantivy
from tantivy import Occur, Query

from docmgr.core.storage import private_dir
from docmgr.search.analysis import Clause
from docmgr.search.backend import (
    BOOST_EXACT,
    BOOST_NOTATION,
    BOOST_SUBJECT,
    FACETS,
    IndexedDoc,
    IndexUnavailable,
    SearchRequest,
    SearchResult,
    date_number,
    recency,
)

FACET_LIMIT = 20
# Terms aggregations keep at most this many buckets per segment; tantivy's own bucket limit
# is 65,000. Far above the number of distinct senders/types/years an office will ever have,
# so the counts are exact (doc_count_error_upper_bound stays 0).
_FACET_BUCKETS = 10_000
_HEAP = 128_000_000  # writer memory, shared by the indexing threads
_THREADS = 2  # folding and indexing run in Rust, beside the Python that feeds them
_WORDS = "docmgr_words"
# How many times more hits to fetch while the page's last score still ties: widening is
# cheap (ties at a page's end are usually two or three documents) and a long run of equal
# scores is then read in three searches, not six.
_WIDER = 32

# The text arrives lower-cased (and folded for *_f) by docmgr.search.analysis, whose words
# are Python's ``\w+``: letters, digits (every script) and "_". The same class in Rust
# regex syntax, with no lower-casing (already done, and Rust's and Python's case tables
# may differ on odd letters), no stop list and no minimum length, so "ý", "an", "to" stay
# words and "ế", "đ" stay inside theirs. Tantivy's "default" tokenizer would split on
# "_" and drop tokens over 40 bytes; we only drop absurd ones (hashes, base64 runs).
_ANALYZER = (tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.regex(r"[\p{L}\p{N}_]+"))
             .filter(tantivy.Filter.remove_long(1000))
             .build())
# The folded fields fold in Rust (ASCII folding: every Vietnamese letter, đ and the look-
# alike Ð): a long body need not be folded in Python first. Query words go through the
# same analyzer, so both sides agree by construction.
_FOLDED = "docmgr_folded"
_FOLDING = (tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.regex(r"[\p{L}\p{N}_]+"))
            .filter(tantivy.Filter.remove_long(1000))
            .filter(tantivy.Filter.ascii_fold())
            .build())


def _schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("key", stored=True, tokenizer_name="raw", index_option="basic")
    # backend.recency: the order among equals, and by date. Only sorted on, never searched.
    sb.add_integer_field("recency", fast=True)
    sb.add_text_field("kind", fast=True, tokenizer_name="raw", index_option="basic")
    sb.add_integer_field("org_id", indexed=True)
    sb.add_text_field("principals", tokenizer_name="raw", index_option="basic")
    sb.add_text_field("doc_type", fast=True, tokenizer_name="raw", index_option="basic")
    sb.add_integer_field("year", indexed=True, fast=True)
    sb.add_integer_field("doc_date", indexed=True, fast=True)
    sb.add_text_field("notation_key", tokenizer_name="raw", index_option="freq")
    sb.add_text_field("sender", fast=True, tokenizer_name="raw", index_option="basic")
    sb.add_text_field("secrecy", tokenizer_name="raw", index_option="basic")
    sb.add_text_field("unit", tokenizer_name="raw", index_option="basic")
    sb.add_text_field("subject_f", tokenizer_name=_FOLDED, index_option="position")
    # Exact words only rank (they never decide a match): no positions needed.
    sb.add_text_field("subject_x", tokenizer_name=_WORDS, index_option="freq")
    sb.add_text_field("text_f", tokenizer_name=_FOLDED, index_option="position")
    sb.add_text_field("text_x", tokenizer_name=_WORDS, index_option="freq")
    sb.add_text_field("signer_f", tokenizer_name=_FOLDED, index_option="position")
    return sb.build()


SCHEMA = _schema()


def _document(doc: IndexedDoc) -> tantivy.Document:
    return tantivy.Document(
        key=doc.key, recency=recency(doc), kind=doc.kind, org_id=int(doc.org_id),
        principals=list(doc.principals), doc_type=doc.doc_type, year=int(doc.year),
        doc_date=date_number(doc.doc_date), notation_key=doc.notation_key, sender=doc.sender,
        secrecy=doc.secrecy, unit=doc.unit, subject_f=doc.subject_f, subject_x=doc.subject_x,
        text_f=doc.text_f if doc.text_f is not None else doc.text_x,
        text_x=doc.text_x, signer_f=doc.signer_f)


def _term(field: str, value, boost: float = 1.0) -> Query:
    query = Query.term_query(SCHEMA, field, value)
    return Query.boost_query(query, boost) if boost != 1.0 else query


def _match(field: str, tokens: tuple[str, ...], boost: float = 1.0) -> Query:
    if len(tokens) == 1:
        return _term(field, tokens[0], boost)
    query = Query.phrase_query(SCHEMA, field, list(tokens))
    return Query.boost_query(query, boost) if boost != 1.0 else query


def _any(queries: list[Query]) -> Query:
    return queries[0] if len(queries) == 1 else Query.boolean_query(
        [(Occur.Should, q) for q in queries])


def _fold(tokens: tuple[str, ...]) -> tuple[str, ...]:
    """The words as the folded fields hold them (through the same Rust analyzer)."""
    return tuple(word for token in tokens for word in _FOLDING.analyze(token)) or tokens


def _clause_queries(clause: Clause) -> tuple[Query, list[Query]]:
    """What must match, and what only ranks."""
    folded = _fold(clause.folded)
    if clause.field == "signer":
        return _match("signer_f", folded), []
    if clause.field == "subject":
        return (_match("subject_f", folded),
                [_term("subject_x", token, BOOST_EXACT) for token in clause.exact])
    required = _match("text_f", folded)
    ranking = [_term("text_x", token, BOOST_EXACT) for token in clause.exact]
    ranking.append(_match("subject_f", folded, BOOST_SUBJECT))
    if clause.notation:
        # A text that merely cites the notation matches, but ranks by the boosts only.
        required = _any([_term("notation_key", clause.notation),
                         Query.const_score_query(required, 1.0)])
        ranking.append(_term("notation_key", clause.notation, BOOST_NOTATION))
    return required, ranking


def _filters(request: SearchRequest) -> list[Query] | None:
    """The filter queries, or None when nothing can match (no principals)."""
    if not request.principals:
        return None
    parts = [_term("org_id", int(request.org_id)),
             Query.term_set_query(SCHEMA, "principals", list(request.principals))]
    for name, value in (("kind", request.kind), ("doc_type", request.doc_type),
                        ("sender", request.sender)):
        if value not in (None, ""):
            parts.append(_term(name, str(value)))
    if request.year not in (None, ""):
        parts.append(_term("year", int(request.year)))
    if request.date_from or request.date_to:
        # Unknown dates are 0: any date filter leaves them out.
        parts.append(Query.range_query(SCHEMA, "doc_date", tantivy.FieldType.Integer,
                                       date_number(request.date_from) or 1,
                                       date_number(request.date_to) or None))
    return parts


def build_query(request: SearchRequest) -> Query | None:
    filters = _filters(request)
    if filters is None:
        return None
    # Filters score nothing: wrapped in a zero constant score, they only restrict.
    subqueries = [(Occur.Must, Query.const_score_query(f, 0.0)) for f in filters]
    if request.exclude_keys:
        subqueries.append((Occur.MustNot, Query.term_set_query(
            SCHEMA, "key", list(request.exclude_keys))))
    for clause in request.clauses:
        must, boosts = _clause_queries(clause)
        subqueries.append((Occur.Must, must))
        # With a Must beside them, Should parts never decide a match, they only add score.
        subqueries += [(Occur.Should, q) for q in boosts]
    return Query.boolean_query(subqueries)


def _facets(searcher, query: Query) -> dict[str, list[tuple[str, int]]]:
    """Facet counts with tantivy's terms aggregation over the fast fields: one pass over the
    matching documents' column values in Rust, no stored document read. ``segment_size`` as
    large as ``size`` makes the per-segment lists complete, so merged counts are exact;
    the final order (count desc, value asc) and the cut to 20 are done here because tantivy
    breaks count ties in its own way."""
    spec = {name: {"terms": {"field": name, "size": _FACET_BUCKETS,
                             "segment_size": _FACET_BUCKETS}} for name in FACETS}
    result = searcher.aggregate(query, spec)
    found = {}
    for name in FACETS:
        buckets = result.get(name, {}).get("buckets", [])
        values = [(_facet_value(b["key"]), int(b["doc_count"])) for b in buckets]
        values = [(v, n) for v, n in values if v != "" and n > 0]
        found[name] = sorted(values, key=lambda item: (-item[1], item[0]))[:FACET_LIMIT]
    return found


def _best(searcher, query: Query, end: int) -> tuple[int, list]:
    """The first ``end`` (score, address) hits, best first, equal scores by recency (newest
    first); and the number of matches.

    Tantivy orders equal scores by where the documents happen to lie in its segments,
    which a rebuild (two indexing threads) changes, and it cannot sort by score and then a
    field. So ask for one hit more than needed: all hits scoring as the last wanted one are
    in hand once a lower score follows (a top-k search never leaves out a document that
    beats one it kept); if not, ask for more. Then take the best ``end`` by (score,
    recency), recency read from its fast field (no stored document is read). On the bench
    archive (10,000 documents) 4 % of first pages need a second search; 10,000 equal
    scores (identical texts, or one signer's documents searched by signer) need three,
    about 5 ms more than an unordered top 10."""
    fetch = end + 1
    while True:
        result = searcher.search(query, fetch, count=True)
        hits = result.hits
        if len(hits) < fetch or hits[-1][0] < hits[end - 1][0]:
            break
        fetch = min(fetch * _WIDER, result.count + 1)
    newest = searcher.fast_field_values("recency", [address for _, address in hits])
    # Plain tuples, compared natively: (score, recency, position), best first.
    scores = [score for score, _ in hits]
    best = heapq.nlargest(end, zip(scores, newest, range(len(hits)), strict=True))
    return result.count, [hits[position] for _, _, position in best]


def _facet_value(key) -> str:
    if isinstance(key, float) and key.is_integer():
        key = int(key)
    return str(key)


class TantivyBackend:
    name = "tantivy"

    def __init__(self, path: Path, create: bool = False):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._writer = None
        try:
            exists = self.path.is_dir() and tantivy.Index.exists(str(self.path))
            if exists:
                self._index = tantivy.Index.open(str(self.path))
                if self._index.schema != SCHEMA:
                    raise IndexUnavailable(f"the Tantivy index in {self.path} has another schema")
            elif create:
                private_dir(self.path)  # 0700: the index holds the documents' text
                self._index = tantivy.Index(SCHEMA, path=str(self.path), reuse=False)
            else:
                raise IndexUnavailable(f"no Tantivy index in {self.path}")
            self._index.register_tokenizer(_WORDS, _ANALYZER)
            self._index.register_tokenizer(_FOLDED, _FOLDING)
            # Opens every segment (and reads their footers): fails on damaged files.
            searcher = self._index.searcher()
            searcher.search(Query.all_query(), 1, count=True)
        except (IndexUnavailable, KeyboardInterrupt, SystemExit):
            raise
        # tantivy raises ValueError/OSError on damaged files, and pyo3 turns a Rust panic
        # into PanicException, which derives from BaseException.
        except BaseException as exc:  # noqa: BLE001
            raise IndexUnavailable(
                f"the Tantivy index in {self.path} is unreadable: {exc}") from exc

    def _get_writer(self):
        if self._writer is None:
            self._writer = self._index.writer(_HEAP, _THREADS)
        return self._writer

    def write(self, docs: list[IndexedDoc], delete_keys: list[str], *,
              commit: bool = True) -> None:
        with self._lock:
            writer = self._get_writer()
            try:
                for key in delete_keys:
                    writer.delete_documents_by_term("key", key)
                for doc in docs:
                    writer.delete_documents_by_term("key", doc.key)
                    writer.add_document(_document(doc))
                if commit:
                    writer.commit()
            except BaseException:
                writer.rollback()
                raise
            if commit:
                self._index.reload()

    def _searcher(self):
        # The reader also reloads by itself when meta.json changes, but only after the file
        # watcher's ~0.5 s poll; reloading here (~40 µs when nothing changed) lets another
        # process's commit show at once, as with the Whoosh backend.
        self._index.reload()
        return self._index.searcher()

    def search(self, request: SearchRequest) -> SearchResult:
        query = build_query(request)
        if query is None:
            return SearchResult(total=0, hits=[],
                                facets={name: [] for name in FACETS} if request.facets else {})
        searcher = self._searcher()
        # tantivy wants a limit of at least 1; a zero limit still counts and facets.
        limit = max(request.limit, 1)
        offset = max(request.offset, 0)
        if request.sort == "date" or not request.clauses:
            # Without words every score is equal: newest first, as the Whoosh backend does.
            result = searcher.search(query, limit, count=True, order_by_field="recency",
                                     offset=offset, order=tantivy.Order.Desc)
            total, page = result.count, [(0.0, address) for _, address in result.hits]
        else:
            total, best = _best(searcher, query, offset + limit)
            page = best[offset:]
        hits = [(searcher.doc(address).get_first("key"), float(score))
                for score, address in page] if request.limit > 0 else []
        facets = _facets(searcher, query) if request.facets else {}
        return SearchResult(total=total, hits=hits, facets=facets)

    def count(self) -> int:
        return self._searcher().num_docs

    def maintain(self) -> None:
        """Nothing to do: Tantivy merges segments in the background by itself."""

    def close(self) -> None:
        with self._lock:
            writer, self._writer = self._writer, None
            if writer is not None:
                writer.wait_merging_threads()  # also releases the writer's lock file
