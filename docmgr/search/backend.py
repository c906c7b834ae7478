"""The one small interface every search backend implements: the records it stores, the
requests it answers, and the constants that make every backend rank alike.

This module imports no backend (and :mod:`docmgr.search.engines`, which opens one by
name, imports none until asked), so a backend can import it without a cycle.

A backend stores and queries :class:`IndexedDoc` records; it never sees the database.
Text arrives already prepared by :mod:`docmgr.search.analysis` (``*_f`` folded, ``*_x``
exact, both lower case, punctuation kept), so every backend tokenises with the same plain
"split on non-word characters" rule and agrees with the others. Access control is a
filter inside the query (``principals``, minus ``exclude_keys``: the documents the
database denies while the index catches up, see :mod:`docmgr.search.pending`), so totals
and facet counts never include a document the caller may not open.
"""
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from docmgr.search.analysis import Clause

FACETS = ("kind", "doc_type", "year", "sender")
# Ranking boosts, the same in every backend: a word with the user's own diacritics, a match
# in the subject (trích yếu), and the document's own notation above one merely citing it.
BOOST_EXACT = 2.0
BOOST_SUBJECT = 3.0
BOOST_NOTATION = 50.0


class IndexUnavailable(Exception):
    """The index is missing, corrupt or of another format: rebuild it."""


@dataclass
class IndexedDoc:
    key: str  # "in:12" or "out:7": unique across kinds; the number is the document's id
    kind: str  # incoming | outgoing
    org_id: int
    principals: list[str]  # who may open it, see docmgr.search.access
    doc_type: str
    year: int
    doc_date: date | None
    notation_key: str  # analysis.notation_key(notation)
    sender: str  # issuing body (incoming) or own organisation (outgoing), as written
    secrecy: str
    unit: str  # unit abbreviation, may be ""
    subject_f: str  # folded subject
    subject_x: str  # exact (lower case, with diacritics) subject
    text_x: str  # exact form of notation, sender, subject, signer and body
    text_f: str | None  # its folded form; None: the backend folds text_x itself (faster)
    signer_f: str  # folded signer name, "" when unknown


@dataclass
class SearchRequest:
    clauses: tuple[Clause, ...]
    org_id: int
    principals: tuple[str, ...]
    kind: str | None = None
    exclude_keys: tuple[str, ...] = ()  # never match these documents, whatever they hold
    doc_type: str | None = None
    year: int | None = None
    sender: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    sort: str = "relevance"  # relevance | date (newest first)
    offset: int = 0
    limit: int = 20
    facets: bool = True


@dataclass
class SearchResult:
    total: int
    hits: list[tuple[str, float]]  # (key, score), best first
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)


class Backend(Protocol):
    name: str

    def write(self, docs: list[IndexedDoc], delete_keys: list[str], *,
              commit: bool = True) -> None:
        """Add or replace ``docs`` and remove ``delete_keys``, committed as one batch; with
        ``commit=False`` kept pending until a later write commits (a rebuild writes all
        its batches and commits once: one segment, no reload after each batch)."""

    def search(self, request: SearchRequest) -> SearchResult: ...

    def count(self) -> int: ...

    def maintain(self) -> None:
        """Housekeeping (merging segments) when there is nothing else to index."""

    def close(self) -> None: ...


def date_number(day: date | None) -> int:
    """A date as YYYYMMDD (0 when unknown): cheap to filter and sort on in every engine."""
    return day.year * 10000 + day.month * 100 + day.day if day else 0


_KIND_BIT = {"incoming": 0, "outgoing": 1}
_NUMBER_BITS = 33  # document numbers below 8.6 billion; with the date, 61 bits in all


def recency(doc: IndexedDoc) -> int:
    """The order every backend gives documents that rank alike — equal scores (a circular
    sent to every commune scores the same for each copy) or, sorting by date, equal dates:
    the newest date first, then the highest number (registered or issued last), then
    outgoing before incoming. One integer, larger first, unique per document (its kind
    and the number in its key): so the same query answers in the same order after a
    rebuild, whatever order or segments the engine stored the documents in, and
    consecutive pages never repeat or skip a hit."""
    number = int(doc.key.rpartition(":")[2])  # "in:12" → 12
    if not 0 <= number < 1 << _NUMBER_BITS:
        raise ValueError(f"document number out of range in key {doc.key!r}")
    return ((date_number(doc.doc_date) << _NUMBER_BITS | number) << 1) | _KIND_BIT[doc.kind]
