"""Highlighted snippets built from the text kept in the database (the index stores none).

The text is folded once with ``str.translate`` (one character in, one out for NFC
Vietnamese), so a match found in the folded text sits at the same offsets in the
original and the accented words themselves are marked.
"""
import re

from markupsafe import Markup, escape

from docmgr.search import analysis

SNIPPET_CHARS = 90  # on each side of a match


def _spans(text: str, terms: set[str]) -> list[tuple[int, int]]:
    if not text or not terms:
        return []
    folded = analysis.fold(text)
    if len(folded) != len(text):  # rare letters whose lower case is longer: word by word
        return [m.span() for m in analysis.WORD.finditer(text)
                if analysis.fold(m.group()) in terms]
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, sorted(terms, key=len,
                                                                           reverse=True)))
                         + r")(?!\w)")
    return [m.span() for m in pattern.finditer(folded)]


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
    query's words in a page's text, or None when there is nothing to mark."""
    terms = analysis.parse((query or "")[:200]).folded_terms()
    return (lambda text: _spans(text, terms)) if terms else None


def whole(text: str, terms: set[str]) -> Markup:
    """The whole (short) text with every matching word marked: for the subject line."""
    return _marked(text, _spans(text, terms), 0, len(text))


def snippets(text: str, terms: set[str], *, limit: int = 3) -> list[Markup]:
    """Up to ``limit`` passages of the body around matching words, in document order."""
    spans = _spans(text, terms)
    found, covered_to = [], -1
    for a, b in spans:
        if a < covered_to:
            continue
        start = max(0, a - SNIPPET_CHARS)
        end = min(len(text), b + SNIPPET_CHARS)
        # Cut at word boundaries and tidy the page's line breaks.
        while start > 0 and text[start - 1].isalnum():
            start -= 1
        while end < len(text) and text[end].isalnum():
            end += 1
        body = _marked(text, spans, start, end)
        body = Markup(" ".join(str(body).split()))
        found.append(Markup("… " if start else "") + body + Markup(" …" if end < len(text)
                                                                  else ""))
        covered_to = end
        if len(found) == limit:
            break
    return found
