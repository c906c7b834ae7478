"""The Whoosh backend: pure Python, embedded, the default for small archives."""
import threading
from pathlib import Path

from whoosh import columns, sorting, writing
from whoosh import index as whoosh_index
from whoosh import query as Q
from whoosh.analysis import RegexTokenizer
from whoosh.fields import COLUMN, ID, KEYWORD, NUMERIC, TEXT, Schema

from docmgr.core.storage import private_dir
from docmgr.search.analysis import Clause, fold_normalised
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

# The text arrives lower-cased and folded by docmgr.search.analysis: split on non-word
# characters only. No stop list, no minimum length ("ý", "an", "to" are words here).
_WORDS = RegexTokenizer(r"\w+")
FACET_LIMIT = 20
MAX_SEGMENTS = 12
# Equal scores (and, sorting by date, equal dates) are ordered by backend.recency, newest
# first, never by Whoosh's document numbers, which depend on the order and segments the
# documents happened to be written in.
_BY_DATE = [sorting.FieldFacet("recency", reverse=True)]
_BY_RELEVANCE = [sorting.ScoreFacet(), *_BY_DATE]


def _schema() -> Schema:
    return Schema(
        key=ID(unique=True, stored=True),
        kind=ID(sortable=True),
        org_id=ID,
        principals=KEYWORD(scorable=False),
        doc_type=ID(sortable=True),
        year=ID(sortable=True),
        doc_date=NUMERIC(int, bits=32, sortable=True),
        # Only sorted on, never searched: a column without postings.
        recency=COLUMN(columns.NumericColumn("Q")),
        notation_key=ID,
        sender=ID(sortable=True),
        secrecy=ID,
        unit=ID,
        subject_f=TEXT(analyzer=_WORDS, phrase=True),
        subject_x=TEXT(analyzer=_WORDS, phrase=False),
        text_f=TEXT(analyzer=_WORDS, phrase=True),
        # Exact words only rank (they never decide a match): no positions needed.
        text_x=TEXT(analyzer=_WORDS, phrase=False),
        signer_f=TEXT(analyzer=_WORDS, phrase=True),
    )


def _fields(doc: IndexedDoc) -> dict:
    return dict(key=doc.key, kind=doc.kind, org_id=str(doc.org_id),
                principals=" ".join(doc.principals), doc_type=doc.doc_type,
                year=str(doc.year), doc_date=date_number(doc.doc_date), recency=recency(doc),
                notation_key=doc.notation_key, sender=doc.sender, secrecy=doc.secrecy,
                unit=doc.unit, subject_f=doc.subject_f, subject_x=doc.subject_x,
                text_f=doc.text_f if doc.text_f is not None else fold_normalised(doc.text_x),
                text_x=doc.text_x, signer_f=doc.signer_f)


def _match(field: str, tokens: tuple[str, ...], boost: float = 1.0) -> Q.Query:
    if len(tokens) == 1:
        return Q.Term(field, tokens[0], boost=boost)
    return Q.Phrase(field, list(tokens), boost=boost)


def _clause_queries(clause: Clause) -> tuple[Q.Query, list[Q.Query]]:
    """What must match, and what only ranks."""
    if clause.field == "signer":
        return _match("signer_f", clause.folded), []
    if clause.field == "subject":
        return (_match("subject_f", clause.folded),
                [Q.Term("subject_x", token, boost=BOOST_EXACT) for token in clause.exact])
    required = _match("text_f", clause.folded)
    ranking = [Q.Term("text_x", token, boost=BOOST_EXACT) for token in clause.exact]
    ranking.append(_match("subject_f", clause.folded, boost=BOOST_SUBJECT))
    if clause.notation:
        notation = Q.Term("notation_key", clause.notation, boost=BOOST_NOTATION)
        # A text that merely cites the notation matches, but ranks by the boosts only.
        required = Q.Or([notation, Q.ConstantScoreQuery(required, 1.0)])
        ranking.append(notation)
    return required, ranking


def build_query(request: SearchRequest) -> Q.Query:
    if not request.clauses:
        return Q.Every()
    required, ranking = [], []
    for clause in request.clauses:
        must, boosts = _clause_queries(clause)
        required.append(must)
        ranking += boosts
    return Q.AndMaybe(Q.And(required), Q.Or(ranking))


def build_filter(request: SearchRequest) -> Q.Query:
    if not request.principals:
        return Q.NullQuery
    parts = [Q.Term("org_id", str(request.org_id)),
             Q.Or([Q.Term("principals", p) for p in request.principals])]
    for field, value in (("kind", request.kind), ("doc_type", request.doc_type),
                         ("year", request.year), ("sender", request.sender)):
        if value not in (None, ""):
            parts.append(Q.Term(field, str(value)))
    if request.date_from or request.date_to:
        parts.append(Q.NumericRange("doc_date", date_number(request.date_from) or 1,
                                    date_number(request.date_to) or None))
    return Q.And(parts)


def build_mask(request: SearchRequest) -> Q.Query | None:
    """The documents never to match. A mask, not an AndNot inside the filter: Whoosh reads
    a mask's few documents once, where a negated union of many keys is stepped through
    for every document the filter admits."""
    if not request.exclude_keys:
        return None
    return Q.Or([Q.Term("key", key) for key in request.exclude_keys])


class WhooshBackend:
    name = "whoosh"

    def __init__(self, path: Path, create: bool = False):
        self.path = Path(path)
        try:
            if whoosh_index.exists_in(str(self.path)):
                self._index = whoosh_index.open_dir(str(self.path))
            elif create:
                private_dir(self.path)  # 0700: the index holds the documents' text
                self._index = whoosh_index.create_in(str(self.path), _schema())
            else:
                raise IndexUnavailable(f"no Whoosh index in {self.path}")
            if set(self._index.schema.names()) != set(_schema().names()):
                raise IndexUnavailable("the Whoosh index has another schema")
            self._index.doc_count()  # reads the segment list: fails on a damaged index
        except IndexUnavailable:
            raise
        except Exception as exc:  # noqa: BLE001 — Whoosh raises many kinds on damaged files
            raise IndexUnavailable(
                f"the Whoosh index in {self.path} is unreadable: {exc}") from exc
        self._local = threading.local()  # a searcher per thread, refreshed before use
        self._pending = None  # a writer kept open across write(commit=False) calls

    def _searcher(self):
        searcher = getattr(self._local, "searcher", None)
        if searcher is not None and not searcher.up_to_date():
            # Not Searcher.refresh(): it fails when the old reader had no segments.
            searcher.close()
            searcher = None
        if searcher is None:
            searcher = self._local.searcher = self._index.searcher()
        return searcher

    def write(self, docs: list[IndexedDoc], delete_keys: list[str], *,
              commit: bool = True) -> None:
        # update_document only replaces committed documents: keep one per key per batch.
        docs = list({doc.key: doc for doc in docs}.values())
        if self._pending is None:
            self._pending = self._index.writer(limitmb=256)
        writer = self._pending
        try:
            for key in delete_keys:
                writer.delete_by_term("key", key)
            for doc in docs:
                writer.update_document(**_fields(doc))
        except BaseException:
            self._pending = None
            writer.cancel()
            raise
        if commit:
            self._pending = None
            # No merging here: Whoosh's merge on commit can take tens of seconds at a time,
            # during which nothing else is indexed. maintain() merges when the queue is idle.
            writer.commit(merge=False)

    def maintain(self) -> None:
        """Merge the small segments once they pile up (called by the indexer when idle)."""
        if len(self._index._segments()) > MAX_SEGMENTS:
            self._index.writer(limitmb=128).commit(mergetype=writing.MERGE_SMALL)

    def search(self, request: SearchRequest) -> SearchResult:
        searcher = self._searcher()
        # Always sorted, by relevance too: Whoosh's plain top-N collector misorders and
        # miscounts our AndMaybe queries (seen on the corpus: a law whose subject matches
        # fell out of the top 3, totals too low), while the sorting collector visits every
        # match — and its key breaks ties by recency.
        facets = ({name: sorting.FieldFacet(name, maptype=sorting.Count) for name in FACETS}
                  if request.facets else None)
        by_date = request.sort == "date" or not request.clauses
        limit = max(request.offset + request.limit, 1)
        results = searcher.search(build_query(request), filter=build_filter(request),
                                  mask=build_mask(request), limit=limit,
                                  sortedby=_BY_DATE if by_date else _BY_RELEVANCE,
                                  groupedby=facets, terms=False)
        page = results[request.offset:request.offset + request.limit]
        # Sorted by facets, Whoosh puts the sort key where the score would be: by relevance
        # (-score, -recency), as the score facet negates the score to put the best first.
        hits = [(hit["key"], 0.0 if by_date else -float(hit.score[0])) for hit in page]
        found = {}
        if request.facets:
            for name in FACETS:
                counts = results.groups(name)
                found[name] = sorted(((str(k), v) for k, v in counts.items() if k not in
                                      (None, "", b"")),
                                     key=lambda item: (-item[1], item[0]))[:FACET_LIMIT]
        return SearchResult(total=len(results), hits=hits, facets=found)

    def count(self) -> int:
        return self._index.doc_count()


    def close(self) -> None:
        if self._pending is not None:
            self._pending.cancel()  # an unfinished bulk write is abandoned, not half-kept
            self._pending = None
        searcher = getattr(self._local, "searcher", None)
        if searcher is not None:
            searcher.close()
            self._local.searcher = None
        self._index.close()
