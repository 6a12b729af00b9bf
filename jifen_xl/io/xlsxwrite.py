"""Lossless writer of the sheets the toolkit owns (月度台账, 库存台账, 校验结果).

A clerk's workbook carries buttons, macros, images, charts and comments that
openpyxl would drop on load/save (GUIDE §2.6). So this module never passes the
workbook through a spreadsheet library. It treats the file as a zip package:

* every part the toolkit does not own is copied *as raw compressed bytes*
  (local header, data and data descriptor untouched), so nothing is
  recompressed and the cost of a write does not depend on the size of the
  clerk's other sheets (a 60,000-row 积分登记 costs one block copy);
* the owned sheet's worksheet XML keeps everything above and including its
  header row byte for byte, plus every element around ``<sheetData>``; only the
  data rows below the header are replaced (generated with string joins);
* the owned sheet's Excel table(s) get their ``ref`` / ``<autoFilter ref>``
  updated; ``xl/calcChain.xml`` loses the entries of formula cells that were
  removed (Excel rebuilds it; a stale entry makes Excel "repair" the file).

The write is atomic: a timestamped backup goes to ``备份/`` beside the file,
the new package is written to a temporary file in the same folder, flushed,
fsynced and moved over the original with ``os.replace``. Any failure leaves
the original exactly as it was.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import numbers
import os
import posixpath
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .. import errors, safefile
from ..render import display_width
from ..core.clean import ROW, to_code, to_text
from ..schema import BY_KEY, SheetSpec, is_village_workbook
from .base import ColumnPatch, RawTable
from .grid import col_index, col_letter, find_sheet, norm_header
from . import look
from ..ooxml import markup, opc
from ..ooxml import tables as ooxtables
from ..ooxml.tables import _Table, _retarget_table
from ..ooxml import zip as ooxzip
from ..ooxml.markup import Corrupt
from ..ooxml.sheetxml import (  # noqa: F401 (the sheet XML helpers the planner uses)
    _CELLREF_RE, _parse_range, _top_children, _rich_text, _ROW_NUMBER_RE, _RowScanner, _cell_text, _value_re, _cell_spans, _cells, _find_cell, _insert_at, _row_style, _FIRST_CELL_ROW_RE, _merged_ranges, _array_ranges, _formula_re, _CELL_COL_RE, _cell_re, _col_attr, _col_styles, _ROW_ATTRS_DROPPED, _col_widths, _template_row_attrs, _AFTER_HYPERLINKS, _ref_last_row, _rewrite_tail, _grow_sqref, _Layout)
from .package import os_reason
from .xlsxread import XlsxReader

__all__ = ["ColumnPatch", "WriteResult", "write_owned", "check_writable", "BACKUP_DIR_NAME"]

BACKUP_DIR_NAME = safefile.BACKUP_DIR_NAME

#: Suffixes the writer accepts (zip packages of SpreadsheetML).
WRITABLE_SUFFIXES = (".xlsx", ".xlsm")

#: Excel keeps at most this many hyperlinks on one worksheet.
MAX_HYPERLINKS = 65530

#: Excel refuses cells longer than this (characters).
MAX_CELL_CHARS = 32767

#: Rows scanned from the top of a sheet when looking for the header row.
HEADER_SCAN_ROWS = 100

_FORMAT_NAMES = {
    ".xls": "旧版 Excel 97-2003（.xls）",
    ".xlsb": "Excel 二进制（.xlsb）",
    ".ods": "OpenDocument（.ods）",
    ".et": "WPS 表格（.et）",
    ".ett": "WPS 表格模板（.ett）",
    ".csv": "CSV 文本（.csv）",
    ".xltx": "Excel 模板（.xltx）",
    ".xltm": "Excel 启用宏的模板（.xltm）",
}

_SAVE_AS_HINT = ("请在 Excel 或 WPS 中打开它，点 文件→另存为→Excel 工作簿(*.xlsx)"
                 "（工作簿里有宏按钮时选 Excel 启用宏的工作簿(*.xlsm)），再对新文件重试。")


@dataclass(frozen=True)
class WriteResult:
    """What :func:`write_owned` did.

    :param path: the workbook that was written.
    :param backup: the timestamped copy made before writing, or None.
    :param added: owned sheets the workbook lacked and now has (their names).
    """

    path: Path
    backup: Path | None
    added: tuple[str, ...] = ()


# =============================================================================
# Pre-flight checks
# =============================================================================

def check_writable(path) -> None:
    """Refuse early, with a message for the clerk, when ``path`` cannot be written safely.

    Checks the file format (only ``.xlsx`` / ``.xlsm``), that the file exists and is a
    zip package (not an encrypted or misnamed file), that Excel, WPS or LibreOffice
    does not hold it open (their lock file sits beside it), and that the file and its
    folder are writable.

    :param path: the workbook.
    :raises errors.WorkbookLocked: the workbook is open in Excel, WPS or LibreOffice.
    :raises errors.WriteRefused: any other reason the toolkit will not write it.
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in WRITABLE_SUFFIXES:
        kind = _FORMAT_NAMES.get(suffix, f"“{p.suffix or '无扩展名'}”")
        raise errors.WriteRefused(
            f"工作簿「{p.name}」是{kind}格式，工具只能写入 .xlsx 或 .xlsm 工作簿。" + _SAVE_AS_HINT)
    if not p.exists():
        raise errors.WriteRefused(f"找不到工作簿「{p}」。请检查文件名和所在文件夹是否正确。")
    if not p.is_file():
        raise errors.WriteRefused(f"「{p}」不是一个文件。请选择工作簿文件（.xlsx 或 .xlsm）。")
    for lock, who in safefile.lock_files(p):
        raise errors.WorkbookLocked(
            f"工作簿「{p.name}」正被 {who} 打开（同一文件夹里有锁定文件「{lock.name}」），工具没有写入。"
            f"请先保存并关闭该工作簿再试；如果确认没有打开它，可以删除锁定文件「{lock.name}」后重试。")
    try:
        with open(p, "rb") as fh:
            magic = fh.read(4)
    except OSError as exc:
        raise errors.WriteRefused(
            f"无法打开工作簿「{p}」（{os_reason(exc)}）。请确认文件没有被其他程序占用，并且你有权限读取它。"
        ) from exc
    if magic.startswith(b"\xd0\xcf\x11\xe0"):
        raise errors.WriteRefused(
            f"工作簿「{p.name}」设置了打开密码（已加密），或者实际上是旧版 .xls 文件，工具无法写入。"
            "请在 Excel 或 WPS 中打开它，取消打开密码（文件→信息→保护工作簿→用密码进行加密，清空密码），"
            "或点 文件→另存为→Excel 工作簿(*.xlsx)，再重试。")
    if magic != b"PK\x03\x04":
        raise errors.WriteRefused(
            f"工作簿「{p.name}」不是有效的 Excel 工作簿（文件内容不是 .xlsx 格式，可能已损坏或被改了扩展名），"
            "工具没有写入。" + _SAVE_AS_HINT)
    if not os.access(p, os.W_OK):
        raise errors.WriteRefused(
            f"工作簿「{p.name}」是只读文件，工具没有写入，也没有生成备份。"
            "请在文件上点右键→属性，取消勾选“只读”后再试；或把它另存一份可写的副本。")
    folder = p.parent
    if not os.access(folder, os.W_OK | os.X_OK):
        raise errors.WriteRefused(
            f"工作簿所在的文件夹「{folder}」不允许写入（只读或没有权限），工具没有写入，也没有生成备份。"
            "请把工作簿复制到可写的文件夹（例如桌面或“文档”）后再试。")


# =============================================================================
# The zip container (ooxml.zip): raw reading and raw copying
# =============================================================================

_CONTENT_TYPES = opc.CONTENT_TYPES
_key = opc.key
_Corrupt = Corrupt
_Zip64, _Encrypted = ooxzip.Zip64, ooxzip.Encrypted
_ZipReader = ooxzip.ZipContainer
_write_package = ooxzip.write_package


# =============================================================================
# Small XML helpers (regex over trusted-shape parts; DOM only for small parts)
# =============================================================================

# The one attribute parser and escaping (ooxml.markup), the one part-name resolution (ooxml.opc).
_ATTRS, _TAG_RE, _XHHHH_RE = markup.ATTRS, markup.TAG_RE, markup.XHHHH_RE
_attrs, _unescape, _set_attr = markup.attrs, markup.unescape, markup.set_attr
_escape_attr, _escape_text, _decode = markup.escape_attr, markup.escape_text, markup.decode
_rels_part, _resolve = opc.rels_part, opc.resolve


def _norm_header(s: str) -> str:
    """A header as compared: ``_xHHHH_`` decoded, then exactly as the reader compares it."""
    return norm_header(_XHHHH_RE.sub(lambda m: chr(int(m.group(1), 16)), s))


def _col_index(letters: str) -> int:
    """Excel letters -> 1-based column number."""
    return col_index(letters.upper()) + 1


def _col_letter(n: int) -> str:
    """1-based column number -> Excel letters."""
    return col_letter(n - 1)




















# =============================================================================
# Cell values -> XML
# =============================================================================

_EPOCH_1900 = dt.datetime(1899, 12, 30)
_EPOCH_1904 = dt.datetime(1904, 1, 1)


def _fmt_number(v: float | int) -> str | None:
    if isinstance(v, int):
        return str(v)
    if not math.isfinite(v):
        return None
    if v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return repr(float(v))


class _CellMaker:
    """Turns one column's values into the XML after ``<c r="..."`` (or None for no cell)."""

    def __init__(self, prefix: str, date1904: bool):
        self.p = prefix
        self.epoch = _EPOCH_1904 if date1904 else _EPOCH_1900

    def column(self, series: pd.Series, style: str | None) -> list[str | None]:
        p = self.p
        s = f' s="{style}"' if style else ""
        num_open, num_close = f"{s}><{p}v>", f"</{p}v></{p}c>"
        str_open = f'{s} t="inlineStr"><{p}is><{p}t xml:space="preserve">'
        str_close = f"</{p}t></{p}is></{p}c>"
        dtype = series.dtype
        if isinstance(dtype, np.dtype) and dtype.kind in "iuf":
            return self._numeric(series.to_numpy(), num_open, num_close)
        values = series.tolist()
        out: list[str | None] = []
        append = out.append
        for v in values:
            if v is None:
                append(None)
            elif isinstance(v, str):
                append(str_open + _escape_text(v) + str_close if v else None)
            elif isinstance(v, float):
                n = _fmt_number(v)
                append(None if n is None else num_open + n + num_close)
            elif isinstance(v, (bool, np.bool_)):
                append(f'{s} t="b"><{p}v>{1 if v else 0}</{p}v></{p}c>')
            elif isinstance(v, int):
                append(num_open + str(v) + num_close)
            else:
                append(self._other(v, num_open, num_close, str_open, str_close))
        return out

    @staticmethod
    def _numeric(arr: np.ndarray, num_open: str, num_close: str) -> list[str | None]:
        """Vectorised path for plain numpy int/float columns (most of 月度台账)."""
        if arr.dtype.kind in "iu":
            return [num_open + t + num_close for t in arr.astype(str).tolist()]
        arr = arr.astype(np.float64, copy=False)
        out: list[str | None] = [None] * len(arr)
        finite = np.isfinite(arr)
        with np.errstate(invalid="ignore"):
            integral = finite & (np.abs(arr) < 1e15) & (arr == np.floor(arr))
        idx = np.flatnonzero(integral)
        for i, t in zip(idx.tolist(), arr[idx].astype(np.int64).astype(str).tolist()):
            out[i] = num_open + t + num_close
        idx = np.flatnonzero(finite & ~integral)
        for i, v in zip(idx.tolist(), arr[idx].tolist()):
            out[i] = num_open + repr(v) + num_close
        return out

    def _other(self, v, num_open, num_close, str_open, str_close) -> str | None:
        if v is pd.NA or v is pd.NaT:
            return None
        if isinstance(v, numbers.Integral):
            return num_open + str(int(v)) + num_close
        if isinstance(v, (numbers.Real, decimal.Decimal)):
            f = float(v)
            n = _fmt_number(f)
            return None if n is None else num_open + n + num_close
        serial = self._serial(v)
        if serial is not None:
            n = _fmt_number(serial)
            return None if n is None else num_open + n + num_close
        try:
            if pd.isna(v):
                return None
        except (TypeError, ValueError):
            pass
        text = str(v)
        return str_open + _escape_text(text) + str_close if text else None

    def _serial(self, v) -> float | None:
        """Excel serial number of a date/datetime/time/timedelta, else None."""
        if isinstance(v, pd.Timestamp):
            v = v.to_pydatetime()
        if isinstance(v, dt.datetime):
            if v.tzinfo is not None:
                v = v.replace(tzinfo=None)
            delta = v - self.epoch
        elif isinstance(v, dt.date):
            delta = dt.datetime(v.year, v.month, v.day) - self.epoch
        elif isinstance(v, dt.time):
            return (v.hour * 3600 + v.minute * 60 + v.second + v.microsecond / 1e6) / 86400
        elif isinstance(v, (dt.timedelta, pd.Timedelta)):
            delta = pd.Timedelta(v).to_pytimedelta()
            return delta.total_seconds() / 86400
        else:
            return None
        serial = delta.days + delta.seconds / 86400 + delta.microseconds / 86400e6
        return round(serial, 10)


# =============================================================================
# One owned sheet
# =============================================================================





@dataclass
class _SheetPlan:
    """Result of rewriting one owned sheet."""

    sheet_xml: bytes
    tables: dict[str, bytes]
    header_row: int


class _Package:
    """The workbook as a zip of parts; computes the new bytes of the parts the toolkit owns."""

    def __init__(self, zr: _ZipReader, display: str):
        self.zr = zr
        self.display = display  # file name for messages
        #: parts planned so far (lower-case name -> bytes): new ones, and package parts changed to
        #: hold them (workbook, relationships, content types); read before the package's own.
        self.overlay: dict[str, bytes] = {}
        root_rels = self._rels("")
        wb = next((_resolve("", r["Target"]) for r in root_rels if r["Type"].endswith("/officeDocument")), None)
        if wb is None or self.zr.get(wb) is None:
            raise _Corrupt("找不到工作簿主部件")
        self.workbook_part = wb
        wb_text = self._text(wb)
        self.date1904 = opc.date1904(wb_text)
        # (name, sheetId, r:id); of two relationship ids the last counts, as the reader (calamine) takes it
        self.sheets: list[tuple[str, str, str]] = [(s.name, s.sheet_id, s.rids[-1] if s.rids else "")
                                                   for s in opc.workbook_sheets(wb_text)]
        self.wb_rels = self._rels(wb)

    def read(self, name: str) -> bytes | None:
        """A part's bytes as planned so far (``overlay``), else as in the package; None if absent."""
        if _key(name) in self.overlay:
            return self.overlay[_key(name)]
        entry = self.zr.get(name)
        return None if entry is None else self.zr.read(entry)

    def _text(self, name: str) -> str | None:
        """An XML part's text as planned so far (UTF-8; a DTD refused), None if absent."""
        data = self.read(name)
        return None if data is None else _decode(data, name)[0]

    # -- relationships --------------------------------------------------------
    def _rels(self, part: str) -> list[dict[str, str]]:
        """The relationships of ``part`` (``""``: the package's), by the one parser (ooxml.opc)."""
        text = self._text(_rels_part(part))
        if text is None:
            return []
        return [{"Id": r.id, "Type": r.type, "Target": r.target, "TargetMode": r.mode}
                for r in opc.relationships(text)]

    def wb_target(self, rel_type_suffix: str) -> tuple[str, str] | None:
        for r in self.wb_rels:
            if r["Type"].endswith(rel_type_suffix) and r["TargetMode"] != "External":
                return r["Id"], _resolve(self.workbook_part, r["Target"])
        return None

    def sheet_part(self, spec: SheetSpec) -> tuple[str, str] | None:
        """(part name, sheetId) of the declared sheet ``spec``, or None; found exactly as the
        reader finds it (``grid.find_sheet``): an owned sheet by its exact name (surrounding spaces
        aside), a clerk's sheet also after folding full-width forms, spaces and a trailing （…）."""
        name = find_sheet(spec, [s[0] for s in self.sheets])
        if name is None:
            return None
        _, sheet_id, rid = next(s for s in self.sheets if s[0] == name)
        for r in self.wb_rels:
            if r["Id"] == rid:
                return _resolve(self.workbook_part, r["Target"]), sheet_id
        raise _Corrupt(f"工作表“{name}”的关系缺失")

    def require_sheet(self, spec: SheetSpec) -> tuple[str, str]:
        """(part name, sheetId) of the declared sheet; refused (nothing written) when it is missing."""
        found = self.sheet_part(spec)
        if found is None:
            raise errors.WriteRefused(
                f"工作簿「{self.display}」中没有工作表「{spec.name}」，工具没有写入。"
                f"请从工具的模板工作簿中把「{spec.name}」工作表（含表头）复制到本工作簿，再重试。")
        return found

    # -- shared strings (only the few indices needed, streamed) ---------------
    _SI_RE = re.compile(r"<(?:\w+:)?si(?:\s[^>]*)?(?:/>|>(.*?)</(?:\w+:)?si>)", re.S)

    def shared_strings(self, needed: set[int]) -> dict[int, str]:
        if not needed:
            return {}
        target = self.wb_target("/sharedStrings")
        entry = self.zr.get(target[1]) if target else None
        if entry is None:
            return {}
        out: dict[int, str] = {}
        top = max(needed)
        idx = 0
        buf = ""
        for text in self.zr.iter_text(entry):
            buf += text
            pos = 0
            for m in self._SI_RE.finditer(buf):
                if idx in needed:
                    out[idx] = _rich_text(m.group(1) or "", r"(?:\w+:)?")
                idx += 1
                pos = m.end()
                if idx > top:
                    return out
            buf = buf[pos:]
        return out

    # -- an owned sheet the workbook lacks ---------------------------------------
    def add_sheet(self, spec: SheetSpec) -> None:
        """Plan a new owned sheet after the last one: its header row, widths, frozen header, an
        Excel table with filter buttons, A4 print setup with the header repeated on every page.

        The workbook's other sheets, names and parts stay as they are; only the workbook part,
        its relationships and the content types gain an entry each (and the print-titles name),
        and the styles one cell format (wrapped text, for the long-text columns).
        Its data rows are then written like those of any owned sheet (``plan_sheet``)."""
        wb_part = self.workbook_part
        wb_text, wb_bom = _decode(self.read(wb_part), wb_part)
        root = re.search(r"<(?:([A-Za-z_][\w.-]*):)?workbook\b(%s)>" % _ATTRS, wb_text, re.S)
        p = root.group(1) + ":" if root and root.group(1) else ""
        declared = _attrs(root.group(2)) if root else {}
        first = re.search(r"<%ssheet\b(%s)/?>" % (re.escape(p), _ATTRS), wb_text, re.S)
        rel_prefix = re.search(r"(?:^|\s)([A-Za-z_][\w.-]*):id\s*=", first.group(1)) if first else None
        close = wb_text.find(f"</{p}sheets>")
        if declared.get(f"xmlns:{p[:-1]}" if p else "xmlns") != _MAIN_NS or rel_prefix is None or close < 0:
            raise errors.WriteRefused(  # e.g. a "Strict Open XML" workbook
                f"工作簿「{self.display}」中没有工作表「{spec.name}」，而这个工作簿的格式不便由工具添加工作表，工具没有写入。"
                f"请从工具的模板工作簿中把「{spec.name}」工作表（含表头）复制到本工作簿，"
                f"或在 Excel 中另存为“Excel 工作簿(*.xlsx)”后重试。")
        rel_prefix = rel_prefix.group(1)
        rel_ns = re.search(r"""xmlns:%s\s*=\s*["']([^"']+)["']""" % re.escape(rel_prefix), wb_text)
        if rel_ns is None:
            raise _Corrupt("工作簿部件的命名空间不完整")

        sheet_id = max([int(sid) for _, sid, _ in self.sheets if sid.isdigit()] + [0]) + 1
        rid = _fresh(lambda n: f"rId{n}", {r["Id"] for r in self.wb_rels})
        taken = self._taken_part_names()
        part = _fresh(lambda n: f"xl/worksheets/sheet{n}.xml", taken,
                      lambda name: _rels_part(name).lower() in taken)  # no leftover .rels either
        table_part = _fresh(lambda n: f"xl/tables/table{n}.xml", taken)
        table_ids, names = self._table_ids_and_names()
        table_id = max(table_ids, default=0) + 1
        table_name = _fresh(lambda n: spec.table if n == 1 else f"{spec.table}{n}",
                            names | _defined_names(wb_text), start=1)
        index = len(self.sheets)  # localSheetId of the new sheet: it comes last

        quoted = "'" + spec.name.replace("'", "''") + "'"
        titles = (f'<{p}definedName name="_xlnm.Print_Titles" localSheetId="{index}">'
                  f"{_escape_text(quoted)}!$1:$1</{p}definedName>")
        # (the prefix declared on the element itself: some writers declare it on each <sheet>)
        new_sheet = (f'<{p}sheet xmlns:{rel_prefix}="{_escape_attr(rel_ns.group(1))}" name="{_escape_attr(spec.name)}" '
                     f'sheetId="{sheet_id}" {rel_prefix}:id="{rid}"/>')
        wb_text = wb_text[:close] + new_sheet + wb_text[close:]
        names_close = wb_text.find(f"</{p}definedNames>")
        empty = re.search(r"<%sdefinedNames\b[^>]*/>" % re.escape(p), wb_text)
        if names_close >= 0:
            wb_text = wb_text[:names_close] + titles + wb_text[names_close:]
        elif empty:  # <definedNames/> (openpyxl writes it): one element, now holding the name
            wb_text = wb_text[:empty.start()] + f"<{p}definedNames>{titles}</{p}definedNames>" + wb_text[empty.end():]
        else:  # definedNames comes after sheets (and functionGroups, externalReferences), before these
            after = re.compile(r"<%s(?:%s)\b" % (re.escape(p), "|".join(_AFTER_DEFINED_NAMES)))
            m = after.search(wb_text, wb_text.find(f"</{p}sheets>"))
            at = m.start() if m else wb_text.rfind(f"</{p}workbook>")
            wb_text = wb_text[:at] + f"<{p}definedNames>{titles}</{p}definedNames>" + wb_text[at:]
        self.overlay[_key(wb_part)] = wb_bom + wb_text.encode("utf-8")

        rels_name = _rels_part(wb_part)
        target = posixpath.relpath(part, posixpath.dirname(wb_part) or ".")
        self._add_relationship(rels_name, rid, _REL_WORKSHEET, target)
        self._add_relationship(_rels_part(part), "rId1", _REL_TABLE,
                               posixpath.relpath(table_part, posixpath.dirname(part)))
        self._add_content_types({part: _CT_WORKSHEET, table_part: _CT_TABLE})
        wrap = self._wrap_style() if any(c.wraps for c in spec.columns) else None
        self.overlay[_key(part)] = _new_sheet_xml(spec, wrap).encode("utf-8")
        self.overlay[_key(table_part)] = _new_table_xml(spec, table_id, table_name).encode("utf-8")
        self.sheets.append((spec.name, str(sheet_id), rid))
        self.wb_rels.append({"Id": rid, "Type": _REL_WORKSHEET, "Target": target, "TargetMode": ""})

    def _wrap_style(self) -> str | None:
        """The index of a cell format that wraps text at the top of the cell (as the template's long
        text columns do), appended to the workbook's styles: the formats already there keep their
        indices. None when the workbook has no styles part to extend."""
        target = self.wb_target("/styles")
        data = self.read(target[1]) if target else None
        if data is None:
            return None
        text, bom = _decode(data, target[1])
        xfs = re.search(r"<((?:[\w.-]+:)?)cellXfs\b(%s)>(.*?)</\1cellXfs>" % _ATTRS, text, re.S)
        if xfs is None:
            return None
        p, count = xfs.group(1), len(re.findall(r"<%sxf\b" % re.escape(xfs.group(1)), xfs.group(3)))
        xf = (f'<{p}xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1">'
              f'<{p}alignment vertical="top" wrapText="1"/></{p}xf>')
        tag = _set_attr(f"<{p}cellXfs{xfs.group(2)}>", "count", str(count + 1))
        text = text[:xfs.start()] + tag + xfs.group(3) + xf + f"</{p}cellXfs>" + text[xfs.end():]
        self.overlay[_key(target[1])] = bom + text.encode("utf-8")
        return str(count)

    def _taken_part_names(self) -> set[str]:
        """Part names (lower case) a new part must not take: the package's parts, the ones planned,
        and the ones content types still name."""
        ct = self.read(_CONTENT_TYPES) or b""
        named = {m.decode("utf-8", "replace").lstrip("/").lower()
                 for m in re.findall(rb"""PartName\s*=\s*["']([^"']+)""", ct)}
        return {_key(e.name) for e in self.zr.entries} | set(self.overlay) | named

    def _table_ids_and_names(self) -> tuple[set[int], set[str]]:
        """The ids and (lower-case) names of every table in the package and planned so far
        (both must stay unique): parts the content types call tables, and any under xl/tables/."""
        ct = self.read(_CONTENT_TYPES) or b""
        typed = {m.decode("utf-8", "replace").lstrip("/").lower() for m in re.findall(
            rb"""PartName\s*=\s*["']([^"']+)["'][^>]*?ContentType\s*=\s*["'][^"']*table\+xml""", ct)}
        ids, names = set(), set()
        for name in sorted(({_key(e.name) for e in self.zr.entries} | set(self.overlay))):
            if name in typed or re.fullmatch(r"xl/tables/[^/]+\.xml", name):
                text = self._text(name)
                if text is None:
                    continue
                ident, both = ooxtables.id_and_names(text)
                if ident is not None:
                    ids.add(ident)
                names |= both
        return ids, names

    def _add_relationship(self, rels_name: str, rid: str, rel_type: str, target: str) -> None:
        data = self.read(rels_name)
        text, bom = _decode(data, rels_name) if data is not None else (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{_RELS_NS}"></Relationships>',
            b"")
        close = re.search(r"</(?:[\w.-]+:)?Relationships>\s*$", text)
        if close is None:
            raise _Corrupt(f"关系部件“{rels_name}”格式错误")
        prefix = re.match(r"</([\w.-]+:)?", close.group(0)).group(1) or ""
        rel = f'<{prefix}Relationship Id="{rid}" Type="{rel_type}" Target="{_escape_attr(target)}"/>'
        self.overlay[_key(rels_name)] = bom + (text[:close.start()] + rel + text[close.start():]).encode("utf-8")

    def _add_content_types(self, overrides: dict[str, str]) -> None:
        text, bom = _decode(self.read(_CONTENT_TYPES) or b"", _CONTENT_TYPES)
        close = re.search(r"</(?:[\w.-]+:)?Types>\s*$", text)
        if close is None:
            raise _Corrupt("内容类型部件格式错误")
        prefix = re.match(r"</([\w.-]+:)?", close.group(0)).group(1) or ""
        new = "".join(f'<{prefix}Override PartName="/{name}" ContentType="{ct}"/>' for name, ct in overrides.items())
        if not re.search(r"""<(?:[\w.-]+:)?Default\b[^>]*Extension=["']rels["']""", text, re.I):
            new += f'<{prefix}Default Extension="rels" ContentType="{_CT_RELS}"/>'
        self.overlay[_key(_CONTENT_TYPES)] = bom + (text[:close.start()] + new + text[close.start():]).encode("utf-8")

    # -- the owned sheet ------------------------------------------------------
    def _layout(self, spec: SheetSpec, part: str) -> "_Layout":
        """The worksheet ``part`` cut around its sheet data (refused when it is not a worksheet)."""
        data = self.read(part)
        if data is None:
            raise _Corrupt(f"找不到工作表部件“{part}”")
        text, bom = _decode(data, part)
        root = re.search(r"<(?:([A-Za-z_][\w.-]*):)?(worksheet|chartsheet|dialogsheet|macrosheet)\b", text)
        if root is None or root.group(2) != "worksheet":
            raise errors.WriteRefused(
                f"工作簿「{self.display}」中的「{spec.name}」不是普通工作表（可能是图表页），工具无法写入。"
                f"请删除它，再从工具模板中复制「{spec.name}」工作表（含表头）到本工作簿后重试。")
        p = root.group(1) + ":" if root.group(1) else ""
        sd = re.compile(r"<%ssheetData\b%s(/?)>" % (re.escape(p), _ATTRS), re.S).search(text)
        if sd is None:
            raise _Corrupt(f"工作表“{spec.name}”缺少数据区")
        if sd.group(1):
            head, body, tail = text[:sd.start()] + f"<{p}sheetData>", "", f"</{p}sheetData>" + text[sd.end():]
        else:
            close = text.find(f"</{p}sheetData>", sd.end())
            if close < 0:
                raise _Corrupt(f"工作表“{spec.name}”的数据区不完整")
            head, body, tail = text[:sd.end()], text[sd.end():close], text[close:]
        return _Layout(bom, p, head, body, tail, len(f"</{p}sheetData>"))

    def plan_sheet(self, spec: SheetSpec, part: str, frame: pd.DataFrame,
                   links: list | None, link_field: str) -> _SheetPlan:
        lay = self._layout(spec, part)
        bom, p, head, body, tail, tail_start = lay.bom, lay.p, lay.head, lay.body, lay.tail, lay.tail_start

        rows = _RowScanner(body, p)
        tables = self._tables_of(part)
        header_row, colmap = self._find_header(spec, rows, tables)

        # Split: rows up to and including the header stay byte for byte.
        split = rows.split_at(header_row)
        kept_body, old_body = body[:split], body[split:]

        mapped = sorted((col, fld) for fld, col in colmap.items())
        self._refuse_clerk_columns(spec, old_body, p, {c for c, _ in mapped}, tables)
        styles = _col_styles(head, p)
        need = {c for c, _ in mapped if c not in styles}
        row_attrs = None
        for attrs, content in _RowScanner(old_body, p).rows():
            if row_attrs is None:
                row_attrs = _template_row_attrs(attrs)
            if not need:
                break
            for cattrs, col in _cells(content, p):
                if col in need:
                    need.discard(col)
                    s = _attrs(cattrs).get("s")
                    styles[col] = s
        styles = {c: (s if s and s != "0" else None) for c, s in styles.items()}
        row_attrs = row_attrs or ""

        # New data rows.
        n = len(frame)
        first = header_row + 1
        maker = _CellMaker(p, self.date1904)
        columns = []
        for col, fld in mapped:
            if fld in frame.columns:
                columns.append((_col_letter(col), maker.column(frame[fld], styles.get(col))))
        new_rows: list[str] = []
        append = new_rows.append
        row_open, row_close = f"<{p}row r=\"", f"</{p}row>"
        cell_open = f'<{p}c r="'
        tall = _tall_rows(spec, frame, mapped, _col_widths(head, p), row_attrs)
        for i in range(n):
            rn = str(first + i)
            cells = "".join([cell_open + letter + rn + '"' + tails[i]
                             for letter, tails in columns if tails[i] is not None])
            attrs = tall.get(i, row_attrs)
            if cells:
                append(row_open + rn + '"' + attrs + ">" + cells + row_close)
            else:
                append(row_open + rn + '"' + attrs + "/>")
        last_row = first + n - 1 if n else header_row
        if n == 0:
            # Keep the look of the empty table (row height, column styles) for the next write.
            styled = "".join(f'<{p}c r="{_col_letter(c)}{first}" s="{styles[c]}"/>'
                             for c, _ in mapped if styles.get(c))
            if styled or row_attrs:
                append(f'<{p}row r="{first}"{row_attrs}>{styled}</{p}row>' if styled
                       else f'<{p}row r="{first}"{row_attrs}/>')
                last_row = first

        # Dimension: the kept cells plus the new ones.
        kept_refs = [(col, r) for r, cells in _RowScanner(kept_body, p).row_cells() for col in cells]
        cols_used = [c for c, _ in kept_refs] + [c for c, _ in mapped]
        rows_used = [r for _, r in kept_refs] + ([last_row] if (n or last_row > header_row) else [])
        dim = (f"{_col_letter(min(cols_used))}{min(rows_used)}:{_col_letter(max(cols_used))}{max(rows_used)}"
               if cols_used and rows_used else "A1")
        head = re.sub(r"<%sdimension\b%s/?>" % (re.escape(p), _ATTRS),
                      lambda m: _set_attr(m.group(0), "ref", dim), head, count=1)

        # Hyperlinks for this sheet's data rows.
        new_links: list[str] = []
        if links is not None:
            link_col = colmap.get(link_field)
            if link_col is None:
                raise ValueError(f"link_field {link_field!r} is not a column of sheet {spec.key!r}")
            letter = _col_letter(link_col)
            shown = frame[link_field].tolist() if link_field in frame.columns else [None] * n
            for i, target in enumerate(links):
                if len(new_links) >= MAX_HYPERLINKS:
                    break
                if target is None or (isinstance(target, float) and math.isnan(target)):
                    continue
                target = str(target).lstrip("#")
                if not target:
                    continue
                disp = shown[i]
                disp_attr = ""
                if isinstance(disp, str) and disp:
                    disp_attr = f' display="{_escape_attr(disp[:255])}"'
                new_links.append(f'<{p}hyperlink ref="{letter}{first + i}" location="{_escape_attr(target)}"'
                                 f"{disp_attr}/>")

        tail = _rewrite_tail(tail, tail_start, p, header_row, last_row, new_links)
        sheet_xml = bom + (head + kept_body + "".join(new_rows) + tail).encode("utf-8")

        # Tables whose header row is ours.
        table_bytes: dict[str, bytes] = {}
        for t in tables:
            if t.ref is None or t.header_rows == 0 or t.ref[1] != header_row:
                continue
            c1, r1, c2, _r2 = t.ref
            if not any(c1 <= c <= c2 for c, _ in mapped):
                continue  # a clerk's side table that merely shares the header row
            ref = f"{_col_letter(c1)}{r1}:{_col_letter(c2)}{max(header_row + 1, header_row + n)}"
            table_bytes[t.part] = _retarget_table(self.read(t.part), t.part, ref)
        return _SheetPlan(sheet_xml, table_bytes, header_row)

    # -- cells of a clerk's sheet ------------------------------------------------
    def plan_patches(self, spec: SheetSpec, part: str, patches: list[ColumnPatch], seen: RawTable) -> bytes:
        """The worksheet ``part`` with the patched cells set and every other byte as it was.

        Which row holds which key, and which column is which, is what the toolkit's reader saw
        in this very file (``seen``): the key column typed as the reader types it names the row,
        so the writer never disagrees with the reader about it. A key on no row or on two is
        refused, as is a patched cell that holds a formula or lies in an array formula's range
        or a merged block. A new value keeps the cell's style."""
        lay = self._layout(spec, part)
        p, body = lay.p, lay.body
        key_header = spec.header_of(spec.key_field)
        wanted = set().union(*(pt.values for pt in patches))
        rows_of: dict[str, list[int]] = {}
        for key, rn in zip(to_code(seen.frame[spec.key_field]).tolist(), seen.frame[ROW].tolist()):
            if key in wanted:
                rows_of.setdefault(key, []).append(int(rn))
        missing = sorted(wanted - set(rows_of))
        if missing:
            shown = "、".join(missing[:5]) + (f" 等 {len(missing)} 个" if len(missing) > 5 else "")
            raise errors.WriteRefused(
                f"工作簿「{self.display}」的工作表「{spec.name}」中找不到{key_header}为 {shown} 的行，工具没有写入。"
                f"可能是读取之后工作簿被修改过（改了{key_header}或删了行）：请保存工作簿后重新运行。")
        for key in sorted(wanted):
            if len(rows_of[key]) > 1:
                shown = "、".join(map(str, rows_of[key][:5]))
                raise errors.WriteRefused(
                    f"工作簿「{self.display}」的工作表「{spec.name}」第 {shown} 行的{key_header}都是 {key}，"
                    f"工具无法确定该改哪一行，没有写入。请把重复的{key_header}改为各不相同后重试。")

        rows = _RowScanner(body, p)
        located = rows.locate({found[0] for found in rows_of.values()})
        covered = _merged_ranges(lay.tail, p) + _array_ranges(body, p)
        maker = _CellMaker(p, self.date1904)
        col_styles = _col_styles(lay.head, p)
        edits: dict[int, list[tuple[int, int, int, str]]] = {}  # row start -> edits within its content
        for pt in patches:
            letter = seen.letters[pt.field]
            col = _col_index(letter)
            keys = sorted(pt.values)
            tails = maker.column(pd.Series([pt.values[k] for k in keys], dtype=object), None)
            for key, tail in zip(keys, tails):
                rn = rows_of[key][0]
                where = (f"工作簿「{self.display}」的工作表「{spec.name}」第 {rn} 行"
                         f"「{spec.header_of(pt.field)}」列（{letter}{rn}）")
                inside = [kind for c1, r1, c2, r2, kind in covered if c1 <= col <= c2 and r1 <= rn <= r2]
                if inside:
                    raise errors.WriteRefused(
                        f"{where}在{inside[0]}里，工具不会改写它，没有写入。"
                        + ("请取消合并单元格后重试。" if inside[0] == "合并单元格" else "请把公式改为直接填写的内容后重试。"))
                row = located.get(rn)
                if row is None:
                    raise errors.WriteRefused(
                        f"{where}：工具在文件中找不到这一行，没有写入。请在 Excel 或 WPS 中打开工作簿、保存一次后重试。")
                start, _end, row_attrs, content, _rn = row
                cell = _find_cell(content, p, col, rn)
                if cell is None:
                    at, style = _insert_at(content, p, col), col_styles.get(col) or _row_style(row_attrs)
                    if at is None:
                        raise errors.WriteRefused(
                            f"{where}：这一行的单元格没有写明位置，工具无法安全地补上内容，没有写入。"
                            f"请在 Excel 或 WPS 中打开工作簿、保存一次后重试。")
                    span, keep = (at, at), f' s="{style}"' if style and style != "0" else ""
                else:
                    cs, ce, attrs, inner = cell
                    if _formula_re(p).search(inner):
                        raise errors.WriteRefused(
                            f"{where}是公式，工具不会覆盖公式，没有写入。请把该单元格改为直接填写的内容后重试。")
                    a = _attrs(attrs)
                    span, keep = (cs, ce), "".join(f' {n}="{_escape_attr(a[n])}"' for n in ("s", "ph") if n in a)
                new = f'<{p}c r="{letter}{rn}"{keep}{tail}' if tail is not None else (
                    f'<{p}c r="{letter}{rn}"{keep}/>' if keep else "")
                edits.setdefault(start, []).append((*span, col, new))

        out, pos = [], 0
        for start, end, _attrs_text, content, _rn in sorted(located.values()):
            if start not in edits:
                continue
            content_end = end - len(rows.close)
            content_start = content_end - len(content)
            # from the end, so earlier offsets hold; two new cells at one place: the right one first
            for s_, e_, _col, new in sorted(edits[start], key=lambda e: e[:3], reverse=True):
                content = content[:s_] + new + content[e_:]
            out += [body[pos:content_start], content]
            pos = content_end
        out.append(body[pos:])
        return lay.xml(body="".join(out))

    def _refuse_clerk_columns(self, spec: SheetSpec, old_body: str, p: str, ours: set[int],
                              tables: list[_Table]) -> None:
        """The data rows of an owned sheet are rewritten whole. A column the toolkit does not
        own that holds what a clerk typed there would be lost: refuse instead, naming it."""
        for _attrs_text, content in _RowScanner(old_body, p).rows():
            for _a, col, has_value in _cells(content, p, with_value=True):
                if has_value and col not in ours:
                    raise errors.WriteRefused(
                        f"「{spec.name}」工作表的第 {_col_letter(col)} 列不是工具生成的列，但下面的行里有手工填写的内容；"
                        f"工具重写「{spec.name}」时会覆盖它。请把这一列移到别的工作表（或删除）后再试。")

    def _tables_of(self, sheet_part: str) -> list[_Table]:
        out = []
        for r in self._rels(sheet_part):
            if not r["Type"].endswith("/table") or r["TargetMode"] == "External":
                continue
            part = _resolve(sheet_part, r["Target"])
            text = self._text(part)
            if text is None:
                continue
            out.append(ooxtables.parse_table(text, part))
        return out

    def _find_header(self, spec: SheetSpec, rows: "_RowScanner", tables: list[_Table]) -> tuple[int, dict[str, int]]:
        """Header row number and field -> column index, via the sheet's table or by scanning rows."""
        wanted = {_norm_header(c.header): c.field for c in spec.columns}
        ordered = sorted(tables, key=lambda t: t.name.lower() != spec.table.lower())
        for t in ordered:
            if t.ref is None or t.header_rows == 0:
                continue
            found = {}
            for i, name in enumerate(t.columns):
                fld = wanted.get(_norm_header(name))
                if fld and fld not in found:
                    found[fld] = t.ref[0] + i
            if len(found) == len(wanted):
                return t.ref[1], found

        # No table names all headers: look at the cells of the top rows.
        candidates = []
        sst_needed: set[int] = set()
        for rn, cells in rows.head_cells(HEADER_SCAN_ROWS):
            candidates.append((rn, cells))
            for col, (kind, val) in cells.items():
                if kind == "s" and val.strip().isdigit():
                    sst_needed.add(int(val))
        sst = self.shared_strings(sst_needed)
        best: tuple[int, int, dict[str, int]] = (0, 0, {})
        for rn, cells in candidates:
            found: dict[str, int] = {}
            for col in sorted(cells):
                kind, val = cells[col]
                txt = sst.get(int(val), "") if kind == "s" and val.strip().isdigit() else val
                fld = wanted.get(_norm_header(txt))
                if fld and fld not in found:
                    found[fld] = col
            if len(found) > best[1]:
                best = (rn, len(found), found)
            if len(found) == len(wanted):
                return rn, found
        missing = [c.header for c in spec.columns if c.field not in best[2]]
        if best[1] == 0:
            raise errors.WriteRefused(
                f"工作簿「{self.display}」的工作表「{spec.name}」里找不到表头行（应包含：{'、'.join(spec.headers)}）。"
                f"请从工具模板中重新复制「{spec.name}」工作表（含表头），再重试。")
        raise errors.WriteRefused(
            f"工作簿「{self.display}」的工作表「{spec.name}」第 {best[0]} 行的表头缺少列：{'、'.join(missing)}。"
            f"请在该行补上这些列标题（文字与模板一致），或从工具模板中重新复制「{spec.name}」工作表，再重试。")

    # -- recalculation on opening ----------------------------------------------
    def plan_full_calc_on_load(self) -> None:
        """Ask the spreadsheet program to recalculate every formula when it opens the workbook
        (``<calcPr fullCalcOnLoad="1">``, ECMA-376 18.2.2): the cached results of a clerk's
        formulas over a sheet the toolkit rewrote (a SUMIFS over 月度台账) are stale until then.
        An existing ``calcPr`` keeps its other attributes; a new one goes where CT_Workbook puts
        it (after ``definedNames``, before ``oleSize`` ... ``extLst``)."""
        wb_part = self.workbook_part
        text, bom = _decode(self.read(wb_part), wb_part)
        root = markup.root(text)
        if root is None or root[0] != "workbook":
            raise _Corrupt("工作簿主部件格式错误")
        p = root[1]
        open_end = 0
        for m in markup.TAG_RE.finditer(text):
            if m.group(2) is not None and not m.group(1):
                open_end = m.end()  # the end of the root's start tag
                break
        children, close = _top_children(text, open_end)
        calc = next(((s, e) for local, s, e in children if local == "calcPr"), None)
        if calc is not None:
            tag_end = text.index(">", calc[0]) + 1
            tag = text[calc[0]:tag_end]
            if re.search(r"""\sfullCalcOnLoad\s*=""", tag):
                new = markup.set_attr(tag, "fullCalcOnLoad", "1")
            else:
                cut = len(tag) - (2 if tag.endswith("/>") else 1)
                new = tag[:cut].rstrip() + ' fullCalcOnLoad="1"' + tag[cut:]
            if new == tag:
                return
            text = text[:calc[0]] + new + text[tag_end:]
        else:
            at = next((s for local, s, _e in children if local in _AFTER_DEFINED_NAMES[1:]), close)
            text = text[:at] + f'<{p}calcPr fullCalcOnLoad="1"/>' + text[at:]
        self.overlay[_key(wb_part)] = bom + text.encode("utf-8")

    # -- calcChain ------------------------------------------------------------
    def plan_calc_chain(self, cut: dict[str, int]) -> dict[str, bytes | None]:
        """Drop calcChain entries of removed cells: ``cut`` maps sheetId -> header row.

        Returns new bytes for the touched parts (None = drop the part).
        """
        target = self.wb_target("/calcChain")
        if not cut or target is None:
            return {}
        rid, part = target
        data = self.read(part)
        if data is None:
            return {}
        text, bom = _decode(data, part)
        matches = list(re.finditer(r"<(?:\w+:)?c\b(%s)(?:/>|>\s*</(?:\w+:)?c>)" % _ATTRS, text, re.S))
        cur, kept, removed, prev_emitted = "0", [], 0, None
        for m in matches:
            a = _attrs(m.group(1))
            explicit = "i" in a
            if explicit:
                cur = a["i"]
            ref = _CELLREF_RE.fullmatch(a.get("r", ""))
            if cur in cut and ref and int(ref.group(2)) > cut[cur]:
                removed += 1
                continue
            raw = m.group(0)
            if not explicit and prev_emitted != cur:
                raw = raw[:2] + f' i="{cur}"' + raw[2:] if raw.startswith("<c") else re.sub(
                    r"^(<\w+:c)", r'\1 i="%s"' % cur, raw)
            kept.append(raw)
            prev_emitted = cur
        if not removed:
            return {}
        if kept:
            new = text[:matches[0].start()] + "".join(kept) + text[matches[-1].end():]
            return {_key(part): bom + new.encode("utf-8")}
        # Nothing left: drop the part, its relationship and its content-type override.
        out: dict[str, bytes | None] = {_key(part): None}
        rels_name = _rels_part(self.workbook_part)
        rels_text, rels_bom = _decode(self.read(rels_name), rels_name)
        rels_text = re.sub(r"<(?:\w+:)?Relationship\b%s/?>" % _ATTRS,
                           lambda m: "" if _attrs(m.group(0)[1:]).get("Id") == rid else m.group(0),
                           rels_text, flags=re.S)
        out[_key(rels_name)] = rels_bom + rels_text.encode("utf-8")
        ct = self.read(_CONTENT_TYPES)
        if ct is not None:
            ct_text, ct_bom = _decode(ct, _CONTENT_TYPES)
            ct_text = re.sub(r"<(?:\w+:)?Override\b%s/?>" % _ATTRS,
                             lambda m: "" if _attrs(m.group(0)[1:]).get("PartName", "").lower()
                             == "/" + part.lower() else m.group(0), ct_text, flags=re.S)
            out[_key(_CONTENT_TYPES)] = ct_bom + ct_text.encode("utf-8")
        return out


_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_REL_WORKSHEET = _DOC_RELS + "/worksheet"
_REL_TABLE = _DOC_RELS + "/table"
_CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
_CT_TABLE = "application/vnd.openxmlformats-officedocument.spreadsheetml.table+xml"
_CT_RELS = "application/vnd.openxmlformats-package.relationships+xml"
#: What may follow ``<definedNames>`` in a workbook part (ECMA-376 CT_Workbook), in order.
_AFTER_DEFINED_NAMES = ("calcPr", "oleSize", "customWorkbookViews", "pivotCaches", "smartTagPr", "smartTagTypes",
                        "webPublishing", "fileRecoveryPr", "webPublishObjects", "extLst")


def _fresh(name, taken: set[str] | None, exists=None, start: int = 1) -> str:
    """The first ``name(n)``, n = start, start + 1 ..., not in ``taken`` (compared in lower case) and
    for which ``exists`` is false."""
    lowered = {t.lower() for t in taken} if taken is not None else set()
    n = start
    while name(n).lower() in lowered or (exists is not None and exists(name(n))):
        n += 1
    return name(n)


def _defined_names(wb_text: str) -> set[str]:
    return {m.group(1).lower() for m in re.finditer(r"""<(?:[\w.-]+:)?definedName\b[^>]*?\sname\s*=\s*["']([^"']*)""",
                                                    wb_text)}


def _new_sheet_xml(spec: SheetSpec, wrap: str | None) -> str:
    """An owned sheet with only its header row, as the template makes it (look.py); ``wrap``:
    the cell format of the columns whose long text wraps."""
    last = _col_letter(len(spec.columns))
    cols = "".join(f'<col min="{i}" max="{i}" width="{c.width:g}"'
                   + (f' style="{wrap}"' if wrap and c.wraps else "") + ' customWidth="1"/>'
                   for i, c in enumerate(spec.columns, start=1))
    header = "".join(f'<c r="{_col_letter(i)}1" t="inlineStr"><is><t>{_escape_text(c.header)}</t></is></c>'
                     for i, c in enumerate(spec.columns, start=1))
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<worksheet xmlns="{_MAIN_NS}" xmlns:r="{_DOC_RELS}">'
        f'<sheetPr><tabColor rgb="FF{look.OWNED_TAB_COLOR}"/><pageSetUpPr fitToPage="1"/></sheetPr>'
        f'<dimension ref="A1:{last}1"/>'
        '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" '
        'state="frozen"/><selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
        '<sheetFormatPr defaultRowHeight="15"/>'
        f"<cols>{cols}</cols>"
        f'<sheetData><row r="1">{header}</row></sheetData>'
        '<printOptions horizontalCentered="1" gridLines="1"/>'
        '<pageMargins left="0.5" right="0.5" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
        f'<pageSetup paperSize="{look.PAPER_A4}" orientation="{look.orientation(spec)}" fitToWidth="1" '
        'fitToHeight="0"/>'
        f'<headerFooter><oddHeader>&amp;C&amp;A</oddHeader><oddFooter>&amp;C{_escape_text(look.FOOTER)}</oddFooter>'
        "</headerFooter>"
        '<tableParts count="1"><tablePart r:id="rId1"/></tableParts>'
        "</worksheet>")


def _new_table_xml(spec: SheetSpec, table_id: int, name: str) -> str:
    """The Excel table of a new owned sheet (header row and one data row; ``plan_sheet`` sizes it)."""
    ref = f"A1:{_col_letter(len(spec.columns))}2"
    columns = "".join(f'<tableColumn id="{i}" name="{_escape_attr(c.header)}"/>'
                      for i, c in enumerate(spec.columns, start=1))
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<table xmlns="{_MAIN_NS}" id="{table_id}" name="{_escape_attr(name)}" displayName="{_escape_attr(name)}" '
        f'ref="{ref}" totalsRowShown="0"><autoFilter ref="{ref}"/>'
        f'<tableColumns count="{len(spec.columns)}">{columns}</tableColumns>'
        f'<tableStyleInfo name="{look.OWNED_TABLE_STYLE}" showFirstColumn="0" showLastColumn="0" '
        'showRowStripes="1" showColumnStripes="0"/></table>')






































#: Points per line of wrapped text (the default row height of an 11-point font).
LINE_POINTS = 15.0
#: Never taller than this (Excel's limit is 409 points).
MAX_ROW_POINTS = 409.0




def _tall_rows(spec: SheetSpec, frame: pd.DataFrame, mapped: list[tuple[int, str]], widths: dict[int, float],
               row_attrs: str) -> dict[int, str]:
    """Row attributes, by row position, for rows whose wrapping text needs more than one line.

    Excel keeps the height a file gives a row and LibreOffice does not grow it for printing, so
    a long 问题说明 would print cut off at one line: such rows get an explicit height."""
    lines = np.ones(len(frame), dtype=int)
    for col, fld in mapped:
        column = spec.column(fld)
        if not column.wraps or fld not in frame.columns:
            continue
        per_line = max(widths.get(col, column.width) - 1, 4)
        for i, v in enumerate(frame[fld].tolist()):
            if not isinstance(v, str) or (len(v) * 2 <= per_line and "\n" not in v):
                continue  # one line, whatever its characters
            need = sum(max(1, math.ceil(display_width(part) / per_line)) for part in v.split("\n"))
            lines[i] = max(lines[i], need)
    if not (lines > 1).any():
        return {}
    base = _template_row_attrs(row_attrs, drop={"ht", "customHeight"})
    return {int(i): f'{base} ht="{min(lines[i] * LINE_POINTS, MAX_ROW_POINTS):g}" customHeight="1"'
            for i in np.flatnonzero(lines > 1)}














# =============================================================================
# Public entry point
# =============================================================================

def write_owned(path, frames: dict[str, pd.DataFrame] | None = None, *,
                links: dict[str, list[str | None]] | None = None, link_field: str = "message",
                patches: Sequence[ColumnPatch] = (), backup: bool = True,
                now: dt.datetime | None = None) -> WriteResult:
    """Write the toolkit's sheets into a clerk's workbook, losing nothing else: replace the data
    rows of owned sheets (``frames``) and set single cells of declared columns in the clerk's own
    sheets (``patches``), all in one atomic write.

    Every part of the package the toolkit does not own (other sheets, macros, buttons,
    images, charts, comments, styles) is copied byte for byte, without recompression; a
    patched sheet keeps every byte but the cells it sets. The write is atomic and preceded
    by a timestamped backup in ``备份/`` beside the file.

    :param path: the ``.xlsx`` / ``.xlsm`` workbook. An owned sheet it lacks is added after its
        last sheet (with header, table, widths and print setup); a patched sheet must be there.
    :param frames: sheet key (``"ledger"``, ``"stock"``, ``"findings"``) -> DataFrame whose
        columns are the spec's field names. A field missing from the frame leaves its column empty.
    :param links: sheet key -> one internal hyperlink target per data row (e.g. ``'积分登记'!C5``)
        or None; placed on the cell of ``link_field``.
    :param link_field: the field whose cells carry the hyperlinks.
    :param patches: new values for columns the schema declares ``patched`` (积分登记.状态), by
        row key; see :class:`ColumnPatch`. Every key must be on exactly one row of the file. The
        rows and columns are the ones the toolkit's reader finds in the file, and the new
        package is read back before it replaces the old one: every cell of the patched sheet
        must read as before except the patched ones (refused otherwise).
    :param backup: make the timestamped backup first (turning it off is for tests and
        callers that already made one).
    :param now: the time stamped on the backup's name (default: now).
    :raises errors.WorkbookLocked: the workbook is open in Excel, WPS or LibreOffice.
    :raises errors.WriteRefused: wrong format, read-only, not an owned sheet, owned sheet or
        header missing, a patched row not found (or found twice), a patched cell holding a formula.
    :raises errors.WorkbookUnreadable: the file is corrupt.
    :raises errors.WriteFailed: writing failed; the original is unchanged.
    """
    started = time.time()
    path = Path(path)
    check_writable(path)
    owned = _owned_plans(frames or {}, links, link_field)
    by_sheet = _patch_plans(patches)
    if not owned and not by_sheet:
        return WriteResult(path, None)

    added: list[str] = []
    before = os.stat(os.path.realpath(path))  # a change from here on is refused (see _rewrite)
    seen = _read_patched(path, by_sheet)

    def plan(pkg: _Package) -> dict[str, bytes | None]:
        for spec, _frame, _links in owned:  # a village workbook made before the sheet was declared
            if pkg.sheet_part(spec) is None and is_village_workbook(pkg.sheet_part):
                pkg.add_sheet(spec)
                added.append(spec.name)
        replace: dict[str, bytes | None] = {}
        cut: dict[str, int] = {}
        for spec, frame, row_links in owned:
            part, sheet_id = pkg.require_sheet(spec)
            plan = pkg.plan_sheet(spec, part, frame, row_links, link_field)
            replace[_key(part)] = plan.sheet_xml
            for tpart, data in plan.tables.items():
                replace[_key(tpart)] = data
            cut[sheet_id] = plan.header_row
        for spec, sheet_patches in by_sheet.items():
            part, _sheet_id = pkg.require_sheet(spec)
            replace[_key(part)] = pkg.plan_patches(spec, part, sheet_patches, seen[spec])
        replace.update(pkg.plan_calc_chain(cut))
        pkg.plan_full_calc_on_load()
        return {**pkg.overlay, **replace}

    verify = (lambda tmp: _verify_patches(tmp, path.name, seen, by_sheet)) if by_sheet else None
    result = _rewrite(path, plan, backup=backup, now=now, started=started, verify=verify, before=before)
    return WriteResult(result.path, result.backup, tuple(added))


def _owned_plans(frames: dict[str, pd.DataFrame], links, link_field: str
                 ) -> list[tuple[SheetSpec, pd.DataFrame, list | None]]:
    """The owned sheets to rewrite, with their frames and links, checked against the schema."""
    plans: list[tuple[SheetSpec, pd.DataFrame, list | None]] = []
    for key, frame in frames.items():
        spec = BY_KEY.get(key)
        if spec is None:
            raise errors.WriteRefused(f"没有名为“{key}”的工作表定义，工具没有写入。")
        if not spec.owned:
            owned = "、".join(s.name for s in BY_KEY.values() if s.owned)
            raise errors.WriteRefused(
                f"工作表「{spec.name}」由村里填写，工具不会整表覆盖它（工具只整表写入：{owned}）。工具没有写入。")
        unknown = [c for c in frame.columns if c not in spec.fields]
        if unknown:
            raise ValueError(f"frame for {key!r} has columns not in the schema: {unknown}")
        row_links = None
        if links and key in links and links[key] is not None:
            row_links = list(links[key])
            if len(row_links) != len(frame):
                raise ValueError(f"links[{key!r}] has {len(row_links)} items for {len(frame)} rows")
            if link_field not in spec.fields:
                raise ValueError(f"link_field {link_field!r} is not a field of sheet {key!r}")
        plans.append((spec, frame, row_links))
    if links:
        stray = set(links) - set(frames)
        if stray:
            raise ValueError(f"links given for sheets that are not written: {sorted(stray)}")
    return plans


def _patch_plans(patches: Sequence[ColumnPatch]) -> dict[SheetSpec, list[ColumnPatch]]:
    """The patches grouped by sheet, checked against the schema (only declared columns)."""
    out: dict[SheetSpec, list[ColumnPatch]] = {}
    for patch in patches:
        spec = BY_KEY.get(patch.sheet)
        if spec is None:
            raise errors.WriteRefused(f"没有名为“{patch.sheet}”的工作表定义，工具没有写入。")
        if spec.owned or spec.key_field is None or patch.field not in spec.fields \
                or not spec.column(patch.field).patched:
            raise ValueError(f"{patch.sheet}.{patch.field} is not a column the schema lets the toolkit patch")
        if any(p.field == patch.field for p in out.get(spec, [])):
            raise ValueError(f"two patches for {patch.sheet}.{patch.field}")
        if patch.values:
            out.setdefault(spec, []).append(patch)
    return out


def _read_patched(path: Path, by_sheet: dict[SheetSpec, list[ColumnPatch]]) -> dict[SheetSpec, RawTable]:
    """The sheets to patch as the toolkit's reader sees them in ``path`` (rows, keys, columns)."""
    if not by_sheet:
        return {}
    book = XlsxReader(path)
    return {spec: book.read_table(spec) for spec in by_sheet}


def _verify_patches(tmp: str, display: str, seen: dict[SheetSpec, RawTable],
                    by_sheet: dict[SheetSpec, list[ColumnPatch]]) -> None:
    """Read the new package back with the reader: every cell of the patched sheets reads as it
    did, except the patched ones, which read as their new values. Anything else is refused."""
    book = XlsxReader(tmp)
    for spec, before in seen.items():
        after = book.read_table(spec)
        rows = before.frame[ROW].tolist()
        bad = None
        if after.letters != before.letters or after.frame[ROW].tolist() != rows:
            bad = (rows[0] if rows else after.header_row, spec.key_field)
        keys = to_code(before.frame[spec.key_field])
        for field_name in [f for f in before.frame.columns if f != ROW] if bad is None else []:
            old, new = before.frame[field_name], after.frame[field_name]
            patch = next((pt for pt in by_sheet[spec] if pt.field == field_name), None)
            hit = keys.isin(patch.values).to_numpy() if patch else np.zeros(len(old), dtype=bool)
            same = old.to_numpy(dtype=object) == new.to_numpy(dtype=object)
            if patch:
                wanted = to_text(pd.Series([patch.values[k] for k in keys[hit]], dtype=object)).to_numpy(dtype=object)
                same[hit] = wanted == to_text(new[hit]).to_numpy(dtype=object)
            if not same.all():
                bad = (rows[int(np.flatnonzero(~same)[0])], field_name)
                break
        if bad is not None:
            raise errors.WriteRefused(
                f"工具写入后核对：工作簿「{display}」的工作表「{spec.name}」第 {bad[0]} 行"
                f"「{spec.header_of(bad[1])}」列读回的内容与预期不符（这个工作表的格式比较特殊），"
                f"工具没有写入，原文件保持不变。请在 Excel 或 WPS 中打开工作簿、保存一次后重试。")


def _rewrite(path: Path, plan, *, backup: bool, now: dt.datetime | None, started: float,
             verify=None, before: os.stat_result | None = None) -> WriteResult:
    """The one way the toolkit changes a workbook: ``plan(package)`` returns the new bytes of the
    parts it changes (None = drop the part); then the backup, the new package in a temporary
    file beside the original, ``verify(temporary path)`` when given (it reads the new package
    back and raises to refuse it), and ``os.replace`` unless the file changed or was opened
    meanwhile."""
    target = Path(os.path.realpath(path))
    display = path.name
    safefile.sweep_stale_temps(target, started)
    before = before or os.stat(target)  # (the caller's, when it read the file first)
    try:
        with open(target, "rb") as fh:
            zr = _ZipReader(fh, before.st_size)
            if zr.zip64:
                raise _Zip64()
            replace = plan(_Package(zr, display))
            bak = None
            if backup:
                try:
                    bak = safefile.make_backup(target, now or dt.datetime.now())
                except OSError as exc:
                    raise errors.WriteRefused(
                        f"无法在「{target.parent / BACKUP_DIR_NAME}」中创建备份（{os_reason(exc)}），"
                        f"为安全起见工具没有写入工作簿「{display}」。"
                        f"请确认该文件夹可写，且没有名为“{BACKUP_DIR_NAME}”的文件占用这个名字，再重试。") from exc
            tmp = _write_temp(zr, replace, target, display, bak)
    except _Zip64 as exc:
        raise errors.WriteRefused(
            f"工作簿「{display}」太大（超过 4GB 或部件超过 65535 个），工具无法写入。"
            "请把历年数据拆分到不同的工作簿后再试。") from exc
    except _Encrypted as exc:
        raise errors.WriteRefused(
            f"工作簿「{display}」的部分内容被加密，工具无法写入。请在 Excel 或 WPS 中取消加密并另存为 .xlsx 后重试。"
        ) from exc
    except _Corrupt as exc:
        raise errors.WorkbookUnreadable(
            f"工作簿「{display}」已损坏或不是有效的 Excel 工作簿（{exc}），工具没有写入任何内容。"
            "请在 Excel 或 WPS 中打开它，另存为 Excel 工作簿(*.xlsx) 后再试。") from exc
    except OSError as exc:  # reading the workbook itself failed (USB stick pulled, permissions)
        raise errors.WriteFailed(
            f"读取工作簿「{display}」时出错（{os_reason(exc)}），工具没有写入任何内容。"
            "请确认文件还在、没有被其他程序占用，再重试。") from exc

    backup_note = f"写入前的备份在「{bak}」。" if bak else ""
    try:
        if verify is not None:
            verify(tmp)
        after = os.stat(target)
        if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
            raise errors.WriteFailed(
                f"写入期间工作簿「{display}」被其他程序修改了，工具没有覆盖它，原文件保持不变。{backup_note}"
                "请关闭正在编辑它的程序后重试。")
        for lock, who in safefile.lock_files(path):  # opened while we were working
            raise errors.WorkbookLocked(
                f"工作簿「{display}」刚刚被 {who} 打开（出现了锁定文件「{lock.name}」），工具没有覆盖它，"
                f"原文件保持不变。{backup_note}请保存并关闭该工作簿后重试。")
        try:
            os.replace(tmp, target)  # (not safefile.replace: its directory fsync comes after the checks)
        except PermissionError as exc:
            raise errors.WorkbookLocked(
                f"无法替换工作簿「{display}」（{os_reason(exc)}）：它可能正被 Excel 或 WPS 打开，或者是只读文件。"
                f"原文件保持不变。{backup_note}请关闭该工作簿、取消“只读”后重试。") from exc
        except OSError as exc:
            raise errors.WriteFailed(
                f"写入工作簿「{display}」失败（{os_reason(exc)}），原文件保持不变。{backup_note}"
                "请确认磁盘空间充足、文件夹可写后重试。") from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    safefile.fsync_dir(target.parent)
    return WriteResult(path, bak)


def _write_temp(zr: _ZipReader, replace: dict[str, bytes | None], target: Path, display: str,
                bak: Path | None) -> str:
    """Write the new package next to ``target``; return the temp file's path."""
    backup_note = f"写入前的备份在「{bak}」。" if bak else ""
    try:
        return safefile.write_temp(target, lambda out: _write_package(zr, replace, out))
    except safefile.NoTempFile as exc:
        raise errors.WriteRefused(
            f"无法在「{target.parent}」中写入（{os_reason(exc)}）：文件夹是只读的或没有权限。"
            f"工作簿「{display}」保持不变。{backup_note}"
            "请把工作簿复制到可写的文件夹（例如桌面或“文档”）后再试。") from exc
    except PermissionError as exc:
        raise errors.WriteRefused(
            f"无法在「{target.parent}」中写入（{os_reason(exc)}）：文件夹是只读的或没有权限。"
            f"工作簿「{display}」保持不变。{backup_note}"
            "请把工作簿复制到可写的文件夹后再试。") from exc
    except OSError as exc:
        raise errors.WriteFailed(
            f"写入工作簿「{display}」失败（{os_reason(exc)}），原文件保持不变。{backup_note}"
            "请确认磁盘空间充足后重试。") from exc
