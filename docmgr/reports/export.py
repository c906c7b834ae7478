"""A statistics table as CSV or XLSX, built on the shared exporters (docmgr.core.exports)."""
import io

from openpyxl import load_workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from docmgr.core import exports
from docmgr.reports.operations import GROUPS, Report

# (header, field, width, kind): kind says how the XLSX shows the value.
COLUMNS = (
    ("Mã", "key", 10, "text"),
    (None, "label", 34, "text"),  # the group's own name: "Loại văn bản", "Đơn vị"…
    ("Văn bản đến", "incoming", 12, "int"),
    ("Văn bản đi", "outgoing", 12, "int"),
    ("Văn bản đi đã ký số", "signed", 14, "int"),
    ("Tỷ lệ ký số", "signed_ratio", 12, "percent"),
    ("Giải quyết đúng hạn", "on_time", 14, "int"),
    ("Giải quyết quá hạn", "late", 14, "int"),
    ("Đang giải quyết, còn hạn", "open", 16, "int"),
    ("Quá hạn chưa giải quyết", "overdue", 16, "int"),
    ("Tỷ lệ giải quyết đúng hạn", "on_time_ratio", 16, "percent"),
)
INTEGER_FORMAT = "#,##0"
PERCENT_FORMAT = "0.00%"
TITLE_ROWS = 3  # title, subtitle, headers (docmgr.core.exports.to_xlsx)


def headers(group_by: str) -> list[str]:
    return [header or GROUPS[group_by] for header, *_ in COLUMNS]


def _csv_value(row: dict, name: str, kind: str):
    # People open the CSV in Excel: the ratios are written as they read them ("99,58%").
    return row[f"{name}_text"] if kind == "percent" else row[name]


def _xlsx_value(row: dict, name: str, kind: str):
    # A true number, shown as a percentage by the cell format: Excel can still add it up.
    if kind == "percent":
        return None if row[name] is None else row[name] / 100
    return row[name]


def _lines(report: Report, value) -> list[list]:
    lines = [[value(row, name, kind) for _, name, _, kind in COLUMNS] for row in report.rows]
    total = [value(report.totals, name, kind) for _, name, _, kind in COLUMNS]
    total[0], total[1] = "", "Tổng cộng"
    return [*lines, total]


def filename(report: Report, fmt: str) -> str:
    return (f"thong-ke-{report.group_by.replace('_', '-')}-{report.period.start:%Y%m%d}-"
            f"{report.period.end:%Y%m%d}.{fmt}")


def subtitle(report: Report) -> str:
    return (f"{report.period.label} ({report.period.range_text}); số liệu tình trạng giải quyết "
            f"tính đến ngày {report.today:%d/%m/%Y}")


def render(report: Report, fmt: str) -> tuple[bytes, str, str]:
    """(body, filename, mimetype). CSV: UTF-8 with BOM, a header line, one line per row and
    a total line. XLSX: a title row naming the organisation and the period, Vietnamese
    headers, integers with thousands separators, ratios as percentages, column widths."""
    exports.check_format(fmt)
    if fmt == "csv":
        body = exports.to_csv(headers(report.group_by), _lines(report, _csv_value))
    else:
        body = _xlsx(report)
    return body, filename(report, fmt), exports.FORMATS[fmt]


def _xlsx(report: Report) -> bytes:
    # The shared writer also names the sheet after its title, where "/" and ":" are not
    # allowed: give it a plain one, then write the real title row (organisation + period).
    plain = exports.to_xlsx("Thống kê", subtitle(report), headers(report.group_by),
                            _lines(report, _xlsx_value), [w for _, _, w, _ in COLUMNS])
    # It knows nothing of number formats either: open its workbook and add them.
    book = load_workbook(io.BytesIO(plain))
    sheet = book.active
    exports.write_cell(sheet["A1"], f"{report.org_name} — {report.title} — "
                       f"{report.period.label}")
    last_column = get_column_letter(len(COLUMNS))
    sheet.merge_cells(f"A1:{last_column}1")
    sheet.merge_cells(f"A2:{last_column}2")
    sheet["A1"].alignment = Alignment(wrap_text=True, vertical="center")
    sheet.row_dimensions[1].height = 36
    sheet.row_dimensions[TITLE_ROWS].height = 32
    first, last = TITLE_ROWS + 1, sheet.max_row
    for index, (_, _, _, kind) in enumerate(COLUMNS, start=1):
        if kind == "text":
            continue
        for row in range(first, last + 1):
            sheet.cell(row=row, column=index).number_format = (
                INTEGER_FORMAT if kind == "int" else PERCENT_FORMAT)
    for cell in sheet[last]:
        cell.font = Font(bold=True)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
