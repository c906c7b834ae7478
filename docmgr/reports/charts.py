"""Bar and line charts as inline SVG, drawn on the server.

No JavaScript library and nothing fetched from the network: the page stays within the
Content-Security-Policy (presentation attributes only, no ``style``), and the printed report
carries the same charts. Each series differs by more than colour — solid, hatched or dotted
fill; solid or dashed line with round or square markers — and every bar and point is
labelled with its number, so a black-and-white print reads as well as the screen.
"""
from dataclasses import dataclass
from itertools import count

from markupsafe import Markup, escape

from docmgr.reports.formatting import number

FONT = 'font-family="Segoe UI, Noto Sans, Arial, sans-serif"'
INK, MUTED, GRID = "#1d2733", "#5d6b7a", "#dde3ea"
# fill (a colour or a pattern made in _defs), stroke, line dash, marker shape
STYLES = (
    {"colour": "#1f5fae", "fill": "solid", "dash": "", "marker": "circle"},
    {"colour": "#b3261e", "fill": "hatch", "dash": "7 4", "marker": "square"},
    {"colour": "#1e7b45", "fill": "dots", "dash": "2 3", "marker": "diamond"},
    {"colour": "#a15c00", "fill": "cross", "dash": "10 3 2 3", "marker": "triangle"},
)
MAX_BARS = 15
_ids = count(1)


@dataclass(frozen=True)
class Series:
    name: str
    values: list[int]


def _nice_step(top: int, ticks: int = 4) -> int:
    """A round step (1, 2 or 5 × 10^k) giving at most ``ticks`` gridlines up to ``top``."""
    raw = max(top, 1) / ticks
    magnitude = 1
    while magnitude * 10 <= raw:
        magnitude *= 10
    for factor in (1, 2, 5, 10):
        if factor * magnitude >= raw:
            return max(1, factor * magnitude)
    return 10 * magnitude


def _defs(prefix: str) -> str:
    parts = []
    for index, style in enumerate(STYLES):
        colour, kind = style["colour"], style["fill"]
        if kind == "hatch":
            body = (f'<rect width="6" height="6" fill="#fff"/><line x1="0" y1="0" x2="0" '
                    f'y2="6" stroke="{colour}" stroke-width="3"/>')
            transform = ' patternTransform="rotate(45)"'
        elif kind == "dots":
            body = (f'<rect width="5" height="5" fill="#fff"/>'
                    f'<circle cx="2.5" cy="2.5" r="1.4" fill="{colour}"/>')
            transform = ""
        elif kind == "cross":
            body = (f'<rect width="6" height="6" fill="#fff"/><path d="M0 0L6 6M6 0L0 6" '
                    f'stroke="{colour}" stroke-width="1.2"/>')
            transform = ""
        else:
            continue
        size = 5 if kind == "dots" else 6
        parts.append(f'<pattern id="{prefix}-p{index}" width="{size}" height="{size}" '
                     f'patternUnits="userSpaceOnUse"{transform}>{body}</pattern>')
    return f"<defs>{''.join(parts)}</defs>"


def _fill(prefix: str, index: int) -> str:
    style = STYLES[index % len(STYLES)]
    return style["colour"] if style["fill"] == "solid" else f"url(#{prefix}-p{index})"


def _legend(prefix: str, series: list[Series], y: int, *, lines: bool = False) -> str:
    parts, x = [], 10
    for index, one in enumerate(series):
        style = STYLES[index % len(STYLES)]
        if lines:
            parts.append(f'<line x1="{x}" y1="{y}" x2="{x + 26}" y2="{y}" '
                         f'stroke="{style["colour"]}" stroke-width="2.5" '
                         f'stroke-dasharray="{style["dash"]}"/>'
                         + _marker(style, x + 13, y))
        else:
            parts.append(f'<rect x="{x}" y="{y - 7}" width="26" height="14" '
                         f'fill="{_fill(prefix, index)}" stroke="{style["colour"]}"/>')
        parts.append(f'<text x="{x + 32}" y="{y + 4}" font-size="12" fill="{INK}">'
                     f'{escape(one.name)}</text>')
        x += 48 + 7 * len(one.name)
    return "".join(parts)


def _marker(style: dict, x: float, y: float) -> str:
    colour, shape = style["colour"], style["marker"]
    if shape == "square":
        return (f'<rect x="{x - 3.5:.1f}" y="{y - 3.5:.1f}" width="7" height="7" fill="#fff" '
                f'stroke="{colour}" stroke-width="2"/>')
    if shape == "diamond":
        return (f'<path d="M{x:.1f} {y - 5:.1f}L{x + 5:.1f} {y:.1f}L{x:.1f} {y + 5:.1f}'
                f'L{x - 5:.1f} {y:.1f}Z" fill="{colour}"/>')
    if shape == "triangle":
        return (f'<path d="M{x:.1f} {y - 5:.1f}L{x + 5:.1f} {y + 4:.1f}L{x - 5:.1f} {y + 4:.1f}Z" '
                f'fill="#fff" stroke="{colour}" stroke-width="1.8"/>')
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}"/>'


def _svg(prefix: str, title: str, width: int, height: int, body: str) -> Markup:
    return Markup(
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-labelledby="{prefix}-t" {FONT}>'
        f'<title id="{prefix}-t">{escape(title)}</title>{_defs(prefix)}{body}</svg>')


def _short(label: str, limit: int = 30) -> str:
    return label if len(label) <= limit else label[:limit - 1].rstrip() + "…"


def bar_chart(title: str, labels: list[str], series: list[Series], *,
              width: int = 640) -> Markup:
    """Horizontal grouped bars: one group per label, one bar per series, each labelled with
    its number. At most MAX_BARS groups (the first ones: callers pass them largest first);
    the table beside the chart has them all."""
    prefix = f"c{next(_ids)}"
    labels = labels[:MAX_BARS]
    series = [Series(s.name, s.values[:MAX_BARS]) for s in series]
    label_width, value_room, bar, gap = 190, 46, 13, 12
    plot = width - label_width - value_room
    group_height = bar * len(series) + gap
    top, height = 34, 34 + group_height * max(len(labels), 1) + 22
    peak = max([v for s in series for v in s.values] + [1])
    step = _nice_step(peak)
    scale_top = step * -(-peak // step)
    parts = [_legend(prefix, series, 14)]
    for tick in range(0, scale_top + 1, step):  # gridlines with their numbers
        x = label_width + plot * tick / scale_top
        parts.append(f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{height - 20}" '
                     f'stroke="{GRID}"/><text x="{x:.1f}" y="{height - 6}" font-size="10" '
                     f'fill="{MUTED}" text-anchor="middle">{number(tick)}</text>')
    for row, label in enumerate(labels):
        y0 = top + row * group_height
        parts.append(f'<text x="{label_width - 8}" y="{y0 + group_height / 2 - 2:.1f}" '
                     f'font-size="12" fill="{INK}" text-anchor="end">'
                     f'<title>{escape(label)}</title>{escape(_short(label))}</text>')
        for index, one in enumerate(series):
            value = one.values[row] if row < len(one.values) else 0
            y = y0 + index * bar
            length = plot * value / scale_top
            style = STYLES[index % len(STYLES)]
            parts.append(f'<rect x="{label_width}" y="{y}" width="{max(length, 0.5):.1f}" '
                         f'height="{bar - 2}" fill="{_fill(prefix, index)}" '
                         f'stroke="{style["colour"]}" stroke-width="1"/>'
                         f'<text x="{label_width + length + 4:.1f}" y="{y + bar - 3}" '
                         f'font-size="10.5" fill="{INK}">{number(value)}</text>')
    parts.append(f'<line x1="{label_width}" y1="{top - 4}" x2="{label_width}" '
                 f'y2="{height - 20}" stroke="{MUTED}"/>')
    return _svg(prefix, title, width, height, "".join(parts))


def line_chart(title: str, labels: list[str], series: list[Series], *,
               width: int = 640, height: int = 260) -> Markup:
    """Lines over time (months): solid and dashed, round and square markers; each point
    carries its number while there are few enough points to read them."""
    prefix = f"c{next(_ids)}"
    left, right, top, bottom = 46, 16, 34, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max([v for s in series for v in s.values] + [1])
    step = _nice_step(peak)
    scale_top = step * -(-peak // step)
    points = max(len(labels), 1)
    spacing = plot_w / max(points - 1, 1)

    def xy(i, value):
        x = left + (spacing * i if points > 1 else plot_w / 2)
        return x, top + plot_h - plot_h * value / scale_top

    parts = [_legend(prefix, series, 14, lines=True)]
    for tick in range(0, scale_top + 1, step):
        y = top + plot_h - plot_h * tick / scale_top
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" '
                     f'stroke="{GRID}"/><text x="{left - 6}" y="{y + 4:.1f}" font-size="10" '
                     f'fill="{MUTED}" text-anchor="end">{number(tick)}</text>')
    every = max(1, -(-points // 12))  # at most 12 labels under the axis
    for i, label in enumerate(labels):
        if i % every == 0:
            x, _ = xy(i, 0)
            parts.append(f'<text x="{x:.1f}" y="{height - bottom + 16}" font-size="10.5" '
                         f'fill="{INK}" text-anchor="middle">{escape(label)}</text>')
    with_numbers = points <= 24
    for index, one in enumerate(series):
        style = STYLES[index % len(STYLES)]
        coords = [xy(i, v) for i, v in enumerate(one.values)]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{style["colour"]}" '
                     f'stroke-width="2.2" stroke-dasharray="{style["dash"]}"/>')
        for (x, y), value in zip(coords, one.values, strict=True):
            parts.append(_marker(style, x, y))
            if with_numbers:
                dy = -7 if index % 2 == 0 else 15  # one series above its points, one below
                parts.append(f'<text x="{x:.1f}" y="{y + dy:.1f}" font-size="10" '
                             f'fill="{style["colour"]}" text-anchor="middle">'
                             f'{number(value)}</text>')
    parts.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" '
                 f'y2="{top + plot_h}" stroke="{MUTED}"/>')
    return _svg(prefix, title, width, height, "".join(parts))


# --- the page's charts, from a Report's rows ------------------------------------------------

def counts_chart(report, title: str, *, label_field: str = "label") -> Markup:
    """Incoming and outgoing per row of a report, as bars (the month report as lines)."""
    labels = [row[label_field] or row["key"] for row in report.rows]
    series = [Series("Văn bản đến", [row["incoming"] for row in report.rows]),
              Series("Văn bản đi", [row["outgoing"] for row in report.rows])]
    if report.group_by == "month":
        short = [row["key"][5:] + "/" + row["key"][2:4] for row in report.rows]
        return line_chart(title, short, series)
    return bar_chart(title, labels, series)


def handling_chart(report, title: str) -> Markup:
    """On time, late and overdue per unit or handler."""
    rows = [row for row in report.rows if row["incoming"]]
    labels = [row["label"] for row in rows]
    return bar_chart(title, labels, [
        Series("Đúng hạn", [row["on_time"] for row in rows]),
        Series("Quá hạn đã giải quyết", [row["late"] for row in rows]),
        Series("Quá hạn chưa giải quyết", [row["overdue"] for row in rows]),
    ])
