"""Fill an Excel notice template (``templates/公示模板.xlsx``) into a new one-sheet workbook.

The template is a spreadsheet a clerk can edit in Excel, WPS or LibreOffice:

- a cell holding ``{{ name }}`` shows that value of the notice (``{{ title }}``,
  ``{{ h.cumulative }}`` …); a cell whose whole content is one ``{{ … }}`` keeps the value's
  type (a number stays a number, so the cell's number format applies); any other text with
  placeholders (``合计（{{ totals.households }}户）``) becomes text;
- rows to repeat once per household lie between two marker rows: a row whose only filled cell
  holds ``{% for h in households %}`` and, below the rows to repeat, a row whose only filled
  cell holds ``{% endfor %}``. The marker rows are not printed; the rows between them are
  repeated with ``h`` set to each household in turn (``loop.index`` counts 1, 2, 3 …).

The result (the "sheet image") is a new file with that one sheet: values, styles, merged
cells (shifted with the repeated rows), column widths, row heights (grown where wrapped text
needs more lines: LibreOffice does not grow them when it prints), print titles, page setup,
margins, header and footer. The clerk's workbook is never opened here (openpyxl would lose
parts of it); the writer puts the sheet image into it losslessly.
"""

from __future__ import annotations

import math
import re
from copy import copy
from dataclasses import dataclass
from pathlib import Path

import jinja2
import openpyxl
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.pagebreak import Break

from ..errors import TemplateBroken
from ..render import CELL_ENV
from . import look

_FOR = re.compile(r"\{%-?\s*for\s+([A-Za-z_]\w*)\s+in\s+(.+?)\s*-?%\}", re.S)
_FOR_LIKE = re.compile(r"\{%-?\s*for\b[^%]*-?%\}", re.S)  # a lone for tag, written right or not
_ENDFOR = re.compile(r"\{%-?\s*endfor\s*-?%\}")
_ONE_EXPR = re.compile(r"[ \t\r\n]*\{\{(?P<expr>(?:(?!\{\{|\}\}|\{%|%\}).)*)\}\}[ \t\r\n]*", re.S)  # not \s: an ideographic space is text
_DEFAULT_WIDTH = 9.0
_BASE_FONT = 11.0


@dataclass(frozen=True)
class _Block:
    """Rows ``first``..``last`` repeated for each item of ``expr`` as ``var``."""

    var: str
    expr: str
    first: int
    last: int
    start_marker: int
    end_marker: int


class _Where:
    def __init__(self, template: Path, sheet: str):
        self.prefix = f"「{template.name}」工作表「{sheet}」"

    def __call__(self, coordinate: str, what: str) -> TemplateBroken:
        return TemplateBroken(f"{self.prefix}单元格 {coordinate}：{what}")


def _filled(ws, row: int) -> list:
    return [c for c in ws[row] if c.value not in (None, "")]


def _segments(ws, where: _Where) -> list:
    """The template's rows in order: plain row numbers and ``_Block`` s."""
    out: list = []
    open_block = None
    for r in range(1, ws.max_row + 1):
        cells = _filled(ws, r)
        texts = [(c, c.value.strip()) for c in cells if isinstance(c.value, str)]
        start = [(c, t) for c, t in texts if _FOR.fullmatch(t)]
        bad = [(c, t) for c, t in texts if _FOR_LIKE.fullmatch(t) and not _FOR.fullmatch(t)]
        if bad:
            cell, text = bad[0]
            raise where(cell.coordinate, f"「{text}」写法有误：标出重复的行要写成 {{% for h in households %}}"
                                         "（for、变量名、in、列表名之间用空格隔开）。")
        end = [(c, t) for c, t in texts if _ENDFOR.fullmatch(t)]
        marker = (start or end)
        if marker and len(cells) > 1:
            cell, text = marker[0]
            other = next(c for c in cells if c is not cell)
            raise where(cell.coordinate, f"「{text}」所在的行只用来标出重复的行，不会打印，不能再有别的内容"
                                         f"（{other.coordinate} 中有「{other.value}」）。请把这些内容移到别的行。")
        if start:
            cell, text = start[0]
            if open_block is not None:
                raise where(cell.coordinate, f"重复的行里不能再套一组「{{% for %}}」（{open_block[0]} 的"
                                             f"「{{% for %}}」还没有对应的「{{% endfor %}}」）。"
                                             "请在上一组要重复的行下面先写 {% endfor %}。")
            m = _FOR.fullmatch(text)
            open_block = (cell.coordinate, r, m.group(1), m.group(2), text)
            continue
        if end:
            cell, text = end[0]
            if open_block is None:
                raise where(cell.coordinate, "「{% endfor %}」前面没有对应的「{% for … in … %}」。"
                                             "请在要重复的第一行上面一行写 {% for h in households %}，或删掉这个 {% endfor %}。")
            coord, first, var, expr, _ = open_block
            out.append(_Block(var, expr, first + 1, r - 1, first, r))
            open_block = None
            continue
        if open_block is None:
            out.append(r)
    if open_block is not None:
        coord, _, _, _, text = open_block
        raise where(coord, f"「{text}」没有对应的「{{% endfor %}}」。请在要重复的最后一行下面一行的第一个单元格"
                           "写 {% endfor %}。")
    return out


def _syntax(where: _Where, coordinate: str, text: str, exc: jinja2.TemplateSyntaxError) -> TemplateBroken:
    msg = exc.message or ""
    if "unknown tag" in msg:
        tag = re.search(r"'(\w+)'", msg)
        why = f"不认识的标记「{tag.group(1) if tag else ''}」"
    elif "end of template" in msg or "unexpected end" in msg:
        why = "缺少结束的「}}」或「%}」，或者一组「{% if %}」缺少「{% endif %}」"
    elif "unexpected '}'" in msg:
        why = "多了一个「}」，或者「{{」和「}}」不配对"
    else:
        why = "写法有误"
    return where(coordinate, f"「{text}」{why}。占位符要写成 {{{{ 名称 }}}}，例如 {{{{ title }}}}（技术信息：{msg}）。")


def _names(value) -> str:
    if isinstance(value, dict):
        return "、".join(str(k) for k in value)
    return ""


def _undefined(where: _Where, coordinate: str, text: str, exc: jinja2.UndefinedError, ctx: dict) -> TemplateBroken:
    msg = exc.message or ""
    top = re.fullmatch(r"'(\w+)' is undefined", msg)
    attr = re.fullmatch(r"'.+' (?:object )?has no attribute '(\w+)'", msg)
    if top:
        name = top.group(1)
        known = "、".join(k for k in ctx if k != "loop")
        return where(coordinate, f"「{text}」中的名称「{name}」不存在。可以用的名称有：{known}。")
    if attr:
        name = attr.group(1)
        base = re.search(r"([A-Za-z_][\w.]*)\.\s*" + re.escape(name) + r"\b", text)
        known = ""
        if base:
            try:
                known = _names(CELL_ENV.compile_expression(base.group(1), undefined_to_none=False)(**ctx))
            except jinja2.TemplateError:
                known = ""
        what = f"「{base.group(1)}」没有「{name}」这一项" if base else f"没有「{name}」这一项"
        hint = f"可以用的有：{known}。" if known else "请核对名称的拼写。"
        return where(coordinate, f"「{text}」中{what}。{hint}")
    return where(coordinate, f"「{text}」中的名称不存在（技术信息：{msg}）。请核对名称的拼写。")


class _Cell:
    """One template cell compiled once, rendered for every context."""

    def __init__(self, cell, where: _Where):
        self.coordinate, self.text, self.where = cell.coordinate, cell.value, where
        self.expr = self.template = None
        if not isinstance(cell.value, str) or ("{{" not in cell.value and "{%" not in cell.value):
            return
        try:
            one = _ONE_EXPR.fullmatch(cell.value)
            if one:
                self.expr = CELL_ENV.compile_expression(one.group("expr").strip(), undefined_to_none=False)
            else:
                self.template = CELL_ENV.from_string(cell.value)
        except jinja2.TemplateSyntaxError as exc:
            raise _syntax(where, self.coordinate, cell.value, exc) from None

    def value(self, ctx: dict):
        if self.expr is None and self.template is None:
            return self.text
        try:
            if self.expr is not None:
                value = self.expr(**ctx)
                if isinstance(value, jinja2.Undefined):
                    str(value)  # StrictUndefined raises here, naming what is missing
                return _cell_value(value)
            return self.template.render(ctx)
        except jinja2.UndefinedError as exc:
            raise _undefined(self.where, self.coordinate, self.text, exc, ctx) from None
        except jinja2.TemplateError as exc:
            raise self.where(self.coordinate, f"「{self.text}」无法生成（技术信息：{exc}）。") from None
        except _CALCULATION as exc:
            raise _calculation(self.where, self.coordinate, self.text, exc) from None


#: What a placeholder's arithmetic may raise (「{{ h.head + 1 }}」, 「{{ h.total / 0 }}」).
_CALCULATION = (TypeError, ValueError, ArithmeticError, LookupError, AttributeError)


def _calculation(where: _Where, coordinate: str, text: str, exc: Exception) -> TemplateBroken:
    if isinstance(exc, ZeroDivisionError):
        why = "除数是 0"
    elif isinstance(exc, TypeError):
        why = "把不能一起运算的值放在了一起（例如文字加数字）"
    else:
        why = "运算出错"
    return where(coordinate, f"「{text}」无法计算：{why}。请核对占位符里的运算，或改回模板原来的写法"
                             f"（技术信息：{type(exc).__name__}: {exc}）。")


def _cell_value(value):
    if value is None or isinstance(value, (str, int, float)) or hasattr(value, "year"):
        return value
    return str(value)


def _items(ws, block: _Block, ctx: dict, where: _Where) -> list:
    coordinate = next(c.coordinate for c in _filled(ws, block.start_marker))
    text = next(c.value for c in _filled(ws, block.start_marker))
    try:
        items = CELL_ENV.compile_expression(block.expr, undefined_to_none=False)(**ctx)
        if isinstance(items, jinja2.Undefined):
            str(items)
    except jinja2.UndefinedError as exc:
        raise _undefined(where, coordinate, text.strip(), exc, ctx) from None
    except jinja2.TemplateError as exc:
        raise _syntax(where, coordinate, text.strip(), exc) if isinstance(exc, jinja2.TemplateSyntaxError) \
            else where(coordinate, f"「{text.strip()}」无法生成（技术信息：{exc}）。") from None
    except _CALCULATION as exc:
        raise _calculation(where, coordinate, text.strip(), exc) from None
    if isinstance(items, (str, dict)) or not hasattr(items, "__iter__"):
        raise where(coordinate, f"「{text.strip()}」中的「{block.expr}」不是可以逐项重复的列表，"
                                "例如 {% for h in households %}。")
    return list(items)


def fill_template(template: str | Path, data: dict, out: str | Path, *, keep_last: int = 0,
                  hide_tail: bool = False, paginate: bool = False) -> Path:
    """Fill the first sheet of ``template`` with ``data`` into the new one-sheet file ``out``.

    :param template: the notice template (.xlsx).
    :param data: the notice (``core.notice.notice_data``).
    :param out: the sheet image to write (.xlsx); replaced if it exists.
    :param keep_last: start a new page (a manual page break) before the last ``keep_last``
        repetitions of the last repeated block, so that they print on the page of the rows below
        the block (totals, signature block) — ``io.pdf.notice_to_pdf`` asks for it when those rows
        would otherwise stand alone on the last page.
    :param hide_tail: hide the rows below the last repeated block (to measure the pages the
        table alone takes).
    :param paginate: break the pages here (manual page breaks), for a sheet of several tables:
        pages break only at a blank row or between two repetitions of a block (never within its
        first or last ``KEEP_ROWS``), and a block that runs onto a new page gets its header row
        (the row right above its ``{% for %}`` marker) again at the top of that page. See
        ``plan_pages``.
    :raises TemplateBroken: a placeholder, marker or merged cell the template cannot be filled
        with; the message names the template file, sheet and cell.
    """
    template, out = Path(template), Path(out)
    try:
        wb = openpyxl.load_workbook(template)
    except FileNotFoundError:
        raise TemplateBroken(f"找不到公示模板「{template}」。请核对文件名和所在文件夹。") from None
    except Exception as exc:  # noqa: BLE001 - any failure to open is the clerk's broken file
        raise TemplateBroken(f"公示模板「{template.name}」无法打开（{type(exc).__name__}）。"
                             "请确认它是用 Excel、WPS 或 LibreOffice 保存的 .xlsx 文件。") from None
    src = wb.worksheets[0]
    where = _Where(template, src.title)
    segments = _segments(src, where)
    rows = [r for seg in segments for r in ([seg] if isinstance(seg, int) else range(seg.first, seg.last + 1))]
    compiled = {r: [_Cell(c, where) for c in src[r]] for r in rows}  # marker rows are not cells
    breaks: dict = {}
    if paginate:
        # fill once to learn the rows' heights, then again with the page breaks
        trial = wb.create_sheet("~trial")
        done = _fill(src, trial, segments, compiled, data, where, {})
        _merge(src, trial, segments, done.copies, where)
        _columns(src, trial)
        _heights(src, trial, done.copies)
        heights = {at: _row_height(src, trial, at) for _r, at in done.copies}
        headers = {r: heights[at] for r, at in done.copies}
        rows = [(key, heights[at], headers.get(key[-1]) if key[0] == "rep" else None) for key, at in done.trace]
        breaks = plan_pages(rows, page_points(src))
        wb.remove(trial)
    dst = wb.create_sheet("~filled")
    filled = _fill(src, dst, segments, compiled, data, where, breaks)
    row_map, copies, starts, tail = filled.row_map, filled.copies, filled.starts, filled.tail
    _merge(src, dst, segments, copies, where)
    _columns(src, dst)
    _heights(src, dst, copies)
    _page(src, dst, row_map, where)
    for at in filled.breaks:
        dst.row_breaks.append(Break(id=at - 1))
    if hide_tail:
        for at in tail:
            dst.row_dimensions[at].hidden = True
    if 0 < keep_last < len(starts):
        dst.row_breaks.append(Break(id=starts[-keep_last] - 1))
    for ws in list(wb.worksheets):
        if ws is not dst:
            wb.remove(ws)
    for name in list(wb.defined_names):
        del wb.defined_names[name]
    dst.title = src.title
    wb.active = 0
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return out


@dataclass
class _Filled:
    row_map: dict  # template row -> output row (plain rows; their first copy)
    copies: list  # (template row, output row), in order
    starts: list  # output row of each repetition of the last block
    tail: list  # output rows below the last block
    trace: list  # (key, output row) of each row the template makes, see ``plan_pages``
    breaks: list  # output rows that begin a page (manual breaks)


def _fill(src, dst, segments, compiled, data: dict, where: _Where, breaks: dict) -> _Filled:
    """Write the template's rows into ``dst``; ``breaks`` (from ``plan_pages``): before the
    row at a position of the trace, a page break and, where it names one, the header row again."""
    done = _Filled({}, [], [], [], [], [])
    at = 1

    def emit(r: int, ctx: dict, key: tuple) -> None:
        nonlocal at
        position = len(done.trace)
        if position in breaks:
            done.breaks.append(at)
            header = breaks[position]
            if header is not None:
                _copy_row(src, dst, compiled[header], header, at, data)
                done.copies.append((header, at))
                at += 1
        _copy_row(src, dst, compiled[r], r, at, ctx)
        done.copies.append((r, at))
        done.trace.append((key, at))
        at += 1

    for b, seg in enumerate(segments):
        if isinstance(seg, int):
            emit(seg, data, ("plain", all(c.value in (None, "") for c in src[seg]), seg))
            done.row_map.setdefault(seg, at - 1)
            done.tail.append(at - 1)
            continue
        items = _items(src, seg, data, where)
        size = seg.last - seg.first + 1
        header = seg.start_marker - 1 if b and isinstance(segments[b - 1], int) and segments[b - 1] == seg.start_marker - 1 \
            else None
        done.starts, done.tail = [], []
        for i, item in enumerate(items):
            ctx = {**data, seg.var: item,
                   "loop": {"index": i + 1, "index0": i, "first": i == 0, "last": i == len(items) - 1,
                            "length": len(items)}}
            done.starts.append(at + (1 if len(done.trace) in breaks and breaks[len(done.trace)] is not None else 0))
            for r in range(seg.first, seg.last + 1):
                emit(r, ctx, ("rep", r == seg.first, i, len(items), size, header))
    return done


#: Repetitions of a block kept together at its top and at its bottom when the pages are planned
#: (no page holds a header and one row, nor one row and the totals under it).
KEEP_ROWS = 2
#: The share of the computed page height the planned pages fill: LibreOffice, Excel and WPS
#: measure rows a little differently; a planned page never overflows into one of their own breaks.
PAGE_SAFETY = 0.94
#: Paper sizes (points, portrait) by Excel's paperSize code: A4, letter.
_PAPER = {9: (595.3, 841.9), 1: (612.0, 792.0)}


def _row_height(src, ws, at: int) -> float:
    dim = ws.row_dimensions[at] if at in ws.row_dimensions else None
    if dim is not None and dim.height:
        return float(dim.height)
    return float(src.sheet_format.defaultRowHeight or look.ROW_POINTS)


def page_points(src) -> float:
    """Height (points, at the sheet's own scale) a printed page holds, from the template's page
    setup: paper, orientation, margins, fit to width (the print titles' rows are taken off)."""
    width, height = _PAPER.get(src.page_setup.paperSize or 9, _PAPER[9])
    if src.page_setup.orientation == "landscape":
        width, height = height, width
    m = src.page_margins
    usable_w, usable_h = width - 72 * (m.left + m.right), height - 72 * (m.top + m.bottom)
    scale = (src.page_setup.scale or 100) / 100
    fit = src.sheet_properties.pageSetUpPr is not None and src.sheet_properties.pageSetUpPr.fitToPage
    if fit and src.page_setup.fitToWidth:
        # an Excel column of width w is about 7w + 5 pixels at 96 dpi
        sheet_w = sum(0.75 * (7 * _width(src, c) + 5) for c in range(1, max(1, src.max_column) + 1))
        scale = min(1.0, usable_w / sheet_w)
    titles = 0.0
    if src.print_title_rows:
        first, last = (int(x.strip("$")) for x in src.print_title_rows.split(":"))
        titles = sum(_row_height(src, src, r) for r in range(first, last + 1))
    return usable_h / scale * PAGE_SAFETY - titles


def plan_pages(rows: list[tuple], page: float) -> dict[int, int | None]:
    """Where the pages of a filled sheet break.

    :param rows: per output row, in order: (key, height, header height) — key ``("plain",
        blank, template row)`` or ``("rep", first row of its repetition, index, count, rows per
        repetition, header template row or None)``.
    :param page: the points a page holds.
    :returns: position (in ``rows``) of the first row of each new page -> the template row to
        print again above it (the block's header), or None.

    A page may break after a blank row, or between two repetitions of a block, outside its
    first and last ``KEEP_ROWS``; the rows between such places stay on one page.
    """
    units: list[list] = []  # [first position, height, header row, header height]
    for p, (key, height, header_height) in enumerate(rows):
        previous = rows[p - 1][0] if p else None
        after_blank = previous is not None and previous[0] == "plain" and previous[1]
        between = key[0] == "rep" and key[1] and KEEP_ROWS <= key[2] <= key[3] - KEEP_ROWS
        if not units or after_blank or between:
            header = key[5] if between else None
            units.append([p, 0.0, header, header_height if header is not None else 0.0])
        units[-1][1] += height
    out: dict[int, int | None] = {}
    used = 0.0
    for first, height, header, header_height in units:
        if used > 0 and used + height > page:
            out[first] = header
            used = header_height
        used += height
    return out


def _copy_row(src, dst, cells: list[_Cell], r: int, at: int, ctx: dict) -> None:
    for cell, template_cell in zip(src[r], cells):
        value = template_cell.value(ctx)
        target = dst.cell(at, cell.column)
        if value not in (None, ""):
            target.value = value
        if cell.has_style:
            target._style = copy(cell._style)


def _merge(src, dst, segments, copies, where: _Where) -> None:
    """Merged cells follow their rows: in a repeated block once per repetition."""
    outputs: dict[int, list[int]] = {}
    for r, at in copies:
        outputs.setdefault(r, []).append(at)
    blocks = [s for s in segments if not isinstance(s, int)]
    for rng in src.merged_cells.ranges:
        c1, r1, c2, r2 = rng.min_col, rng.min_row, rng.max_col, rng.max_row
        inside = [b for b in blocks if b.first <= r1 and r2 <= b.last]
        crossing = [b for b in blocks if not inside and (r1 <= b.end_marker and r2 >= b.start_marker)]
        if crossing:
            raise where(rng.coord.split(":")[0], f"合并单元格 {rng.coord} 跨过了重复行的标记行（第 "
                                                 f"{crossing[0].start_marker} 行或第 {crossing[0].end_marker} 行）。"
                                                 "请取消这个合并，或让它完全在重复的行之内或之外。")
        if inside:
            height = r2 - r1
            for at in outputs.get(r1, []):
                dst.merge_cells(start_row=at, start_column=c1, end_row=at + height, end_column=c2)
        else:
            # a one-row merge follows every copy of its row (a header row printed again on a new page)
            for at in (outputs[r1] if r1 == r2 else outputs[r1][:1]):
                dst.merge_cells(start_row=at, start_column=c1, end_row=at + (r2 - r1), end_column=c2)


def _columns(src, dst) -> None:
    for key, dim in src.column_dimensions.items():
        target = dst.column_dimensions[key]
        target.width, target.hidden = dim.width, dim.hidden
        target.min, target.max = dim.min, dim.max
    dst.sheet_format = copy(src.sheet_format)
    dst.sheet_view.showGridLines = src.sheet_view.showGridLines


def _width(ws, col: int) -> float:
    dim = ws.column_dimensions.get(get_column_letter(col))
    return dim.width if dim is not None and dim.width else _DEFAULT_WIDTH


def _heights(src, dst, copies) -> None:
    """Each output row as high as its template row, or higher where wrapped text needs lines."""
    spans = {}
    for rng in dst.merged_cells.ranges:
        spans[(rng.min_row, rng.min_col)] = (rng.min_col, rng.max_col, rng.max_row - rng.min_row + 1)
    default = src.sheet_format.defaultRowHeight or look.ROW_POINTS
    for r, at in copies:
        base = src.row_dimensions[r].height if r in src.row_dimensions else None
        need = 0.0
        for cell in dst[at]:
            if not isinstance(cell.value, str) or not (cell.alignment and cell.alignment.wrap_text):
                continue
            c1, c2, rows = spans.get((at, cell.column), (cell.column, cell.column, 1))
            width = sum(_width(dst, c) for c in range(c1, c2 + 1))
            size = float(cell.font.sz or _BASE_FONT) if cell.font is not None else _BASE_FONT
            # a bigger font takes more width per character and more height per line
            lines = int(look.text_lines([cell.value], width * _BASE_FONT / size)[0])
            need = max(need, (lines * look.LINE_POINTS * size / _BASE_FONT + look.ROW_PADDING) / rows)
        height = max(base or default, math.ceil(need)) if need else base
        if height:
            dst.row_dimensions[at].height = min(height, look.MAX_ROW_POINTS)


def _page(src, dst, row_map: dict[int, int], where: _Where) -> None:
    """Page setup, margins, header and footer, print options and print titles."""
    for attr in ("orientation", "paperSize", "fitToWidth", "fitToHeight", "scale", "firstPageNumber",
                 "useFirstPageNumber", "horizontalDpi", "verticalDpi"):
        setattr(dst.page_setup, attr, getattr(src.page_setup, attr))
    dst.sheet_properties.pageSetUpPr = copy(src.sheet_properties.pageSetUpPr)
    dst.page_margins = copy(src.page_margins)
    dst.print_options = copy(src.print_options)
    dst.HeaderFooter = copy(src.HeaderFooter)
    titles = src.print_title_rows
    if titles:
        first, last = (int(x.strip("$")) for x in titles.split(":"))
        if first not in row_map or last not in row_map:
            raise where(f"A{first}", f"打印标题行（第 {first}—{last} 行）落在重复的行或标记行里。"
                                     "请在“页面布局 → 打印标题”中改选表头所在的行。")
        dst.print_title_rows = f"{row_map[first]}:{row_map[last]}"
    if src.print_title_cols:
        dst.print_title_cols = src.print_title_cols
    last_col = get_column_letter(max(1, src.max_column))
    dst.print_area = f"A1:{last_col}{max(1, dst.max_row)}"

