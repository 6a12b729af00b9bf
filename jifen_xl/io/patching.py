"""Single cells of a clerk's sheet set in place (积分登记.状态 when a month is published or
closed): the rows found by key as the toolkit's reader saw them, every other byte of the sheet
kept. Planned, with every refusal, before anything is written."""

from __future__ import annotations

import pandas as pd

from .. import errors
from ..ooxml.cellvalues import CellMaker
from ..ooxml.markup import attrs as _attrs
from ..ooxml.markup import escape_attr as _escape_attr
from ..ooxml.sheetxml import (RowScanner, array_ranges, column_number, column_styles, find_cell, formula_re,
                              cell_insert_at, merged_ranges, row_style_of)
from ..schema import SheetSpec
from .base import ColumnPatch, RawTable
from .contract import covered_cell_refusal, formula_cell_refusal, rows_of_keys


class PatchesCells:
    """The part of ``writeplan._Package`` that plans the cells patched in a clerk's sheet."""

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
        row_of = rows_of_keys(spec, seen, set().union(*(pt.values for pt in patches)), self.display)

        rows = RowScanner(body, p)
        located = rows.locate(set(row_of.values()))
        covered = merged_ranges(lay.tail, p) + array_ranges(body, p)
        maker = CellMaker(p, self.date1904)
        col_styles = column_styles(lay.head, p)
        edits: dict[int, list[tuple[int, int, int, str]]] = {}  # row start -> edits within its content
        for pt in patches:
            letter = seen.letters[pt.field]
            col = column_number(letter)
            keys = sorted(pt.values)
            tails = maker.column(pd.Series([pt.values[k] for k in keys], dtype=object), None)
            for key, tail in zip(keys, tails):
                rn = row_of[key]
                where = (f"工作簿「{self.display}」的工作表「{spec.name}」第 {rn} 行"
                         f"「{spec.header_of(pt.field)}」列（{letter}{rn}）")
                inside = [kind for c1, r1, c2, r2, kind in covered if c1 <= col <= c2 and r1 <= rn <= r2]
                if inside:
                    raise covered_cell_refusal(self.display, spec, pt.field, letter, rn, inside[0])
                row = located.get(rn)
                if row is None:
                    raise errors.WriteRefused(
                        f"{where}：工具在文件中找不到这一行，没有写入。请在 Excel 或 WPS 中打开工作簿、保存一次后重试。")
                start, _end, row_attrs, content, _rn = row
                cell = find_cell(content, p, col, rn)
                if cell is None:
                    at, style = cell_insert_at(content, p, col), col_styles.get(col) or row_style_of(row_attrs)
                    if at is None:
                        raise errors.WriteRefused(
                            f"{where}：这一行的单元格没有写明位置，工具无法安全地补上内容，没有写入。"
                            f"请在 Excel 或 WPS 中打开工作簿、保存一次后重试。")
                    span, keep = (at, at), f' s="{style}"' if style and style != "0" else ""
                else:
                    cs, ce, attrs, inner = cell
                    if formula_re(p).search(inner):
                        raise formula_cell_refusal(self.display, spec, pt.field, letter, rn)
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
