"""Planning a lossless write: the new bytes of every part the toolkit changes, computed from the
package (``ooxml``) before anything is written. Every refusal happens here, while planning.

``_Package`` holds the package and the parts planned so far (``overlay``); it plans an owned
sheet's rows (``plan_sheet``), the cells patched in a clerk's sheet (``patching``), an owned sheet
the workbook lacks (``added_sheet``), calcChain entries to drop and the request to recalculate
on opening.
"""


from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import errors
from ..schema import SheetSpec
from . import look
from .added_sheet import AddsSheets
from .contract import clerk_column_refusal
from .grid import HEADER_SCAN_ROWS, find_sheet, norm_header  # one header depth
from .patching import PatchesCells
from .sheet_image import PlacesImages
from ..ooxml import markup, opc, workbookxml
from ..ooxml import tables as ooxtables
from ..ooxml.tables import Table, retarget_table
from ..ooxml.cellvalues import CellMaker
from ..ooxml import zip as ooxzip
from ..ooxml.markup import Corrupt
from ..ooxml.sheetxml import (
    CELLREF_RE, column_letters, column_number, rich_text, RowScanner, cells_in_row, column_styles, col_widths, template_row_attrs, rewrite_tail, Layout)


#: Excel keeps at most this many hyperlinks on one worksheet.
MAX_HYPERLINKS = 65530


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
_ATTRS = markup.ATTRS
_attrs, _set_attr = markup.attrs, markup.set_attr
_escape_attr, _decode = markup.escape_attr, markup.decode
_rels_part, _resolve = opc.rels_part, opc.resolve


def _norm_header(s: str) -> str:
    """A header as compared: ``_xHHHH_`` decoded, then exactly as the reader compares it."""
    return norm_header(markup.decode_xhhhh(s))


# =============================================================================
# One owned sheet
# =============================================================================


@dataclass
class _SheetPlan:
    """Result of rewriting one owned sheet."""

    sheet_xml: bytes
    tables: dict[str, bytes]
    header_row: int


class _Package(AddsSheets, PatchesCells, PlacesImages):
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
                    out[idx] = rich_text(m.group(1) or "", r"(?:\w+:)?")
                idx += 1
                pos = m.end()
                if idx > top:
                    return out
            buf = buf[pos:]
        return out

    # -- the owned sheet ------------------------------------------------------
    def _layout(self, spec: SheetSpec, part: str) -> "Layout":
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
        return Layout(bom, p, head, body, tail, len(f"</{p}sheetData>"))

    def plan_sheet(self, spec: SheetSpec, part: str, frame: pd.DataFrame,
                   links: list | None, link_field: str) -> _SheetPlan:
        lay = self._layout(spec, part)
        bom, p, head, body, tail, tail_start = lay.bom, lay.p, lay.head, lay.body, lay.tail, lay.tail_start

        rows = RowScanner(body, p)
        tables = self._tables_of(part)
        header_row, colmap = self._find_header(spec, rows, tables)

        # Split: rows up to and including the header stay byte for byte.
        split = rows.split_at(header_row)
        kept_body, old_body = body[:split], body[split:]

        mapped = sorted((col, fld) for fld, col in colmap.items())
        self._refuse_clerk_columns(spec, old_body, p, {c for c, _ in mapped}, tables)
        styles = column_styles(head, p)
        need = {c for c, _ in mapped if c not in styles}
        row_attrs = None
        for attrs, content in RowScanner(old_body, p).rows():
            if row_attrs is None:
                row_attrs = template_row_attrs(attrs)
            if not need:
                break
            for cattrs, col in cells_in_row(content, p):
                if col in need:
                    need.discard(col)
                    s = _attrs(cattrs).get("s")
                    styles[col] = s
        styles = {c: (s if s and s != "0" else None) for c, s in styles.items()}
        row_attrs = row_attrs or ""

        # New data rows.
        n = len(frame)
        first = header_row + 1
        maker = CellMaker(p, self.date1904)
        columns = []
        for col, fld in mapped:
            if fld in frame.columns:
                columns.append((column_letters(col), maker.column(frame[fld], styles.get(col))))
        new_rows: list[str] = []
        append = new_rows.append
        row_open, row_close = f"<{p}row r=\"", f"</{p}row>"
        cell_open = f'<{p}c r="'
        repeat, tall = _tall_rows(spec, frame, mapped, col_widths(head, p), row_attrs)
        for i in range(n):
            rn = str(first + i)
            cells = "".join([cell_open + letter + rn + '"' + tails[i]
                             for letter, tails in columns if tails[i] is not None])
            attrs = tall.get(i, repeat)
            if cells:
                append(row_open + rn + '"' + attrs + ">" + cells + row_close)
            else:
                append(row_open + rn + '"' + attrs + "/>")
        last_row = first + n - 1 if n else header_row
        if n == 0:
            # Keep the look of the empty table (row height, column styles) for the next write.
            styled = "".join(f'<{p}c r="{column_letters(c)}{first}" s="{styles[c]}"/>'
                             for c, _ in mapped if styles.get(c))
            if styled or row_attrs:
                append(f'<{p}row r="{first}"{row_attrs}>{styled}</{p}row>' if styled
                       else f'<{p}row r="{first}"{row_attrs}/>')
                last_row = first

        # Dimension: the kept cells plus the new ones.
        kept_refs = [(col, r) for r, cells in RowScanner(kept_body, p).row_cells() for col in cells]
        cols_used = [c for c, _ in kept_refs] + [c for c, _ in mapped]
        rows_used = [r for _, r in kept_refs] + ([last_row] if (n or last_row > header_row) else [])
        dim = (f"{column_letters(min(cols_used))}{min(rows_used)}:{column_letters(max(cols_used))}{max(rows_used)}"
               if cols_used and rows_used else "A1")
        head = re.sub(r"<%sdimension\b%s/?>" % (re.escape(p), _ATTRS),
                      lambda m: _set_attr(m.group(0), "ref", dim), head, count=1)

        # Hyperlinks for this sheet's data rows.
        new_links: list[str] = []
        if links is not None:
            link_col = colmap.get(link_field)
            if link_col is None:
                raise ValueError(f"link_field {link_field!r} is not a column of sheet {spec.key!r}")
            letter = column_letters(link_col)
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

        tail = rewrite_tail(tail, tail_start, p, header_row, last_row, new_links)
        sheet_xml = bom + (head + kept_body + "".join(new_rows) + tail).encode("utf-8")

        # Tables whose header row is ours.
        table_bytes: dict[str, bytes] = {}
        for t in tables:
            if t.ref is None or t.header_rows == 0 or t.ref[1] != header_row:
                continue
            c1, r1, c2, _r2 = t.ref
            if not any(c1 <= c <= c2 for c, _ in mapped):
                continue  # a clerk's side table that merely shares the header row
            ref = f"{column_letters(c1)}{r1}:{column_letters(c2)}{max(header_row + 1, header_row + n)}"
            table_bytes[t.part] = retarget_table(self.read(t.part), t.part, ref)
        return _SheetPlan(sheet_xml, table_bytes, header_row)

    def _refuse_clerk_columns(self, spec: SheetSpec, old_body: str, p: str, ours: set[int],
                              tables: list[Table]) -> None:
        """The data rows of an owned sheet are rewritten whole. A column the toolkit does not
        own that holds what a clerk typed there would be lost: refuse instead, naming it.

        The rows are only walked one by one when some cell stands outside the toolkit's columns
        (or has no ``r`` to say where it stands): a whole-body search for the columns in use
        settles the usual case (tens of thousands of sealed rows) at once."""
        q = re.escape(p)
        opened = len(re.findall(r"<%sc[\s/>]" % q, old_body))
        letters = re.findall(r'<%sc\s[^>]*?(?<=\s)r="([A-Za-z]{1,3})[0-9]+"' % q, old_body)
        if len(letters) == opened and {column_number(c.upper()) for c in set(letters)} <= ours:
            return
        for _attrs_text, content in RowScanner(old_body, p).rows():
            for _a, col, has_value in cells_in_row(content, p, with_value=True):
                if has_value and col not in ours:
                    raise clerk_column_refusal(spec, column_letters(col))

    def _tables_of(self, sheet_part: str) -> list[Table]:
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

    def _find_header(self, spec: SheetSpec, rows: "RowScanner", tables: list[Table]) -> tuple[int, dict[str, int]]:
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
        (``ooxml.workbookxml.request_full_calc``): the cached results of a clerk's formulas over a
        sheet the toolkit rewrote (a SUMIFS over 月度台账) are stale until then."""
        text, bom = _decode(self.read(self.workbook_part), self.workbook_part)
        new = workbookxml.request_full_calc(text)
        if new is not None:
            self.overlay[_key(self.workbook_part)] = bom + new.encode("utf-8")

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
            ref = CELLREF_RE.fullmatch(a.get("r", ""))
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
        rels_text = re.sub(_element_re("Relationship"),
                           lambda m: "" if _attrs(m.group(0)[1:]).get("Id") == rid else m.group(0),
                           rels_text, flags=re.S)
        out[_key(rels_name)] = rels_bom + rels_text.encode("utf-8")
        ct = self.read(_CONTENT_TYPES)
        if ct is not None:
            ct_text, ct_bom = _decode(ct, _CONTENT_TYPES)
            ct_text = re.sub(_element_re("Override"),
                             lambda m: "" if _attrs(m.group(0)[1:]).get("PartName", "").lower()
                             == "/" + part.lower() else m.group(0), ct_text, flags=re.S)
            out[_key(_CONTENT_TYPES)] = ct_bom + ct_text.encode("utf-8")
        return out


def _element_re(name: str) -> str:
    """One whole ``name`` element in any prefix, empty (``<x .../>``) or with its end tag
    (``<x ...></x>``, legal too): removing it never leaves a stray end tag behind."""
    return r"<(?:[\w.-]+:)?%s\b%s(?:/>|>\s*</(?:[\w.-]+:)?%s>)" % (name, _ATTRS, name)


def _tall_rows(spec: SheetSpec, frame: pd.DataFrame, mapped: list[tuple[int, str]], widths: dict[int, float],
               row_attrs: str) -> tuple[str, dict[int, str]]:
    """The attributes repeated on every new row, and (by row position) those of the rows whose
    wrapping text needs more than one line (``look.text_lines`` at the sheet's column widths):
    a height of ``look.row_points`` for their lines, as the template builder gives them.

    Excel keeps the height a file gives a row and LibreOffice does not grow it for printing, so
    a long 问题说明 would print cut off at one line. A repeated height taller than one line (the
    first old row was a long finding of the previous write) is not repeated: one-line rows then
    take the sheet's default height."""
    lines = np.ones(len(frame), dtype="int64")
    for col, fld in mapped:
        column = spec.column(fld)
        if column.wraps and fld in frame.columns:
            lines = np.maximum(lines, look.text_lines(frame[fld], widths.get(col, column.width)))
    base = template_row_attrs(row_attrs, drop={"ht", "customHeight"})
    height = re.search(r"""\sht\s*=\s*["']([^"']*)""", row_attrs)
    try:
        grown = height is not None and float(height.group(1)) > look.row_points([1])[0]
    except ValueError:
        grown = False
    tall = np.flatnonzero(lines > 1)
    points = look.row_points(lines[tall])
    rows = {int(i): f'{base} ht="{h:g}" customHeight="1"' for i, h in zip(tall.tolist(), points.tolist())}
    return (base if grown else row_attrs), rows
