"""Tables as CSV (UTF-8 with BOM, so Excel shows Vietnamese) or XLSX (openpyxl).

Every cell goes through ``csv_cell`` or ``write_cell``: the registers carry text typed by
other organisations (a sender, a recipient, a subject), and a spreadsheet would run such
text as a formula when it starts like one (``=HYPERLINK(...)``, ``+cmd|...``, ``@SUM(...)``).
"""
import csv
import io
import itertools
from collections.abc import Iterable, Sequence

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font

from docmgr.core.errors import ValidationFailed

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise ValidationFailed("Định dạng xuất phải là csv hoặc xlsx.", field="format")
    return fmt


# What spreadsheets read as the start of a formula (OWASP "CSV injection": = + - @, and tab,
# CR, LF, which some importers skip before looking); and their full-width forms, which some
# programs fold to ASCII when parsing input: cheap to cover, no real sender starts so.
# A legitimate text starting so (the "- Như trên;" of a Nơi nhận list) only gains a mark.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def looks_like_formula(value) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def _clean(text: str) -> str:
    # Control characters XML cannot carry (openpyxl refuses them, failing the whole export)
    # and that nobody means to type; dropped first, so they cannot hide a formula either.
    return ILLEGAL_CHARACTERS_RE.sub("", text)


def csv_cell(value):
    """A CSV field that no spreadsheet will evaluate: formula-like text gets a leading
    apostrophe (a CSV has no cell types; the apostrophe is the usual, visible, escape).
    Numbers stay numbers, None an empty field."""
    if not isinstance(value, str):
        return value
    text = _clean(value)
    return "'" + text if looks_like_formula(text) else text


def write_cell(cell, value) -> None:
    """Put ``value`` into an openpyxl cell; text always as a string cell. openpyxl turns a
    string starting with "=" into a formula (and "#N/A" into an error value): forcing the
    type keeps the text exactly as typed, and quotePrefix keeps Excel from reading it as a
    formula once someone edits the cell. Numbers and dates keep their own types."""
    if not isinstance(value, str):
        cell.value = value
        return
    text = _clean(value)
    cell.value = text
    cell.data_type = "s"
    if looks_like_formula(text):
        cell.quotePrefix = True


def to_csv(headers: Sequence[str], rows: Iterable[Sequence]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([csv_cell(value) for value in headers])
    writer.writerows([csv_cell(value) for value in row] for row in rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(title: str, subtitle: str, headers: Sequence[str], rows: Iterable[Sequence],
            widths: Sequence[int] = ()) -> bytes:
    book = Workbook(write_only=False)
    sheet = book.active
    sheet.title = title[:31]
    lines = ((title,), (subtitle,), headers)
    # Worksheet.append infers types (and formulas) itself: every cell goes through write_cell.
    for number, values in enumerate(itertools.chain(lines, rows), start=1):
        for column, value in enumerate(values, start=1):
            write_cell(sheet.cell(row=number, column=column), value)
    sheet["A1"].font = Font(bold=True, size=14)
    for cell in sheet[3]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[sheet.cell(row=3, column=index).column_letter].width = width
    sheet.freeze_panes = "A4"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def render(fmt: str, *, title: str, subtitle: str, headers, rows, widths=()) -> bytes:
    if check_format(fmt) == "csv":
        return to_csv(headers, rows)
    return to_xlsx(title, subtitle, headers, rows, widths)


def register_file(fmt: str, *, title: str, org_name: str, year: int, slug: str, headers,
                  rows, widths=()) -> tuple[bytes, str, str]:
    """A year's register (sổ đăng ký) as a downloadable file: (body, filename, mimetype)."""
    body = render(fmt, title=title, subtitle=f"{org_name} — năm {year}", headers=headers,
                  rows=rows, widths=widths)
    return body, f"{slug}-{year}.{fmt}", FORMATS[fmt]
