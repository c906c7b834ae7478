"""How signatures look (ND30 Phụ lục I): images for personal signatures and seals,
plain black text for attachments and electronic copies, all with an embedded font
that has every Vietnamese glyph."""
import hashlib
import io
import math
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont
from pyhanko.pdf_utils import content, generic, images, layout, text
from pyhanko.pdf_utils.font.opentype import GlyphAccumulatorFactory
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.stamp import StaticStampStyle, TextStampStyle

FONT_PATH = Path(__file__).with_name("fonts") / "NotoSerif-Regular-vi.ttf"
TEXT_SIZE = 10  # ND30: size 10, black, for text-only signatures
MM = 72 / 25.4  # points per millimetre
SIGNATURE_BLUE = (17, 45, 160, 255)
SEAL_RED = (206, 17, 38, 255)

_CENTRED = layout.SimpleBoxLayoutRule(
    x_align=layout.AxisAlignment.ALIGN_MID, y_align=layout.AxisAlignment.ALIGN_MID,
    inner_content_scaling=layout.InnerScaling.SHRINK_TO_FIT, margins=layout.Margins(1, 1, 1, 1))


@lru_cache(maxsize=4)
def font_factory(size: float) -> GlyphAccumulatorFactory:
    """Loading and subsetting a font costs far more than signing: do it once per size.
    The accumulator's size must equal the text style's size or lines drift."""
    return GlyphAccumulatorFactory(str(FONT_PATH), font_size=size)


@dataclass(frozen=True)
class _EncodedImage:
    """A picture as PDF image data, Flate-compressed once: colour and alpha (SMask)."""
    width: int
    height: int
    colour: bytes
    alpha: bytes

    def write(self, writer) -> generic.IndirectObject:
        def stream(data: bytes, space: str, smask=None):
            entries = {pdf_name("/Type"): pdf_name("/XObject"),
                       pdf_name("/Subtype"): pdf_name("/Image"),
                       pdf_name("/Width"): generic.NumberObject(self.width),
                       pdf_name("/Height"): generic.NumberObject(self.height),
                       pdf_name("/ColorSpace"): pdf_name(space),
                       pdf_name("/BitsPerComponent"): generic.NumberObject(8),
                       pdf_name("/Filter"): pdf_name("/FlateDecode")}
            if smask is not None:
                entries[pdf_name("/SMask")] = smask
            return writer.add_object(generic.StreamObject(entries, encoded_data=data))
        return stream(self.colour, "/DeviceRGB", stream(self.alpha, "/DeviceGray"))


_ENCODED: dict[str, _EncodedImage] = {}
_ENCODED_MAX = 64


def _encode(picture: Image.Image) -> _EncodedImage:
    """Compress a picture once per process (keyed by its pixels)."""
    digest = hashlib.sha1(picture.tobytes()).hexdigest()
    encoded = _ENCODED.get(digest)
    if encoded is None:
        encoded = _EncodedImage(picture.width, picture.height,
                                zlib.compress(picture.convert("RGB").tobytes()),
                                zlib.compress(picture.getchannel("A").tobytes()))
        if len(_ENCODED) >= _ENCODED_MAX:
            _ENCODED.pop(next(iter(_ENCODED)))
        _ENCODED[digest] = encoded
    return encoded


class _PrecompressedImage(images.PdfImage):
    """pyHanko's PdfImage recompresses the picture for every signature (tens of ms for a
    seal); this one reuses the compressed data."""

    def __init__(self, picture: Image.Image):
        picture = picture.convert("RGBA") if picture.mode != "RGBA" else picture
        super().__init__(picture)
        self._encoded = _encode(picture)

    @property
    def image_ref(self) -> generic.IndirectObject:
        ref = self._image_ref
        if ref is None or ref.get_pdf_handler() is not self.writer:
            self._image_ref = ref = self._encoded.write(self.writer)
        return ref


def image_style(picture: Image.Image) -> StaticStampStyle:
    """A stamp that is just the picture (transparency kept), centred in its box."""
    return StaticStampStyle(background=_PrecompressedImage(picture), border_width=0,
                            background_layout=_CENTRED, background_opacity=1.0)


def _flush_left(y_align) -> layout.SimpleBoxLayoutRule:
    # pyHanko's default text box adds 10 pt of margin, shrinking small stamps' text.
    return layout.SimpleBoxLayoutRule(x_align=layout.AxisAlignment.ALIGN_MIN, y_align=y_align,
                                      margins=layout.Margins(2, 2, 1, 1))


def _text_box(size: float) -> text.TextBoxStyle:
    return text.TextBoxStyle(font=font_factory(size), font_size=size,
                             leading=round(size * 1.25),
                             box_layout_rule=_flush_left(layout.AxisAlignment.ALIGN_MAX))


def text_style(size: float = TEXT_SIZE) -> TextStampStyle:
    return TextStampStyle(stamp_text="%(lines)s", border_width=0,
                          text_box_style=_text_box(size),
                          inner_content_layout=_flush_left(layout.AxisAlignment.ALIGN_MAX))


def field_text_style(size: float, width: float, height: float) -> TextStampStyle:
    """Number and date filled into their fields, on white, so that a printed placeholder
    such as "Số:    /QĐ-UBND" is covered by the real value."""
    white = content.RawContent(b"1 g 0 0 %g %g re f" % (width, height),
                               box=layout.BoxConstraints(width=width, height=height))
    return TextStampStyle(
        stamp_text="%(value)s", border_width=0, background=white, background_opacity=1.0,
        background_layout=layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MIN, y_align=layout.AxisAlignment.ALIGN_MIN,
            margins=layout.Margins(0, 0, 0, 0)),
        text_box_style=_text_box(size),
        inner_content_layout=_flush_left(layout.AxisAlignment.ALIGN_MID))


def load_png(data: bytes) -> Image.Image:
    picture = Image.open(io.BytesIO(data))
    picture.load()
    return picture.convert("RGBA")


def png_bytes(picture: Image.Image) -> bytes:
    out = io.BytesIO()
    picture.save(out, format="PNG", optimize=True)
    return out.getvalue()


@lru_cache(maxsize=256)
def generated_signature(full_name: str) -> Image.Image:
    """A tasteful stand-in when the person has not uploaded a handwritten signature:
    the name in blue, slanted like handwriting, with an underline flourish."""
    font = ImageFont.truetype(str(FONT_PATH), 96)
    left, top, right, bottom = font.getbbox(full_name)
    width, height = right - left + 120, bottom - top + 120
    canvas = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(canvas)
    draw.text((60 - left, 30 - top), full_name, font=font, fill=SIGNATURE_BLUE)
    shear = 0.25
    canvas = canvas.transform((int(width + height * shear), height), Image.Transform.AFFINE,
                              (1, shear, -height * shear, 0, 1, 0), Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(canvas)
    base = height - 35
    points = [(40 + i * (canvas.width - 80) / 40,
               base - 10 * math.sin(i / 40 * math.pi * 1.5)) for i in range(41)]
    draw.line(points, fill=SIGNATURE_BLUE, width=5, joint="curve")
    return canvas.crop(canvas.getbbox())


def generated_seal(org_name: str, size_px: int = 600) -> Image.Image:
    """A round red seal with the organisation's name around the rim (demo and tests;
    real offices upload a scan of their seal)."""
    canvas = Image.new("RGBA", (size_px, size_px), (0, 0, 0, 0))
    draw = ImageDraw.Draw(canvas)
    centre = size_px / 2
    draw.ellipse([8, 8, size_px - 8, size_px - 8], outline=SEAL_RED, width=16)
    draw.ellipse([size_px * .22, size_px * .22, size_px * .78, size_px * .78],
                 outline=SEAL_RED, width=6)
    font = ImageFont.truetype(str(FONT_PATH), int(size_px * .075))
    label = org_name.upper()
    radius = size_px * .36
    sweep = min(300.0, 9.5 * len(label))
    for index, char in enumerate(label):
        angle = math.radians(-90 - sweep / 2 + sweep * (index + .5) / len(label))
        glyph = Image.new("RGBA", (int(size_px * .12),) * 2, (0, 0, 0, 0))
        ImageDraw.Draw(glyph).text((glyph.width / 2, glyph.height / 2), char, font=font,
                                   fill=SEAL_RED, anchor="mm")
        glyph = glyph.rotate(-math.degrees(angle) - 90, resample=Image.Resampling.BICUBIC)
        x = centre + radius * math.cos(angle) - glyph.width / 2
        y = centre + radius * math.sin(angle) - glyph.height / 2
        canvas.alpha_composite(glyph, (int(x), int(y)))
    star = [(centre + r * math.cos(math.radians(-90 + k * 36)),
             centre + r * math.sin(math.radians(-90 + k * 36)))
            for k, r in enumerate([size_px * .16 if k % 2 == 0 else size_px * .065
                                   for k in range(10)])]
    draw.polygon(star, fill=SEAL_RED)
    return canvas
