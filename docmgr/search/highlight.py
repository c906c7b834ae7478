"""Highlighted snippets built from the text kept in the database (the index stores none).

A text is folded with ``analysis.fold_normalised``, which keeps Vietnamese text the same
length character for character, so a match found in the folded text sits at the same
offsets in the original and the accented words themselves are marked. Bodies are scanned
piece by piece and only until enough snippets are found: a 200-page law costs no more
than its first pages when the words appear early.
"""
import functools
import re

from markupsafe import Markup, escape

from docmgr.search import analysis

SNIPPET_CHARS = 90  # on each side of a match
CHUNK = 8_000


def _pattern(terms: set[str]) -> re.Pattern:
    words = "|".join(map(re.escape, sorted(terms, key=len, reverse=True)))
    return re.compile(r"(?<!\w)(?:" + words + r")(?!\w)")


def _spans(text: str, terms: set[str], start: int = 0, end: int | None = None,
           pattern: re.Pattern | None = None) -> list[tuple[int, int]]:
    """Spans of the words of ``text[start:end]`` whose folded form is one of ``terms``."""
    if not text or not terms:
        return []
    piece = text[start:end]
    folded = analysis.fold_normalised(analysis.normalise(piece))
    if len(folded) != len(piece):  # letters whose folded form has another length
        return [(start + a, start + b) for a, b in
                (m.span() for m in analysis.WORD.finditer(piece))
                if analysis.fold(piece[a:b]) in terms]
    return [(start + a, start + b) for a, b in
            (m.span() for m in (pattern or _pattern(terms)).finditer(folded))]


def _marked(text: str, spans: list[tuple[int, int]], start: int, end: int) -> Markup:
    out, cursor = [], start
    for a, b in spans:
        if b <= start or a >= end:
            continue
        out.append(escape(text[cursor:a]))
        out.append(Markup("<mark>") + escape(text[a:b]) + Markup("</mark>"))
        cursor = b
    out.append(escape(text[cursor:end]))
    return Markup("").join(out)


def marks_for(query: str | None):
    """For the page preview opened from a search: a function giving the spans of the
    query's words in a page's text, or None when there is nothing to mark. A partial,
    not a closure: the preview is drawn in a worker process, where it is sent pickled."""
    terms = analysis.parse((query or "")[:200]).folded_terms()
    return functools.partial(_spans, terms=terms) if terms else None


def whole(text: str, terms: set[str]) -> Markup:
    """The whole (short) text with every matching word marked: for the subject line."""
    return _marked(text, _spans(text, terms), 0, len(text))


def _matches(text: str, terms: set[str]):
    """Spans in order, found one piece at a time (pieces overlap by the longest term, cut
    at a non-word character so no word is split)."""
    if not terms:
        return
    pattern, overlap, start = _pattern(terms), max(map(len, terms)) + 1, 0
    while start < len(text):
        end = min(len(text), start + CHUNK)
        while end < len(text) and text[end - 1].isalnum():
            end += 1
        yield from (span for span in _spans(text, terms, start, end, pattern))
        start = end if end >= len(text) else max(end - overlap, start + 1)
        while start < end and start > 0 and text[start - 1].isalnum():
            start += 1


def snippets(text: str, terms: set[str], *, limit: int = 3) -> list[Markup]:
    """Up to ``limit`` passages of the body around matching words, in document order."""
    found, covered_to, spans = [], -1, []
    for a, b in _matches(text, terms):
        if spans and a < spans[-1][1]:
            continue  # seen again in the overlap of two pieces
        spans.append((a, b))
        if a < covered_to:
            continue
        start = max(0, a - SNIPPET_CHARS)
        end = min(len(text), b + SNIPPET_CHARS)
        # Cut at word boundaries and tidy the page's line breaks.
        while start > 0 and text[start - 1].isalnum():
            start -= 1
        while end < len(text) and text[end].isalnum():
            end += 1
        found.append((start, end))
        covered_to = end
        if len(found) == limit:
            break
    # Marks inside a snippet may lie past the last match scanned: find them in its range.
    result = []
    for start, end in found:
        body = _marked(text, _spans(text, terms, start, end), start, end)
        body = Markup(" ".join(str(body).split()))
        result.append(Markup("… " if start else "") + body
                      + Markup(" …" if end < len(text) else ""))
    return result
