"""Vietnamese text analysis shared by every backend: normalise, fold, split, parse queries.

Both backends receive text already prepared here, so they agree on what a word is:
NFC, the look-alike Ð fixed, lower case, split on anything that is not a letter or a digit
(a Vietnamese syllable stays whole; one-letter syllables such as "ý" are kept), no stop
list. The folded form drops the diacritics and turns đ into d, so "quyet dinh" finds
"quyết định"; the exact form keeps them, so exact-diacritic matches can rank first.
"""
import re
import unicodedata
from dataclasses import dataclass, field

from docmgr.core.catalogue import fix_lookalikes

WORD = re.compile(r"\w+")
# Something a clerk types as a document's number and notation: 876/BC-VP, 55/2021/QĐ-UBND.
NOTATION = re.compile(r"^\w+(?:[/\-.]\w+)*[/\-]\w+(?:[/\-.]\w+)*$")


# Combining diacritics (U+0300–U+036F): what NFD splits off every accented Latin letter.
_MARKS = re.compile("[\u0300-\u036f]")


def normalise(text: str) -> str:
    """NFC, look-alike Đ fixed, lower case: the exact form."""
    return fix_lookalikes(unicodedata.normalize("NFC", text or "")).lower()


def fold(text: str) -> str:
    """The exact form without diacritics (đ → d)."""
    return fold_normalised(normalise(text))


def fold_normalised(exact: str) -> str:
    """``fold`` of a text already through ``normalise``. For Vietnamese (every letter has a
    precomposed form) the result has the same length, character for character, which the
    highlighter relies on; NFD + one regex is about twice as fast as a translate table."""
    return _MARKS.sub("", unicodedata.normalize("NFD", exact.replace("đ", "d")))


def words(text: str) -> list[str]:
    return WORD.findall(text)


def notation_key(notation: str) -> str:
    """How a notation is matched: folded, upper case, no spaces ("55/2021/qđ-ubnd" and
    "55/2021/QD-UBND" are the same key)."""
    return "".join(fold(notation).split()).upper()


@dataclass(frozen=True)
class Clause:
    """One thing the user asked for; every clause of a query must match.

    ``folded`` holds one token (a word) or several (a phrase, matched in order);
    ``exact`` the same tokens with their diacritics, used only to rank exact matches first;
    ``notation`` is set when the user typed a notation, which matches the notation field
    exactly or the same tokens as a phrase in the text. ``field`` says where to look:
    ``text`` (everything), ``subject`` or ``signer`` (the advanced form).
    """
    folded: tuple[str, ...]
    exact: tuple[str, ...]
    notation: str | None = None
    field: str = "text"


@dataclass(frozen=True)
class ParsedQuery:
    clauses: tuple[Clause, ...] = field(default_factory=tuple)

    @property
    def empty(self) -> bool:
        return not self.clauses

    def folded_terms(self) -> set[str]:
        return {token for clause in self.clauses for token in clause.folded}


def _clause(text: str, field_name: str, *, as_phrase: bool) -> list[Clause]:
    exact = tuple(words(normalise(text)))
    folded = tuple(words(fold(text)))
    if not folded:
        return []
    if as_phrase:
        return [Clause(folded, exact, field=field_name)]
    return [Clause((f,), (e,), field=field_name) for f, e in zip(folded, exact, strict=True)]


def parse(query: str, field_name: str = "text") -> ParsedQuery:
    """Quoted parts are phrases; a notation (876/BC-VP) is matched as a notation; every
    other word is a clause of its own (all must match)."""
    clauses: list[Clause] = []
    query = unicodedata.normalize("NFC", query or "")
    for quoted, bare in re.findall(r'"([^"]*)"?|(\S+)', query):
        if quoted:
            clauses += _clause(quoted, field_name, as_phrase=True)
        elif NOTATION.match(bare.strip(",;:()[]")):
            token = bare.strip(",;:()[]")
            base = _clause(token, field_name, as_phrase=True)
            if base:
                clauses.append(Clause(base[0].folded, base[0].exact, notation_key(token),
                                      field_name))
        else:
            clauses += _clause(bare, field_name, as_phrase=False)
    return ParsedQuery(tuple(clauses))
