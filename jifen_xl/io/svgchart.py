"""Small SVG charts for printed reports (the township report, issue 11): grouped vertical bars
and horizontal bars, drawn as plain SVG text (no dependency).

LibreOffice Writer's HTML import (how the reports become PDF, ``io.pdf.html_to_pdf``) ignores an
inline ``<svg>`` element but draws an ``<img>`` whose source is an SVG data URI, and so do
browsers: templates embed a chart with ``<img src="{{ chart.uri }}">`` (``Chart.uri``).
Measured with LibreOffice 7.4: inline SVG printed nothing, the data URI printed the chart with
its Chinese labels.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

#: Fonts for the labels: the CJK fonts LibreOffice and the clerks' Windows usually have.
FONT = "Noto Sans CJK SC, Source Han Sans SC, Microsoft YaHei, SimHei, sans-serif"
#: Series colours (print well in colour and stay apart in grey).
COLORS = ("#1f4e79", "#c55a11", "#548235", "#7f6000", "#7030a0", "#2e75b6")
AXIS, GRID, TEXT = "#404040", "#d9d9d9", "#000000"


@dataclass(frozen=True)
class Chart:
    """One chart: its SVG text, size in pixels (96 per inch) and the title (the image's alt text)."""

    svg: str
    width: int
    height: int
    title: str

    @property
    def uri(self) -> str:
        """The chart as a ``data:image/svg+xml;base64,…`` URI for an ``<img>``."""
        return "data:image/svg+xml;base64," + base64.b64encode(self.svg.encode("utf-8")).decode("ascii")


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering ``low``..``high`` (0 always included), about ``count`` of them."""
    low, high = min(low, 0.0), max(high, 0.0)
    if high - low <= 0:
        high = 1.0
    raw = (high - low) / max(count, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.floor(low / step) * step
    ticks, v = [], start
    while v < high + step * 0.999:
        ticks.append(round(v, 10) + 0.0)
        v += step
    return ticks


def _fmt(value: float) -> str:
    value = round(float(value), 6) + 0.0
    if value.is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _text(x: float, y: float, content: str, *, size: int = 11, anchor: str = "middle", bold: bool = False,
          fill: str = TEXT) -> str:
    weight = ' font-weight="bold"' if bold else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-family={quoteattr(FONT)} font-size="{size}" '
            f'text-anchor="{anchor}" fill="{fill}"{weight}>{escape(content)}</text>')


def _svg(width: int, height: int, body: list[str]) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}">'
            f'<rect x="0.5" y="0.5" width="{width - 1}" height="{height - 1}" fill="#ffffff" stroke="{GRID}"/>'
            + "".join(body) + "</svg>")


def _legend(names: Sequence[str], x: float, y: float) -> list[str]:
    out = []
    for i, name in enumerate(names):
        out.append(f'<rect x="{x:.1f}" y="{y - 9:.1f}" width="12" height="10" fill="{COLORS[i % len(COLORS)]}"/>')
        out.append(_text(x + 16, y, name, size=11, anchor="start"))
        x += 28 + 12 * len(name)
    return out


def bar_chart(categories: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]], *, title: str,
              unit: str = "", width: int = 980, height: int = 290, note: str = "") -> Chart:
    """Grouped vertical bars: one group per category (a month), one bar per series.

    :param series: (name, values) pairs; a value None is drawn as no bar (a month without figures).
    :param unit: the values' unit, shown above the axis (积分).
    :param note: a line under the chart (e.g. why a month has no bar).
    """
    left, right, top, bottom = 70, 20, 48, 46 + (16 if note else 0)
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for _, vs in series for v in vs if v is not None and not _nan(v)]
    ticks = nice_ticks(min(values, default=0.0), max(values, default=1.0))
    lo, hi = ticks[0], ticks[-1]

    def y_of(v: float) -> float:
        return top + plot_h * (hi - v) / (hi - lo)

    body = [_text(width / 2, 22, title, size=15, bold=True)]
    body += _legend([name for name, _ in series], left, 40)
    if unit:
        body.append(_text(left - 8, top - 6, unit, size=10, anchor="end"))
    for t in ticks:
        y = y_of(t)
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="{GRID}"/>')
        body.append(_text(left - 6, y + 4, _fmt(t), size=10, anchor="end"))
    n = max(len(categories), 1)
    group = plot_w / n
    bar = min(28.0, group * 0.8 / max(len(series), 1))
    zero = y_of(0.0)
    for i, cat in enumerate(categories):
        x0 = left + group * i + (group - bar * len(series)) / 2
        for j, (_, vs) in enumerate(series):
            v = vs[i] if i < len(vs) else None
            if v is None or _nan(v):
                continue
            y1, y2 = sorted((y_of(float(v)), zero))
            body.append(f'<rect x="{x0 + j * bar:.1f}" y="{y1:.1f}" width="{bar - 1:.1f}" height="{max(y2 - y1, 0.5):.1f}" '
                        f'fill="{COLORS[j % len(COLORS)]}"/>')
        body.append(_text(left + group * (i + 0.5), top + plot_h + 16, str(cat), size=10))
    body.append(f'<line x1="{left}" y1="{zero:.1f}" x2="{width - right}" y2="{zero:.1f}" stroke="{AXIS}"/>')
    body.append(f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="{AXIS}"/>')
    if note:
        body.append(_text(left, height - 10, note, size=10, anchor="start"))
    return Chart(_svg(width, height, body), width, height, title)


def hbar_chart(labels: Sequence[str], values: Sequence[float], *, title: str, unit: str = "", width: int = 980,
               color: str = COLORS[0], label_width: int = 190) -> Chart:
    """Horizontal bars, one per label (top to bottom as given), each with its value at its end."""
    row = max(13, min(22, 560 // max(len(labels), 1)))  # 40 villages still fit one landscape page
    top, bottom, right = 44, 14, 70
    height = top + bottom + row * max(len(labels), 1)
    plot_w = width - label_width - right
    ticks = nice_ticks(min(values, default=0.0), max(values, default=1.0))
    lo, hi = ticks[0], ticks[-1]

    def x_of(v: float) -> float:
        return label_width + plot_w * (v - lo) / (hi - lo)

    body = [_text(width / 2, 22, title, size=15, bold=True)]
    if unit:
        body.append(_text(width - 8, 38, unit, size=10, anchor="end"))
    for t in ticks:
        x = x_of(t)
        body.append(f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{height - bottom}" stroke="{GRID}"/>')
    zero = x_of(0.0)
    for i, (label, v) in enumerate(zip(labels, values)):
        y = top + row * i
        x1, x2 = sorted((x_of(float(v)), zero))
        body.append(f'<rect x="{x1:.1f}" y="{y + 3:.1f}" width="{max(x2 - x1, 0.5):.1f}" height="{row - 7}" fill="{color}"/>')
        size = 11 if row >= 18 else 9
        body.append(_text(label_width - 8, y + row / 2 + 4, _short(label, label_width), size=size, anchor="end"))
        body.append(_text(max(x1, x2) + 5, y + row / 2 + 4, _fmt(v), size=size - 1, anchor="start"))
    body.append(f'<line x1="{zero:.1f}" y1="{top - 4}" x2="{zero:.1f}" y2="{height - bottom}" stroke="{AXIS}"/>')
    return Chart(_svg(width, height, body), width, height, title)


def _short(label: str, room: int) -> str:
    """A label cut to fit ``room`` pixels at 11 px per character (…)."""
    fits = max(int((room - 12) / 11), 3)
    return label if len(label) <= fits else label[: fits - 1] + "…"


def _nan(v) -> bool:
    try:
        return math.isnan(float(v))
    except (TypeError, ValueError):
        return True
