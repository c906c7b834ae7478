"""Snippets and marks: the accented words themselves are marked, found with or without
diacritics, across the pieces a long body is scanned in."""
from docmgr.search import highlight
from docmgr.search.analysis import parse


def terms(query: str) -> set[str]:
    return parse(query).folded_terms()


def test_marks_the_accented_words_found_without_diacritics():
    marked = highlight.whole("Quyết định về Đất đai <b>", terms("dat dai quyet"))
    assert str(marked) == ("<mark>Quyết</mark> định về <mark>Đất</mark> <mark>đai</mark> "
                           "&lt;b&gt;")
    assert str(highlight.whole("Ðất (look-alike)", terms("đất"))).startswith("<mark>Ðất</mark>")
    assert "<mark>" not in str(highlight.whole("Đại học", terms("dat")))


def test_whole_words_only():
    assert str(highlight.whole("Tân An, Antoàn", terms("an toan"))) == \
        "Tân <mark>An</mark>, Antoàn"


def test_snippets_across_piece_boundaries_equal_a_plain_scan():
    filler = "nội dung văn bản hành chính " * 400  # ~11,000 characters: several pieces
    text = filler + "bảo hiểm xã hội " + filler + "BẢO HIỂM " + filler
    found = highlight.snippets(text, terms("bao hiem"), limit=5)
    assert len(found) == 2
    assert "<mark>bảo</mark> <mark>hiểm</mark>" in str(found[0])
    assert "<mark>BẢO</mark> <mark>HIỂM</mark>" in str(found[1])
    for cut in range(highlight.CHUNK - 12, highlight.CHUNK + 12):  # a word on the boundary
        text = "x " * (cut // 2) + "hiểm họa"
        assert "<mark>hiểm</mark>" in str(highlight.snippets(text, terms("hiem"))[0]), cut


def test_marks_for_the_page_preview():
    spans = highlight.marks_for("lao động")("Người lao động và người sử dụng lao động")
    text = "Người lao động và người sử dụng lao động"
    assert [text[a:b] for a, b in spans] == ["lao", "động", "lao", "động"]
    assert highlight.marks_for("") is None
    assert highlight.marks_for("a.b")("axb") == []  # "." is not a wildcard
