"""Tables as CSV (UTF-8 with BOM, so Excel shows Vietnamese) or XLSX (openpyxl)."""
import csv
import io
from collections.abc import Iterable, Sequence

from openpyxl import Workbook
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


def to_csv(headers: Sequence[str], rows: Iterable[Sequence]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    writer.writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(title: str, subtitle: str, headers: Sequence[str], rows: Iterable[Sequence],
            widths: Sequence[int] = ()) -> bytes:
    book = Workbook(write_only=False)
    sheet = book.active
    sheet.title = title[:31]
    sheet.append([title])
    sheet.append([subtitle])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append(list(headers))
    for cell in sheet[3]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for row in rows:
        sheet.append(list(row))
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
