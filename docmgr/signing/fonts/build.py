"""Rebuild NotoSerif-Regular-vi.ttf: a static Regular instance of Noto Serif (OFL, from
the PyPI package fontpkg-noto-serif), subset to Latin + Vietnamese.

pyHanko embeds a font subset in every stamp; a static 1000-unit font with only the
glyphs we need keeps stamps small and correct (see shared/NOTES.md). Run once:
``python -m docmgr.signing.fonts.build`` (needs ``pip install fontpkg-noto-serif``).
"""
import io
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont
from fontTools.varLib import instancer

TARGET = Path(__file__).with_name("NotoSerif-Regular-vi.ttf")
UNICODES = (set(range(0x20, 0x7F)) | set(range(0xA0, 0x180)) | set(range(0x1EA0, 0x1EFA))
            | set(range(0x300, 0x324)) | {0x1A0, 0x1A1, 0x1AF, 0x1B0, 0x2013, 0x2014, 0x2018,
                                          0x2019, 0x201C, 0x201D, 0x2026})


def build() -> bytes:
    import fontpkg_noto_serif
    source = TTFont(fontpkg_noto_serif.ROOT / "files" / "NotoSerif[wdth,wght].ttf")
    font = instancer.instantiateVariableFont(source, {"wght": 400, "wdth": 100})
    options = subset.Options()
    # Precomposed Vietnamese letters need no shaping: dropping GSUB/GPOS and hinting
    # makes the font several times faster for pyHanko to parse on every signature.
    options.layout_features = []
    options.drop_tables += ["GSUB", "GPOS", "GDEF"]
    options.hinting = False
    options.name_IDs = ["*"]
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=UNICODES)
    subsetter.subset(font)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


if __name__ == "__main__":
    TARGET.write_bytes(build())
    print(f"wrote {TARGET}")
