"""The township workbook (乡镇积分汇总): written whole by the toolkit from ``core.township``'s tables.

The file is wholly the toolkit's output, so it is made with openpyxl and replaced atomically
(a backup of the previous one in ``备份/``), except the officer's 评优规则: read back from the
file before it is replaced, used for the candidates and written again. Charts are native Excel
charts (openpyxl.chart); LibreOffice and WPS draw them from the cells.

Layout (sheet names, headers, widths, number formats, tables) comes from ``schema.TOWNSHIP_SHEETS``;
a district's workbook (``district import``) is the same at ``schema.LEVEL_DISTRICT`` (``schema.level_sheets``).
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.filters import AutoFilter
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.table import Table, TableColumn, TableStyleInfo

from .. import safefile
from .. import schema as S
from ..core.awards import award_candidates, default_award_rules, parse_award_rules
from ..core.clean import ROW
from ..core.problems import Report
from ..core.township import KEY_DISTRICT, KEY_TOWNSHIP, KEY_YEAR, TownshipTables, consolidate, township_tables
from ..errors import ValidationFailed, WorkbookLocked, WriteFailed, WriteRefused
from . import look

#: Chart sizes (cm) and the rows one chart takes below its anchor (with a spare row).
CHART_WIDTH, CHART_HEIGHT, CHART_ROWS = 22.0, 8.5, 15
#: Rows between two blocks of one sheet.
GAP_ROWS = 2
#: The label above 校验汇总's findings block.
FINDINGS_LABEL = "各文件的前几条校验发现（完整清单见各村工作簿的“校验结果”）"
NO_FINDINGS = "各文件均没有错误或警告"
NO_DEDUCTIONS = "本年各村没有已确认的扣分"


@dataclass
class BookWritten:
    """What ``write_township_book`` did: the file, and the backup of the one it replaced (or None)."""

    path: Path
    backup: Path | None


# --- checks before any work ------------------------------------------------------------------------


def _is_township_book(path: Path) -> bool:
    try:
        wb = openpyxl.load_workbook(path, read_only=True)
    except Exception:  # noqa: BLE001 - anything unreadable is not the toolkit's township workbook
        return False
    try:
        return S.TOWNSHIP_SUMMARY.name in {n.strip() for n in wb.sheetnames}
    finally:
        wb.close()


def check_output(path: str | Path, level: S.Level = S.LEVEL_TOWNSHIP, *, macros: bool = True) -> None:
    """Refuse, before the import's work, an output the township workbook cannot be written to:
    not ``.xlsx`` / ``.xlsm``, open in Excel/WPS/LibreOffice (its lock file beside it), an existing file
    that is not a township workbook made by the toolkit (a village's workbook, say), a folder
    that does not exist or cannot be written. ``macros=False``: an ``.xlsm`` is refused too (the
    district's workbook has no button of its own)."""
    p = Path(path)
    if p.suffix.lower() == ".xlsm" and not macros:
        raise WriteRefused(f"汇总工作簿「{p.name}」必须保存为 .xlsx 文件（只有乡镇汇总工作簿带按钮），"
                           "请把输出文件名改为以 .xlsx 结尾。")
    if p.suffix.lower() not in (".xlsx", ".xlsm"):
        raise WriteRefused(f"汇总工作簿「{p.name}」必须保存为 .xlsx 文件（带按钮的为 .xlsm），请把输出文件名改为以 .xlsx 结尾。")
    for lock, who in safefile.lock_files(p):
        raise WorkbookLocked(f"汇总工作簿「{p.name}」正被 {who} 打开（同一文件夹里有锁定文件「{lock.name}」），"
                             f"工具没有写入。请先关闭它再导入；如果确认没有打开，可以删除锁定文件「{lock.name}」后重试。")
    if p.exists() and (not p.is_file() or not _is_township_book(p)):
        raise WriteRefused(f"「{p}」已存在，但不是工具生成的{level.book}（没有“{S.TOWNSHIP_SUMMARY.name}”工作表），"
                           "为避免覆盖别的文件，工具没有写入。请换一个输出文件名，或先把这个文件移走。")
    folder = p.parent if str(p.parent) else Path(".")
    if not folder.is_dir():
        raise WriteRefused(f"保存汇总工作簿的文件夹「{folder}」不存在，请先建好文件夹或换一个位置。")


# --- 评优规则 read back ---------------------------------------------------------------------------------


def read_award_rules(path: str | Path, level: S.Level = S.LEVEL_TOWNSHIP) -> pd.DataFrame | None:
    """The 评优规则 the officer keeps in an existing township workbook, typed (fields of
    ``schema.AWARD_RULES``), or None when there is none to keep (no file yet, no such sheet, or
    the sheet holds no rule: the defaults apply).

    :raises ValidationFailed: a rule row is wrong; the message names the sheet, the row, the
        column and the fix of every problem, and nothing is written.
    """
    p = Path(path)
    if not p.is_file():
        return None
    check_output(p, level)
    spec = S.level_spec(S.AWARD_RULES, level)
    wb = openpyxl.load_workbook(p, read_only=True, data_only=True)
    try:
        names = {n.strip(): n for n in wb.sheetnames}
        if spec.name not in names:
            return None
        rows = [list(r) for r in wb[names[spec.name]].iter_rows(values_only=True)]
    finally:
        wb.close()
    return award_rules_from_rows(rows, p.name, level)


def award_rules_from_rows(rows: list[list], book: str, level: S.Level = S.LEVEL_TOWNSHIP) -> pd.DataFrame | None:
    """The 评优规则 of the sheet whose cells are ``rows`` (from A1; an empty cell None or ""), as
    ``read_award_rules`` returns them: the one parser of both the file (``read_award_rules``) and a
    workbook open in Excel (the 导入各村台账 button reads the sheet in one block).

    :param book: the workbook's name, as the messages name it.
    :raises ValidationFailed: a rule row is wrong (the message names the sheet, the row, the
        column and the fix of every problem).
    """
    spec = S.level_spec(S.AWARD_RULES, level)
    rows = [[None if v == "" else v for v in r] for r in rows]

    def texts(row) -> list[str]:
        return [str(v).strip() if v is not None else "" for v in row]

    header_at = next((i for i, r in enumerate(rows[:10]) if spec.header_of("award") in texts(r)), None)
    if header_at is None:
        return None
    header = texts(rows[header_at])
    where = {c.field: header.index(c.header) for c in spec.columns if c.header in header}
    lacking = [c.header for c in spec.columns if c.required and c.field not in where]
    if lacking:
        raise ValidationFailed(
            None, f"「{book}」的“{spec.name}”工作表第 {header_at + 1} 行缺少列“{'”“'.join(lacking)}”，汇总工作簿没有写入。"
            f"请把列标题改回“{'”“'.join(spec.headers)}”，或删除整个“{spec.name}”工作表以恢复默认规则。")
    body = rows[header_at + 1:]
    raw = pd.DataFrame({f: pd.Series([r[i] if i < len(r) else None for r in body], dtype=object)
                        for f, i in where.items()})
    raw[ROW] = np.arange(header_at + 2, header_at + 2 + len(body), dtype="int64")
    rules, problems = parse_award_rules(raw, level)
    if problems:
        lines = [f"第 {p_.row} 行“{p_.column}”：{p_.message}。{p_.fix}" for p_ in problems]
        raise ValidationFailed(Report.of(problems),
                               f"「{book}」的“{spec.name}”工作表有 {len(problems)} 处需要修改，汇总工作簿没有写入：\n"
                               + "\n".join(lines))
    return rules if len(rules) else None


# --- cells -------------------------------------------------------------------------------------------

_SIDE = Side(style="thin", color=look.HEADER_BORDER)
_BOX = Border(left=_SIDE, right=_SIDE, top=_SIDE, bottom=_SIDE)


def _proto(ws, *, number_format: str | None = None, wrap: bool = False, bold: bool = False,
           header: bool = False, fill: str | None = None, top_border: bool = False):
    cell = Cell(ws)
    if number_format:
        cell.number_format = number_format
    if header:
        cell.border = _BOX
        cell.fill = PatternFill(fill_type="solid", start_color=fill, end_color=fill)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    else:
        cell.alignment = Alignment(wrap_text=True, vertical="top") if wrap else Alignment(vertical="top")
        if bold:
            cell.font = Font(bold=True)
        if top_border:
            cell.border = Border(top=Side(style="thin"), bottom=Side(style="double"))
    return cell._style


def _clean(v):
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NaT:
        return None
    if isinstance(v, str):
        return ILLEGAL_CHARACTERS_RE.sub("", v)
    if isinstance(v, np.generic):
        return v.item()
    return v


def _values(frame: pd.DataFrame, columns) -> list[list]:
    """The frame's rows as Python values, blanks as None (one conversion per column)."""
    cols = []
    for c in columns:
        series = frame[c.field] if c.field in frame.columns else pd.Series(None, index=frame.index, dtype=object)
        if c.type == S.INT:
            series = pd.to_numeric(series, errors="coerce").round().astype("Int64")
        cols.append([_clean(v) for v in series.astype(object).where(series.notna(), None).tolist()])
    return [list(r) for r in zip(*cols)] if cols else []


@dataclass
class _Block:
    """One table of a sheet: its columns, rows, position (1-based) and Excel table name."""

    columns: tuple
    rows: list
    top: int = 1
    left: int = 1
    table: str | None = None
    total: list | None = None  # a bold 合计 row under the table
    bold: frozenset = frozenset()  # positions in ``rows`` written bold (a district's 小计 rows)
    fill: str = look.OWNED_HEADER_FILL

    @property
    def bottom(self) -> int:
        return self.top + max(len(self.rows), 1) + (1 if self.total is not None else 0)


def _put(ws, blocks: list[_Block], labels: dict[tuple[int, int], str] | None = None) -> None:
    """Write the blocks' cells row by row (one append per row) and make each an Excel table."""
    grid: dict[int, dict[int, Cell]] = {}
    header = {}

    def put(r: int, c: int, value, style) -> None:
        if value is None and style is None:
            return
        cell = Cell(ws, value=value, style_array=copy.copy(style)) if style is not None else Cell(ws, value=value)
        if isinstance(value, str):
            cell.data_type = "s"  # text that looks like a formula stays text
        grid.setdefault(r, {})[c] = cell

    for b in blocks:
        key = b.fill
        header.setdefault(key, _proto(ws, header=True, fill=b.fill))
        protos = [_proto(ws, number_format=c.number_format, wrap=c.wraps) for c in b.columns]
        strong = [_proto(ws, number_format=c.number_format, wrap=c.wraps, bold=True) for c in b.columns] \
            if b.bold else protos
        for j, c in enumerate(b.columns):
            put(b.top, b.left + j, c.header, header[key])
            if c.hint:  # what the figure means, on the header (Excel and WPS show it on hover)
                comment = Comment(c.hint, "jifen-xl")
                comment.width, comment.height = 220, 60
                grid[b.top][b.left + j].comment = comment
        for i, row in enumerate(b.rows, start=1):
            styles = strong if i - 1 in b.bold else protos
            for j, v in enumerate(row):
                if v is not None:
                    put(b.top + i, b.left + j, v, styles[j])
        if b.total is not None:
            bold = [_proto(ws, number_format=c.number_format, bold=True, top_border=True) for c in b.columns]
            for j, v in enumerate(b.total):
                put(b.top + len(b.rows) + 1, b.left + j, v, bold[j])
    for (r, c), text in (labels or {}).items():
        put(r, c, text, _proto(ws, bold=True))
    last = max(grid) if grid else 0
    for r in range(1, last + 1):
        cells = grid.get(r, {})
        width = max(cells) if cells else 0
        ws.append([cells.get(c) for c in range(1, width + 1)])
    widths: dict[int, float] = {}
    for b in blocks:
        for j, c in enumerate(b.columns):
            widths[b.left + j] = max(widths.get(b.left + j, 0), c.width)
        if b.table:
            _table(ws, b)
        wrapped = [j for j, c in enumerate(b.columns) if c.wraps]
        if wrapped and b.rows:
            lines = np.maximum.reduce([look.text_lines(pd.Series([r[j] for r in b.rows], dtype=object),
                                                       b.columns[j].width) for j in wrapped])
            points = look.row_points(lines)
            for i in np.flatnonzero(lines > 1):
                ws.row_dimensions[b.top + 1 + int(i)].height = float(points[i])
        head_lines = look.text_lines(pd.Series([c.header for c in b.columns], dtype=object),
                                     [c.width for c in b.columns]).max()
        if head_lines > 1:
            ws.row_dimensions[b.top].height = float(look.row_points([head_lines])[0])
    for col, w in widths.items():
        ws.column_dimensions[get_column_letter(col)].width = w


def _table(ws, b: _Block) -> None:
    ref = (f"{get_column_letter(b.left)}{b.top}:"
           f"{get_column_letter(b.left + len(b.columns) - 1)}{b.top + max(len(b.rows), 1)}")
    table = Table(displayName=b.table, ref=ref)
    table.tableColumns = [TableColumn(id=i, name=str(c.header)) for i, c in enumerate(b.columns, start=1)]
    table.autoFilter = AutoFilter(ref=ref)
    table.tableStyleInfo = TableStyleInfo(name=look.OWNED_TABLE_STYLE, showRowStripes=True)
    ws.add_table(table)


def _print_setup(ws, place: str, *, landscape: bool, title_rows: bool = True) -> None:
    ws.sheet_format.defaultRowHeight = look.ROW_POINTS
    ws.page_setup.paperSize = look.PAPER_A4
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    if title_rows:
        ws.print_title_rows = "1:1"
    ws.print_options.gridLines = True
    ws.oddHeader.center.text = f"{place.replace('&', '&&')} &A" if place else "&A"
    ws.oddFooter.center.text = look.FOOTER
    left, right, top, bottom, header, footer = look.MARGINS
    ws.page_margins = PageMargins(left=left, right=right, top=top, bottom=bottom, header=header, footer=footer)
    ws.print_options.horizontalCentered = True


def _wide(spec: S.SheetSpec) -> bool:
    return look.orientation(spec) == "landscape"


# --- charts --------------------------------------------------------------------------------------------


def _axes(chart, x_title: str, y_title: str) -> None:
    chart.x_axis.title = x_title
    chart.y_axis.title = y_title
    # openpyxl 3.1 marks axes deleted unless told otherwise: Excel would draw the chart without them.
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.width, chart.height = CHART_WIDTH, CHART_HEIGHT
    chart.legend.position = "b"


def _monthly_chart(ws, b: _Block, level: S.Level) -> BarChart:
    """The township's (district's) points and exchanges per month, side by side."""
    chart = BarChart()
    chart.type, chart.grouping = "col", "clustered"
    chart.title = f"{level.whole}每月积分与兑换积分"
    n = max(len(b.rows), 1)
    chart.add_data(Reference(ws, min_col=b.left + 1, max_col=b.left + 2, min_row=b.top, max_row=b.top + n),
                   titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=b.left, min_row=b.top + 1, max_row=b.top + n))
    _axes(chart, "月份", "积分")
    return chart


def _village_chart(ws, b: _Block, level: S.Level) -> LineChart:
    """Each village's (a district's: township's) confirmed points per month, one line each."""
    chart = LineChart()
    chart.title = f"{level.units}每月积分"
    n_months = len(b.columns) - 1
    if b.rows and n_months:
        chart.add_data(Reference(ws, min_col=b.left, max_col=b.left + n_months, min_row=b.top + 1,
                                 max_row=b.top + len(b.rows)), from_rows=True, titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=b.left + 1, max_col=b.left + n_months, min_row=b.top))
    for series in chart.series:
        series.smooth = False  # a month's total is a point, not a curve between them
    _axes(chart, "月份", "积分")
    chart.legend.position = "r"
    return chart


def _hotspot_chart(ws, b: _Block) -> BarChart:
    """How often each deduction item was counted, the most frequent on top."""
    chart = BarChart()
    chart.type = "bar"
    chart.title = "扣分热点（次数）"
    n = max(len(b.rows), 1)
    fields = [c.field for c in b.columns]
    count = b.left + fields.index("count")
    chart.add_data(Reference(ws, min_col=count, min_row=b.top, max_row=b.top + n), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=b.left + fields.index("name"), min_row=b.top + 1,
                                   max_row=b.top + n))
    _axes(chart, "", "次数")
    chart.x_axis.scaling.orientation = "maxMin"  # the most frequent item at the top
    chart.legend = None
    chart.height = max(CHART_HEIGHT, 1.0 + 0.6 * n)
    return chart


# --- the sheets ---------------------------------------------------------------------------------------------


def _summary_sheet(ws, tables: TownshipTables, spec: S.SheetSpec, level: S.Level) -> None:
    total = _values(pd.DataFrame([tables.total]), spec.columns)[0]
    subtotals = tables.summary["village"].eq(level.subtotal).to_numpy(dtype=bool) if level.place else ()
    _put(ws, [_Block(spec.columns, _values(tables.summary, spec.columns), table=spec.table, total=total,
                     bold=frozenset(int(i) for i in np.flatnonzero(subtotals)))])
    ws.freeze_panes = "D2"


def _trend_sheet(ws, tables: TownshipTables, level: S.Level) -> None:
    spec, town = S.level_spec(S.TOWNSHIP_TREND, level), S.level_spec(S.TOWNSHIP_TREND_TOTAL, level)
    left = len(spec.columns) + 2
    trend = _Block(spec.columns, _values(tables.trend, spec.columns), table=spec.table)
    monthly = _Block(town.columns, _values(tables.monthly, town.columns), left=left, table=town.table)
    village_col = spec.column("village")
    months = [c for c in tables.by_village.columns if c != village_col.header]
    pivot_cols = (village_col,) + tuple(S.ColumnSpec(m, m, S.NUMBER, width=9, number_format="#,##0.##")
                                        for m in months)
    pivot_rows = [[_clean(v) for v in r] for r in tables.by_village.astype(object).where(
        tables.by_village.notna(), None).values.tolist()]
    charts_at = monthly.bottom + GAP_ROWS
    pivot = _Block(pivot_cols, pivot_rows, top=charts_at + 2 * CHART_ROWS + 2, left=left, table=S.TREND_PIVOT_TABLE)
    labels = {(pivot.top - 1, left): f"{level.units}每月积分合计（供折线图使用）"}
    _put(ws, [trend, monthly, pivot], labels)
    ws.add_chart(_monthly_chart(ws, monthly, level), f"{get_column_letter(left)}{charts_at}")
    ws.add_chart(_village_chart(ws, pivot, level), f"{get_column_letter(left)}{charts_at + CHART_ROWS}")
    # the charts print on the first page whole; the village table starts a page of its own
    ws.row_breaks.append(Break(id=pivot.top - 2))
    ws.freeze_panes = "A2"


def _hotspot_sheet(ws, tables: TownshipTables, spec: S.SheetSpec) -> None:
    rows = _values(tables.hotspots, spec.columns)
    b = _Block(spec.columns, rows or [[NO_DEDUCTIONS if c.field == "name" else None for c in spec.columns]],
               table=spec.table)
    _put(ws, [b])
    if rows:
        ws.add_chart(_hotspot_chart(ws, b), f"A{b.bottom + GAP_ROWS}")
    ws.freeze_panes = "A2"


def _simple_sheet(ws, spec: S.SheetSpec, frame: pd.DataFrame) -> None:
    _put(ws, [_Block(spec.columns, _values(frame, spec.columns), table=spec.table,
                     fill=look.header_fill(spec))])
    ws.freeze_panes = "A2"


def _rules_sheet(ws, rules: pd.DataFrame, spec: S.SheetSpec) -> None:
    _simple_sheet(ws, spec, rules)
    last = max(len(rules), 1) + 50  # room for the officer's own rules
    col = get_column_letter(spec.fields.index("no_deduction") + 1)
    dv = DataValidation(type="list", formula1=f'"{S.YES},{S.NO}"', allow_blank=True, showErrorMessage=True,
                        errorTitle="请从列表中选择", error=f"请填写“{S.YES}”或“{S.NO}”")
    dv.add(f"{col}2:{col}{last}")
    ws.add_data_validation(dv)
    for i, c in enumerate(spec.columns, start=1):
        if c.hint:
            hint = DataValidation(allow_blank=True, showInputMessage=True, promptTitle=c.header[:32],
                                  prompt=c.hint[:255])
            hint.add(f"{get_column_letter(i)}2:{get_column_letter(i)}{last}")
            ws.add_data_validation(hint)


def _checks_sheet(ws, tables: TownshipTables, level: S.Level) -> None:
    spec, found = S.level_spec(S.TOWNSHIP_CHECKS, level), S.level_spec(S.TOWNSHIP_CHECK_FINDINGS, level)
    files = _Block(spec.columns, _values(tables.files, spec.columns), table=spec.table)
    rows = _values(tables.findings, found.columns)
    if not rows:  # said in the table, not left blank
        rows = [[NO_FINDINGS if c.field == "message" else None for c in found.columns]]
    findings = _Block(found.columns, rows, top=files.bottom + GAP_ROWS + 1, table=found.table)
    _put(ws, [files, findings], {(findings.top - 1, 1): FINDINGS_LABEL})
    ws.freeze_panes = "A2"


def _place_text(place: dict) -> str:
    parts = [place.get(KEY_DISTRICT), place.get(KEY_TOWNSHIP)]
    year = place.get(KEY_YEAR)
    text = "".join(str(p) for p in parts if p)
    return f"{text}{year}年" if year else text


def build_township_book(tables: TownshipTables, rules: pd.DataFrame, level: S.Level = S.LEVEL_TOWNSHIP) -> Workbook:
    """The township workbook in memory (``write_township_book`` saves it); ``level``: a
    township's or a district's (``schema.level_sheets``)."""
    wb = Workbook()
    wb.remove(wb.active)
    place = _place_text(tables.place)
    for spec in S.level_sheets(level):
        ws = wb.create_sheet(spec.name)
        if spec.key == S.TOWNSHIP_SUMMARY.key:
            _summary_sheet(ws, tables, spec, level)
        elif spec.key == S.TOWNSHIP_TREND.key:
            _trend_sheet(ws, tables, level)
        elif spec.key == S.TOWNSHIP_HOTSPOTS.key:
            _hotspot_sheet(ws, tables, spec)
        elif spec.key == S.TOWNSHIP_RANKING.key:
            _simple_sheet(ws, spec, tables.ranking)
        elif spec.key == S.TOWNSHIP_CANDIDATES.key:
            _simple_sheet(ws, spec, tables.candidates)
        elif spec.key == S.AWARD_RULES.key:
            _rules_sheet(ws, rules, spec)
        elif spec.key == S.TOWNSHIP_CHECKS.key:
            _checks_sheet(ws, tables, level)
        if spec.owned:
            ws.sheet_properties.tabColor = look.OWNED_TAB_COLOR
        _print_setup(ws, place, landscape=spec.key in (S.TOWNSHIP_SUMMARY.key, S.TOWNSHIP_TREND.key) or _wide(spec))
    wb.active = 0
    return wb


def empty_township_book() -> Workbook:
    """The standard township workbook before any import: no village, the default 评优规则."""
    rules = default_award_rules()
    t = consolidate([])
    return build_township_book(township_tables(t, [], award_candidates(t, rules)), rules)


def write_township_book(path: str | Path, tables: TownshipTables, rules: pd.DataFrame, *,
                        now: dt.datetime | None = None, level: S.Level = S.LEVEL_TOWNSHIP) -> BookWritten:
    """Write the township workbook, all or nothing.

    :param path: the ``.xlsx`` file (``.xlsm``: with the VBA project and the import button, the
        replaced file's project kept byte for byte); an existing township workbook is backed up into ``备份/``
        beside it, then replaced (anything else there is refused: ``check_output``).
    :param tables: ``core.township.township_tables(...)``.
    :param rules: the award rules used (written to 评优规则; read them with ``read_award_rules``).
    :param level: a township's workbook (default) or a district's (``schema.LEVEL_DISTRICT``).
    :raises WorkbookLocked: the file is open in Excel, WPS or LibreOffice.
    :raises WriteRefused: not ``.xlsx``, another kind of file in the way, no such folder.
    :raises WriteFailed: the file could not be written; the previous one is unchanged.
    """
    p = Path(path)
    check_output(p, level, macros=level == S.LEVEL_TOWNSHIP)
    wb = build_township_book(tables, rules, level)
    save = wb.save
    if p.suffix.lower() == ".xlsm":
        # Written whole by openpyxl, which keeps no VBA: the replaced file's project goes back in
        # byte for byte (a new one for a new file), with the button (``io.xlsm``).
        from . import xlsm

        data = xlsm.township_package(wb, project=xlsm.vba_bytes(p) if p.exists() else None)

        def save(f):
            f.write(data)
    backup = None
    try:
        if p.exists():
            backup = safefile.make_backup(p, now or dt.datetime.now())
        safefile.write_atomic(p, save)
    except PermissionError as exc:
        raise WorkbookLocked(f"无法写入「{p}」：文件可能正被 Excel 或 WPS 打开，请关闭后再试。") from exc
    except OSError as exc:
        raise WriteFailed(f"无法写入「{p}」（{exc.strerror or exc}），原文件没有改动。"
                          "请检查文件夹是否存在、是否有写入权限、磁盘是否已满。") from exc
    return BookWritten(p, backup)


def write_township(path: str | Path, extracts, files=(), rules: pd.DataFrame | None = None, *,
                   now: dt.datetime | None = None) -> BookWritten:
    """The import's last step in one call: consolidate the accepted villages, select the award
    candidates by the officer's rules, and write the township workbook.

    :param extracts: the accepted villages' ``VillageExtract`` (in the order to show them).
    :param files: every file of the batch (dicts keyed by ``core.township.FILE_KEYS``, or the
        import's outcomes), for 校验汇总.
    :param rules: the award rules; default: those kept in ``path`` (``read_award_rules``, best
        called before the import's work so a wrong rule is refused first), else the defaults.
    """
    if rules is None:
        rules = read_award_rules(path)
    if rules is None:
        rules = default_award_rules()
    t = consolidate(list(extracts))
    return write_township_book(path, township_tables(t, files, award_candidates(t, rules)), rules, now=now)
