"""A readable text dump of an .xlsx sheet: what a golden file compares (values, styles, merged
cells, widths, heights, print setup), independent of the zip's bytes and timestamps."""

from __future__ import annotations

from pathlib import Path

import openpyxl


def _font(f) -> str:
    return f"font={f.name}/{f.sz:g}{'/b' if f.b else ''}/cs{f.charset}" if f is not None and f.name else ""


def _style(c) -> str:
    parts = [_font(c.font)]
    if c.fill is not None and c.fill.fill_type:
        parts.append(f"fill={c.fill.fgColor.rgb}")
    sides = "".join(k[0] for k in ("left", "right", "top", "bottom") if getattr(c.border, k).style)
    if sides:
        parts.append(f"border={sides}")
    a = c.alignment
    if a is not None and (a.horizontal or a.vertical or a.wrap_text or a.indent):
        parts.append(f"align={a.horizontal or ''}/{a.vertical or ''}{'/wrap' if a.wrap_text else ''}"
                     f"{f'/indent{a.indent:g}' if a.indent else ''}")
    if c.number_format != "General":
        parts.append(f"fmt={c.number_format}")
    return " ".join(p for p in parts if p)


def dump(path: str | Path, sheet: int = 0) -> str:
    """The sheet as lines of text."""
    ws = openpyxl.load_workbook(path).worksheets[sheet]
    lines = [f"sheet {ws.title}"]
    for key in sorted(ws.column_dimensions, key=lambda k: (len(k), k)):
        dim = ws.column_dimensions[key]
        if dim.width:
            lines.append(f"col {key} width={dim.width:g}")
    for r in range(1, ws.max_row + 1):
        height = ws.row_dimensions[r].height if r in ws.row_dimensions else None
        lines.append(f"row {r}" + (f" height={height:g}" if height else ""))
        for c in ws[r]:
            style = _style(c) if c.has_style else ""
            if c.value is not None or style:
                lines.append(f"  {c.coordinate} {c.value!r} {style}".rstrip())
    lines.append("merged " + " ".join(sorted((str(m) for m in ws.merged_cells.ranges),
                                             key=lambda s: (int("".join(ch for ch in s.split(":")[0] if ch.isdigit())), s))))
    ps = ws.page_setup
    lines.append(f"page paper={ps.paperSize} orientation={ps.orientation} fitToWidth={ps.fitToWidth} "
                 f"fitToHeight={ps.fitToHeight} fitToPage={ws.sheet_properties.pageSetUpPr.fitToPage}")
    m = ws.page_margins
    lines.append(f"margins l={m.left:g} r={m.right:g} t={m.top:g} b={m.bottom:g} h={m.header:g} f={m.footer:g} "
                 f"hcentered={ws.print_options.horizontalCentered}")
    lines.append(f"print_titles={ws.print_title_rows} print_area={ws.print_area}")
    lines.append(f"footer={ws.oddFooter.center.text!r} font={ws.oddFooter.center.font} size={ws.oddFooter.center.size}")
    lines.append(f"gridlines={ws.sheet_view.showGridLines}")
    return "\n".join(lines) + "\n"


def book_table(path: Path, spec) -> list[dict]:
    """A township sheet's table (header on row 1, the spec's columns from column A), by header,
    down to the first blank row."""
    wb = openpyxl.load_workbook(path, data_only=True)
    rows = list(wb[spec.name].iter_rows(values_only=True))
    wb.close()
    header = [str(h) for h in rows[0][:len(spec.columns)]]
    assert header == spec.headers
    out = []
    for r in rows[1:]:
        if all(v is None for v in r[:len(spec.columns)]):
            break
        out.append(dict(zip(header, r)))
    return out
