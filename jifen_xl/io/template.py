"""Build a new village workbook from the schema (the standard template).

Everything the clerk sees here comes from ``schema.py``: sheet names, Excel
table names, headers, dropdown lists, widths, number formats and hints. This
module adds only layout: tables, dropdowns, frozen headers, print setup and the
使用说明 sheet.

Dropdowns that draw from another sheet (户号, 指标编码, …) go through a workbook
defined name over a plain absolute range (``'住户名册'!$A$2:$A$20000``): Excel,
WPS and LibreOffice all accept that in a list validation, whereas INDIRECT and
structured references (``tblHouseholds[户号]``) are not portable.

Only for NEW files: the whole workbook passes through openpyxl, which would drop
buttons, shapes and charts of an existing file (GUIDE §2.6), so an existing
path is refused unless ``overwrite=True``.
"""

from __future__ import annotations

import copy
import datetime as _dt
import math
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.utils.exceptions import IllegalCharacterError
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.filters import AutoFilter
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.table import Table, TableColumn, TableStyleInfo

from .. import safefile, schema
from ..core.catalogue import default_catalogue
from ..errors import WorkbookLocked, WriteFailed, WriteRefused
from . import look

#: Rows covered by whole-column dropdowns and by lookup names (grows with the data). A village
#: of 320 households fills 5,760 entries a year; validations are one range per column, so the
#: reach costs neither size nor time. Number formats and wrapping are column styles: no limit.
LIST_ROWS = 20000
#: Spare rows kept below the data when the data is longer than ``LIST_ROWS``.
SPARE_ROWS = 1000
#: Comment on the header cells of sheets the toolkit writes.
OWNED_NOTE = "由工具生成，请勿手工修改"
#: Comment author.
AUTHOR = "jifen-xl"
#: Date range accepted by the date validations (Excel serials of 2000-01-01 and 2099-12-31).
_DATE_MIN, _DATE_MAX = 36526, 73050
_NUM_LIMIT = 1_000_000_000

_TYPE_WORDS = {
    schema.TEXT: "文字",
    schema.CODE: "编码（按文本保存，如 001 不会变成 1）",
    schema.INT: "整数",
    schema.NUMBER: "数字",
    schema.DATE: "日期，格式如 {year}-03-15",
    schema.MONTH: "月份，格式如 {year}-03",
    schema.NAMES: "姓名，多人用顿号“、”分隔",
}


def lookup_name(lookup: tuple[str, str]) -> str:
    """The workbook defined name behind the dropdown of a ``lookup`` column.

    :param lookup: ``(sheet_key, field)`` as in ``ColumnSpec.lookup``.
    """
    key, field = lookup
    return f"list_{key}_{field}"


def column_letter(spec: schema.SheetSpec, field: str) -> str:
    """The template's column letter of ``field`` in ``spec`` (schema order)."""
    return get_column_letter(spec.fields.index(field) + 1)


def capacity(n_rows: int) -> int:
    """Last worksheet row covered by dropdowns and lookup names for ``n_rows`` data rows."""
    return max(LIST_ROWS, 1 + n_rows + SPARE_ROWS)


def build_workbook(path, settings: dict, tables: dict[str, pd.DataFrame] | None = None, *,
                   overwrite: bool = False) -> Path:
    """Create a new village workbook (the standard template), optionally filled.

    :param path: the ``.xlsx`` file to create.
    :param settings: 基本信息 values keyed by the field names of ``schema.SETTINGS.kv_rows``
        (``district``, ``township``, ``village``, ``year``, ``publicity_days`` (default 7),
        ``objection_contact``, ``phone``); ``year`` is required.
    :param tables: rows per sheet key (e.g. ``"households"``), columns = field names; DATE
        columns hold ``datetime.date`` or NaT/None. Missing fields are left blank, columns
        that are not fields are ignored. Without ``"indicators"`` the sheet is filled with
        ``default_catalogue(year)``.
    :param overwrite: replace an existing file. **Dangerous**: everything in it is lost.
    :returns: the path written.
    :raises WriteRefused: the file exists (and not ``overwrite``), is not ``.xlsx``, or a
        text holds a control character Excel cannot store.
    :raises WorkbookLocked: the file cannot be replaced (open in Excel or WPS).
    :raises WriteFailed: the file could not be written; nothing was changed.
    """
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise WriteRefused(f"无法创建“{path.name}”：模板只能保存为 .xlsx 文件，请把文件名改为以 .xlsx 结尾。")
    if path.exists() and not overwrite:
        raise WriteRefused(f"文件“{path}”已存在。为避免覆盖已有数据，请换一个文件名，或先把原文件移走。")
    values = _settings_values(settings)
    frames = _frames(tables or {}, values["year"])
    wb = _build(values, frames)
    _save(wb, path)
    return path


def build_package(settings: dict, tables: dict[str, pd.DataFrame] | None = None, *,
                  buttons: tuple[schema.Button, ...] = (),
                  conf: schema.ConfSheet | None = None) -> tuple[bytes, dict[schema.Button, int]]:
    """The standard workbook as the bytes of an ``.xlsx`` package, with a row of 使用说明 kept for
    each of ``buttons`` (``io.xlsm`` puts the button over its cell in column A; the cell holds the
    caption too, and column B what pressing it does).

    :param conf: a settings sheet to add last (``schema.XLWINGS_CONF`` in an ``.xlsm``: it makes
        the worksheet functions importable, so 使用说明 then describes them too).
    :returns: the package, and each button's row in 使用说明 (1-based).
    """
    import io

    values = _settings_values(settings)
    frames = _frames(tables or {}, values["year"])
    wb = _build(values, frames, buttons, udfs=conf is not None)
    if conf is not None:
        _write_conf(wb, conf)
    buf = io.BytesIO()
    wb.save(buf)
    rows = _help_rows(values, buttons, udfs=conf is not None)
    at = {b: i for i, r in enumerate(rows, start=1) for b in buttons if r[0] == "button" and r[1] == b.caption}
    return buf.getvalue(), at


# --- inputs ---------------------------------------------------------------------


def _settings_values(settings: dict) -> dict:
    known = {c.field: c for c in schema.SETTINGS.kv_rows}
    unknown = sorted(set(settings) - set(known))
    if unknown:
        raise ValueError(f"unknown settings {unknown}; expected {sorted(known)}")
    out = {}
    for field, col in known.items():
        v = settings.get(field)
        if _blank(v):
            v = None
        elif col.type == schema.INT:
            v = int(v)
        else:
            v = _text(v)
        out[field] = v
    if out["year"] is None:
        raise ValueError("settings['year'] is required")
    if out["publicity_days"] is None:
        out["publicity_days"] = 7
    return out


def _frames(tables: dict, year: int) -> dict[str, pd.DataFrame]:
    unknown = sorted(set(tables) - set(schema.BY_KEY))
    if unknown or schema.SETTINGS.key in tables:
        raise ValueError(f"tables: unexpected keys {unknown or [schema.SETTINGS.key]}; "
                         "settings go in the settings argument")
    frames = dict(tables)
    if schema.INDICATORS.key not in frames:
        frames[schema.INDICATORS.key] = default_catalogue(year)
    return frames


def _blank(v) -> bool:
    if v is None or v is pd.NaT or v is pd.NA:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    # Only spaces: blank to the reader (it strips text), and openpyxl would write it without
    # xml:space="preserve", so every reader would drop it anyway.
    return isinstance(v, str) and not v.strip()


def _text(v) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if hasattr(v, "item"):  # numpy scalar
        return _text(v.item())
    return str(v)


# --- value conversion (column-wise, for speed) ------------------------------------


def _convert_date(v):
    if isinstance(v, _dt.datetime):  # also pd.Timestamp
        return v.date() if (v.hour, v.minute, v.second, v.microsecond) == (0, 0, 0, 0) else v.replace(tzinfo=None)
    return v  # date, or text the clerk typed: written as it is


def _convert_number(v):
    if hasattr(v, "item"):
        v = v.item()
    return v


def _convert_int(v):
    v = _convert_number(v)
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def _convert_month(v):
    if isinstance(v, (_dt.date, pd.Period)):
        return f"{v.year:04d}-{v.month:02d}"
    return _text(v)


_CONVERTERS = {
    schema.DATE: _convert_date,
    schema.INT: _convert_int,
    schema.NUMBER: _convert_number,
    schema.MONTH: _convert_month,
    schema.CODE: _text,
    schema.TEXT: _text,
    schema.NAMES: _text,
}


def _column_values(df: pd.DataFrame, col: schema.ColumnSpec, n: int) -> list:
    if col.field not in df.columns:
        return [None] * n
    raw = df[col.field].tolist()
    blank = df[col.field].isna().tolist()
    conv = _CONVERTERS.get(col.type, _text)
    return [None if b or _blank(v) else conv(v) for v, b in zip(raw, blank)]


# --- workbook -----------------------------------------------------------------------


def _build(settings: dict, frames: dict[str, pd.DataFrame], buttons: tuple = (), *, udfs: bool = False) -> Workbook:
    wb = Workbook()
    wb.remove(wb.active)
    help_ws = wb.create_sheet(schema.HELP_SHEET_NAME)
    n_rows = {s.key: len(frames.get(s.key, ())) for s in schema.SHEETS}
    for spec in schema.SHEETS:
        ws = wb.create_sheet(spec.name)
        if spec.kv_rows:
            _write_settings(ws, spec, settings)
        else:
            _write_table(ws, spec, frames.get(spec.key), settings["year"])
        _print_setup(ws, spec, settings)
    _define_lookup_names(wb, n_rows)
    _write_help(help_ws, settings, buttons, udfs=udfs)
    wb.active = 0
    help_ws.sheet_view.tabSelected = True
    return wb


def _write_conf(wb: Workbook, conf: schema.ConfSheet) -> None:
    """The key/value sheet ``conf`` as its reader expects it: keys from A1 down, values in B."""
    ws = wb.create_sheet(conf.name)
    for row in conf.rows:
        ws.append(list(row))
    ws.sheet_state = conf.state


def _write_settings(ws, spec: schema.SheetSpec, settings: dict) -> None:
    ws.append(spec.headers)
    for row, kv in enumerate(spec.kv_rows, start=2):
        value = settings.get(kv.field)
        try:
            ws.append([kv.header, value])
        except IllegalCharacterError:
            raise WriteRefused(f"“{spec.name}”的“{kv.header}”含有 Excel 不允许的控制字符，"
                               "请删除这些看不见的字符后再试。") from None
        cell = ws.cell(row, 2)
        if isinstance(value, str):
            cell.data_type = "s"  # '=...' stays text
        if kv.type != schema.INT:
            cell.number_format = "@"
        dv = _type_validation(kv, settings["year"])
        if dv is None and _prompt(kv, settings["year"]):
            dv = DataValidation(allow_blank=True)  # input message only
            _messages(dv, kv, settings["year"])
        if dv is not None:
            dv.add(cell.coordinate)
            ws.add_data_validation(dv)
    _set_widths(ws, spec)
    columns = ([kv.header for kv in spec.kv_rows], [settings.get(kv.field) for kv in spec.kv_rows])
    for i, col in enumerate(spec.columns, start=1):
        for row in range(2, 2 + len(spec.kv_rows)):
            ws.cell(row, i).alignment = _WRAP if col.wraps else _TOP
    _set_heights(ws, 2, np.maximum.reduce([look.text_lines(v, c.width) for v, c in zip(columns, spec.columns)]))
    _style_header(ws, spec)
    _add_table(ws, spec, 1 + len(spec.kv_rows))
    ws.freeze_panes = "A2"


def _write_table(ws, spec: schema.SheetSpec, df: pd.DataFrame | None, year: int) -> None:
    ws.append(spec.headers)
    n = 0 if df is None else len(df)
    if n:
        cols = [_column_values(df, c, n) for c in spec.columns]
        protos = [_style_of(ws, c.number_format, c.wraps) for c in spec.columns]
        for r, values in enumerate(zip(*cols), start=2):
            try:
                ws.append(_cells(ws, list(values), protos))
            except IllegalCharacterError:
                raise _illegal(spec, r, values) from None
        lines = [look.text_lines(pd.Series(v, dtype="object"), c.width)
                 for v, c in zip(cols, spec.columns) if c.wraps]
        if lines:
            _set_heights(ws, 2, np.maximum.reduce(lines))
    _set_widths(ws, spec)
    _style_header(ws, spec)
    _add_table(ws, spec, 1 + max(n, 1))
    if spec.owned:
        ws.sheet_properties.tabColor = look.OWNED_TAB_COLOR
        for cell in ws[1]:
            cell.comment = _comment(OWNED_NOTE)
    else:
        _add_validations(ws, spec, capacity(n), year)
    ws.freeze_panes = "A2"


def _cells(ws, row: list, protos: list) -> list:
    """Put the values in ready cells with their column's style (number format, alignment)."""
    for i, v in enumerate(row):
        if v is None:
            continue
        cell = Cell(ws, value=v, style_array=protos[i])  # Cell copies the array
        if isinstance(v, str):
            cell.data_type = "s"  # text that looks like a formula stays text
        row[i] = cell
    return row


def _illegal(spec: schema.SheetSpec, row: int, values) -> WriteRefused:
    header = next((c.header for c, v in zip(spec.columns, values)
                   if isinstance(v, str) and ILLEGAL_CHARACTERS_RE.search(v)), "")
    return WriteRefused(f"“{spec.name}”第 {row} 行“{header}”含有 Excel 不允许的控制字符（通常是从网页或其他软件"
                        "复制带来的），请删除这些看不见的字符后再试。")


def _style_of(ws, number_format: str | None, wrap: bool = False):
    proto = Cell(ws)
    if number_format:
        proto.number_format = number_format
    proto.alignment = _WRAP if wrap else _TOP
    return proto._style


#: Long text wraps, from the top of its cell; the other cells of a row that grows align to the
#: top too (the column style, and the cells written).
_WRAP = Alignment(wrap_text=True, vertical="top")
_TOP = Alignment(vertical="top")


def _set_heights(ws, first_row: int, lines) -> None:
    """Explicit heights for the rows, from ``first_row`` on, whose wrapped text needs more than one
    line (``lines``, one count per row): LibreOffice keeps a row one line high otherwise and prints
    the text cut off. Only the taller rows are touched."""
    lines = np.asarray(lines)
    points = look.row_points(lines)
    for i in np.flatnonzero(lines > 1):
        ws.row_dimensions[first_row + int(i)].height = float(points[i])


def _style_header(ws, spec: schema.SheetSpec) -> None:
    """The header row's own look (bold, fill, borders) as cell formatting: LibreOffice and WPS do
    not draw Excel's table styles, or draw them differently."""
    side = Side(style="thin", color=look.HEADER_BORDER)
    proto = Cell(ws)  # one style, copied to each header cell (setting styles cell by cell is slow)
    proto.border = Border(left=side, right=side, top=side, bottom=side)
    proto.fill = PatternFill(fill_type="solid", start_color=look.header_fill(spec), end_color=look.header_fill(spec))
    proto.font = Font(bold=look.HEADER_BOLD)
    proto.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for cell in ws[1][: len(spec.columns)]:
        cell._style = copy.copy(proto._style)
    lines = look.text_lines(pd.Series(spec.headers, dtype="object"), [c.width for c in spec.columns]).max()
    if lines > 1:
        ws.row_dimensions[1].height = float(look.row_points([lines])[0])


def _comment(text: str) -> Comment:
    c = Comment(text, AUTHOR)
    c.width, c.height = 200, 40
    return c


def _set_widths(ws, spec: schema.SheetSpec) -> None:
    for i, col in enumerate(spec.columns, start=1):
        dim = ws.column_dimensions[get_column_letter(i)]
        dim.width = col.width
        if col.number_format:
            # Column style: cells the clerk adds below the data get the same format.
            dim.number_format = col.number_format
        # Free text (决议依据, 捐赠方, 问题说明 ...) wraps instead of being cut off in print; the
        # written cells carry the same style, the owned-sheet writer gives its cells the column's.
        dim.alignment = _WRAP if col.wraps else _TOP


def _add_table(ws, spec: schema.SheetSpec, last_row: int) -> None:
    ref = f"A1:{get_column_letter(len(spec.columns))}{last_row}"
    table = Table(displayName=spec.table, ref=ref)
    table.tableColumns = [TableColumn(id=i, name=h) for i, h in enumerate(spec.headers, start=1)]
    table.autoFilter = AutoFilter(ref=ref)
    table.tableStyleInfo = TableStyleInfo(name=look.OWNED_TABLE_STYLE if spec.owned else look.TABLE_STYLE,
                                          showRowStripes=True, showColumnStripes=False,
                                          showFirstColumn=False, showLastColumn=False)
    ws.add_table(table)


# --- validations ------------------------------------------------------------------


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _type_words(col: schema.ColumnSpec, year: int) -> str:
    """How a column of this type is filled in, with examples in the workbook's year."""
    return _TYPE_WORDS.get(col.type, "").format(year=year)


def _messages(dv: DataValidation, col: schema.ColumnSpec, year: int, error: str | None = None) -> None:
    prompt = _prompt(col, year)
    if prompt:
        dv.promptTitle = _clip(col.header, 32)
        dv.prompt = _clip(prompt, 255)
        dv.showInputMessage = True
    if error:
        dv.errorTitle = _clip(f"{col.header}填写有误", 32)
        dv.error = _clip(error, 255)
        dv.showErrorMessage = True
        dv.errorStyle = "stop"


def _prompt(col: schema.ColumnSpec, year: int) -> str:
    parts = [col.hint] if col.hint else []
    if col.choices:
        parts.append("请从下拉列表中选择")
    elif col.lookup:
        ref = schema.sheet(col.lookup[0])
        parts.append(f"请从下拉列表中选择“{ref.name}”中已有的{ref.header_of(col.lookup[1])}")
    elif col.type in (schema.DATE, schema.MONTH, schema.CODE) or (col.type == schema.NAMES and not col.hint):
        parts.append(_type_words(col, year))
    if col.required:
        parts.append("必填")
    return "；".join(parts)


def _type_validation(col: schema.ColumnSpec, year: int) -> DataValidation | None:
    if col.type == schema.DATE:
        dv = DataValidation(type="date", operator="between", formula1=str(_DATE_MIN),
                            formula2=str(_DATE_MAX), allow_blank=True)
        _messages(dv, col, year, f"“{col.header}”应填写日期，格式如 {year}-03-15（年-月-日）。")
        return dv
    if col.type in (schema.INT, schema.NUMBER):
        whole = col.type == schema.INT
        dv = DataValidation(type="whole" if whole else "decimal", operator="between",
                            formula1=str(-_NUM_LIMIT), formula2=str(_NUM_LIMIT), allow_blank=True)
        _messages(dv, col, year, f"“{col.header}”应填写{'整数' if whole else '数字'}（半角阿拉伯数字）。")
        return dv
    return None


def _add_validations(ws, spec: schema.SheetSpec, last_row: int, year: int) -> None:
    for i, col in enumerate(spec.columns, start=1):
        letter = get_column_letter(i)
        if col.choices:
            dv = DataValidation(type="list", formula1='"' + ",".join(col.choices) + '"', allow_blank=True)
            _messages(dv, col, year, f"“{col.header}”只能填写：{'、'.join(col.choices)}。请从下拉列表中选择。")
        elif col.lookup:
            ref = schema.sheet(col.lookup[0])
            what = ref.header_of(col.lookup[1])
            dv = DataValidation(type="list", formula1=lookup_name(col.lookup), allow_blank=True)
            _messages(dv, col, year, f"“{col.header}”必须是“{ref.name}”中已登记的{what}。"
                               f"请先在“{ref.name}”中登记，再从下拉列表中选择。")
        else:
            dv = _type_validation(col, year)
            if dv is None and col.hint:
                dv = DataValidation(allow_blank=True)  # input message only
                _messages(dv, col, year)
        if dv is not None:
            dv.add(f"{letter}2:{letter}{last_row}")
            ws.add_data_validation(dv)


def _define_lookup_names(wb: Workbook, n_rows: dict) -> None:
    targets = sorted({c.lookup for s in schema.SHEETS for c in s.columns if c.lookup})
    for key, field in targets:
        ref = schema.sheet(key)
        letter = column_letter(ref, field)
        last = capacity(n_rows.get(key, 0))
        text = f"{quote_sheetname(ref.name)}!${letter}$2:${letter}${last}"
        wb.defined_names[lookup_name((key, field))] = DefinedName(lookup_name((key, field)), attr_text=text)


# --- print ------------------------------------------------------------------------


def _place(settings: dict) -> str:
    return "".join(settings.get(k) or "" for k in ("township", "village"))


def _print_setup(ws, spec: schema.SheetSpec | None, settings: dict, *, portrait: bool = False) -> None:
    # Not marked custom: LibreOffice takes the height as it is, Excel and WPS still fit rows to
    # what the clerk types.
    ws.sheet_format.defaultRowHeight = look.ROW_POINTS
    ws.page_setup.paperSize = look.PAPER_A4
    ws.page_setup.orientation = look.orientation(spec, portrait)
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    if spec is not None:
        ws.print_title_rows = "1:1"
        # LibreOffice and WPS do not print table styles: grid lines keep the rows readable.
        ws.print_options.gridLines = True
    place = _place(settings).replace("&", "&&")
    ws.oddHeader.center.text = f"{place} &A" if place else "&A"
    ws.oddFooter.center.text = look.FOOTER
    left, right, top, bottom, header, footer = look.MARGINS
    ws.page_margins = PageMargins(left=left, right=right, top=top, bottom=bottom, header=header, footer=footer)
    ws.print_options.horizontalCentered = True


# --- 使用说明 --------------------------------------------------------------------------

#: The help sheet's column widths (characters): labels, column names, explanations.
HELP_WIDTHS = (18, 16, 58)
#: Which cells of a help row hold its text: (first column, last column), 1-based; a wider span is
#: one merged cell.
_HELP_SPANS = {
    "title": ((1, 3),), "section": ((1, 3),), "text": ((1, 3),),
    "step": ((1, 1), (2, 3)), "sheet": ((1, 1), (2, 3)),
    "colhead": ((1, 1), (2, 2), (3, 3)), "col": ((1, 1), (2, 2), (3, 3)), "blank": (),
    "button": ((1, 1), (2, 3)),
}
#: The height (points) of a 使用说明 row holding a button.
BUTTON_ROW_POINTS = 27.0
#: The columns whose meaning 使用说明 spells out (SPEC "Meanings"), in reading order.
_MEANINGS = (("households", "carried_total"), ("households", "carried_available"),
             ("ledger", "cumulative"), ("ledger", "spent"), ("ledger", "available"))
#: The example name of a clerk's archived copy of an owned sheet.
_ARCHIVE_TAG = "（10月公示）"


def _help_rows(settings: dict, buttons: tuple = (), *, udfs: bool = False) -> list[tuple[str, str, str, str]]:
    """(style, A, B, C) rows of the help sheet (with a row per button of an .xlsm, and with
    ``udfs`` a row per worksheet function of ``schema.UDFS``)."""
    S = schema
    year = settings.get("year")
    place = "".join(settings.get(k) or "" for k in ("district", "township", "village"))
    owned = [s.name for s in S.SHEETS if s.owned]
    days = settings.get("publicity_days") or 7
    days_header = next(c.header for c in S.SETTINGS.kv_rows if c.field == "publicity_days")
    ind, ent, hh, led = S.INDICATORS, S.ENTRIES, S.HOUSEHOLDS, S.LEDGER
    scorers = ent.header_of("scorers")
    carried = "、".join(hh.header_of(f) for f in ("carried_total", "carried_available"))
    rows = [
        ("title", f"{place}{year}年度乡村治理积分制工作簿 {S.HELP_SHEET_NAME}", "", ""),
        ("text", f"本工作簿以户为积分单位，{S.HUKOU_TYPES[0]}和{S.HUKOU_TYPES[1]}村民同样建立积分卡、享受同等积分激励。"
                 "积分累积使用，兑换后不清零、不作废，终生有效。", "", ""),
        ("text", "扣分只影响积分，不得剥夺村民依法享有的政府补贴和集体经济收益。奖为主、罚为辅。", "", ""),
        ("blank", "", "", ""),
    ]
    if buttons:
        rows += [("section", "按钮：点一下即可运行", "", ""),
                 ("text", "使用按钮前，电脑上要装好 Python 和积分工具（pip install jifen-xl），并允许 Excel 运行本工作簿的宏："
                          "把工作簿所在的文件夹设为受信任位置（文件 → 选项 → 信任中心 → 信任中心设置 → 受信任位置）。"
                          "WPS 和 LibreOffice 中按钮不能运行，请用命令行（每个按钮后面写了对应的命令）。", "", ""),
                 *[("button", b.caption, b.help, "") for b in buttons],
                 ("text", "按钮运行时状态栏显示进度，出错时弹出提示，写明哪张工作表、哪一行、怎么改。"
                          "运行前工具会在工作簿旁的“备份”文件夹中保存一份副本。", "", ""),
                 ("blank", "", "", "")]
    if udfs:
        importer = next((b.caption for b in buttons if b.vba), "")
        rows += [("section", "公式函数：在任何单元格中引用积分（只能在 Windows 版 Excel 中使用）", "", ""),
                 ("text", f"先按一次上面的“{importer}”按钮（每个工作簿只需一次），之后就能像 SUM 一样在单元格中输入下面的公式，"
                          f"“插入函数”的“{S.UDF_CATEGORY}”类别中也能找到它们。按钮需要 Excel 允许访问 VBA 工程："
                          "文件 → 选项 → 信任中心 → 信任中心设置 → 宏设置，勾选“信任对 VBA 工程对象模型的访问”。"
                          "工具以后写入本工作簿时，导入的公式函数保留不变。", "", ""),
                 *[("step", u.name, f"{u.help}例如 {u.example}") for u in S.UDFS],
                 ("blank", "", "", "")]
    rows += [
        ("section", "一、开始使用：先填好这几张表，再登记积分", "", ""),
        ("step", f"1. {S.SETTINGS.name}", "填写" + "、".join(kv.header for kv in S.SETTINGS.kv_rows) + "。"),
        ("step", f"2. {hh.name}", f"每户一行。{carried}从上年工作簿的“{led.name}”12月抄过来；第一年留空。"),
        ("step", f"3. {S.MEMBERS.name}", f"在“{ent.name}”之前填写：“{ent.name}”的{scorers}必须是任期内的"
                                         f"{S.GROUP_REVIEW}成员，且不能给本户评分（按“{S.MEMBERS.name}”的户号核对），"
                                         "否则校验会报错。"),
        ("step", f"4. {ind.name}", f"已预置区委通知附件的参考指标。经村民代表会议表决后填写"
                                    f"{ind.header_of('resolution')}，不用的指标填写{ind.header_of('valid_to')}。"),
        ("blank", "", "", ""),
        ("section", "二、每月流程：登记 → 公示 → 异议 → 确认 → 台账", "", ""),
        ("step", "1. 登记", f"评议小组根据{'、'.join(S.SOURCES)}，在“{ent.name}”逐条登记，"
                          f"{ent.header_of('status')}填“{S.ENTRY_PENDING}”。"),
        ("step", "2. 公示", f"每月通过公示栏、微信群、公众号公示当月积分，{ent.header_of('status')}改为"
                          f"“{S.ENTRY_PUBLIC}”。公示期 {days} 天（见“{S.SETTINGS.name}”的{days_header}）。"),
        ("step", "3. 异议", f"公示期内村民有异议的，在“{S.OBJECTIONS.name}”登记；评议小组调查核实后填写"
                          f"{S.OBJECTIONS.header_of('result')}：{'、'.join(S.OBJECTION_RESULTS)}（留空表示待处理）。"),
        ("step", "4. 确认", f"公示期满、异议已处理的登记改为“{S.ENTRY_CONFIRMED}”；撤销的改为“{S.ENTRY_WITHDRAWN}”。"
                          f"只有{S.ENTRY_CONFIRMED}的积分计入台账。"),
        ("step", "5. 台账", f"运行积分工具生成“{led.name}”，当月积分即固定。已关账的月份不再修改，"
                          "以后发现的错误在后面月份新增一条更正登记。"),
        ("blank", "", "", ""),
        ("section", "三、积分的含义", "", ""),
    ]
    for key, field in _MEANINGS:
        col = S.sheet(key).column(field)
        rows.append(("step", col.header, col.hint + "。"))
    rows += [
        ("text", f"兑换只减少{led.header_of('available')}，不减少{led.header_of('cumulative')}；"
                 f"{led.header_of('rank')}按{led.header_of('cumulative')}从高到低排列，同分同名次。", "", ""),
        ("blank", "", "", ""),
        ("section", "四、工具写入的工作表（灰色标签）", "", ""),
        ("text", f"“{'”“'.join(owned)}”由工具生成，每次运行整张重新写入：在其中手工修改的内容会被工具的结果替换，"
                 "请勿手工修改。", "", ""),
        ("text", "如果在这些工作表中加了自己的列并填写了内容，工具会拒绝写入并指出是哪一列，不会覆盖；"
                 "把这一列移到别的工作表（或删除）后再运行。", "", ""),
        ("text", f"要保留某次的结果（如公示用的台账），复制该工作表并改名，例如“{led.name}{_ARCHIVE_TAG}”；"
                 "改了名的工作表是您自己的，工具不会改写。", "", ""),
        ("text", "工具写入前先在工作簿旁的“备份”文件夹中保存一份副本；工作簿正被 Excel 或 WPS 打开时，工具不会写入。", "", ""),
        ("blank", "", "", ""),
        ("section", "五、注意事项", "", ""),
        ("text", "不要修改工作表名称和列标题；可以在表格右侧增加自己的列，也可以调整列的顺序。", "", ""),
        ("text", f"带下拉箭头的单元格请从列表中选择；日期按“年-月-日”填写，如 {year}-03-15。", "", ""),
        ("text", f"改{ind.header_of('points')}时不要直接改旧行：在“{ind.name}”新增一行并填写{ind.header_of('valid_from')}，"
                 f"给旧行填写{ind.header_of('valid_to')}。", "", ""),
        ("blank", "", "", ""),
        ("section", "六、各工作表和列说明", "", ""),
    ]
    for spec in S.SHEETS:
        tag = "（由工具生成）" if spec.owned else ""
        rows.append(("sheet", spec.name + tag, spec.purpose, ""))
        rows.append(("colhead", "", "列", "说明"))
        for col in spec.kv_rows or spec.columns:
            rows.append(("col", "必填" if col.required and not spec.owned else "", col.header, _describe(col, year)))
    return [r if len(r) == 4 else (*r, "") for r in rows]


def _describe(col: schema.ColumnSpec, year: int) -> str:
    parts = []
    if col.hint:
        parts.append(col.hint)
    if col.choices:
        parts.append("下拉选择：" + "、".join(col.choices))
    elif col.lookup:
        ref = schema.sheet(col.lookup[0])
        parts.append(f"下拉选择“{ref.name}”中的{ref.header_of(col.lookup[1])}")
    elif not (col.type == schema.NAMES and col.hint):  # the hint already says how to join names
        parts.append(_type_words(col, year))
    return "；".join(p for p in parts if p)


def _write_help(ws, settings: dict, buttons: tuple = (), *, udfs: bool = False) -> None:
    bold = Font(bold=True)
    fonts = {"title": Font(bold=True, size=14), "section": Font(bold=True, size=12),
             "sheet": bold, "colhead": bold, "step": bold, "button": bold}
    sizes = {"title": 14 / 11, "section": 12 / 11}
    rows = _help_rows(settings, buttons, udfs=udfs)
    wrap = _style_of(ws, None, wrap=True)
    for r, (style, a, b, c) in enumerate(rows, start=1):
        ws.append([Cell(ws, value=v or None, style_array=wrap) for v in (a, b, c)])
        for first, last in _HELP_SPANS[style]:
            if last > first:
                ws.merge_cells(start_row=r, start_column=first, end_row=r, end_column=last)
        if style in fonts:
            ws.cell(r, 1).font = fonts[style]
            if style == "colhead":
                ws.cell(r, 2).font = ws.cell(r, 3).font = bold
        if style == "button":  # centred, so the button (centred in its cell) covers its caption
            ws.cell(r, 1).alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
            ws.cell(r, 2).alignment = Alignment(vertical="center", wrap_text=True)
    # Merged wrapped cells never grow by themselves (nor does any row LibreOffice did not save):
    # each row gets the height its longest text needs in the width it has.
    lines = np.ones(len(rows), dtype="int64")
    for first, last in {span for spans in _HELP_SPANS.values() for span in spans}:
        width = sum(HELP_WIDTHS[first - 1:last])
        texts = pd.Series([row[first] if (first, last) in _HELP_SPANS[row[0]] else None for row in rows],
                          dtype="object")
        scale = np.array([sizes.get(row[0], 1.0) for row in rows])
        lines = np.maximum(lines, look.text_lines(texts, width / scale))
    points = look.row_points(lines) * np.array([sizes.get(row[0], 1.0) for row in rows])
    is_button = np.array([row[0] == "button" for row in rows])
    points = np.where(is_button, np.maximum(points, BUTTON_ROW_POINTS), points)
    for i in np.flatnonzero((lines > 1) | (points > look.LINE_POINTS)):
        ws.row_dimensions[1 + int(i)].height = float(points[i])
    for letter, width in zip("ABC", HELP_WIDTHS):
        ws.column_dimensions[letter].width = width
    ws.sheet_properties.tabColor = look.HELP_TAB_COLOR
    _print_setup(ws, None, settings, portrait=True)


# --- save -------------------------------------------------------------------------


def _save(wb: Workbook, path: Path) -> None:
    """Save all or nothing: a temporary file beside ``path``, fsynced, then an atomic replace."""
    try:
        safefile.write_atomic(path, wb.save)
    except PermissionError as exc:
        raise WorkbookLocked(f"无法写入“{path}”：文件可能正被 Excel 或 WPS 打开，请关闭后再试。") from exc
    except OSError as exc:
        raise WriteFailed(f"无法写入“{path}”：{exc.strerror or exc}。请检查文件夹是否存在、是否有写入权限。") from exc
