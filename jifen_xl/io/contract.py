"""What every backend checks when it plans a write, in one place: the request against the
schema (only owned sheets are rewritten whole, only ``patched`` columns are set), the rows a
patch sets (by row key, as the reader typed it), and the refusals' wording.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .. import errors
from ..core.clean import ROW
from ..schema import BY_KEY, CLERK_SHEETS, IMAGE_SHEETS, SheetSpec
from .base import CellRef, ColumnPatch, RawTable, WriteRequest
from .grid import norm_header  # the one folding of sheet names


@dataclass(frozen=True)
class OwnedWrite:
    """One owned sheet to rewrite: its spec, its new rows, one link (or None) per row."""

    spec: SheetSpec
    frame: pd.DataFrame
    links: list[CellRef | None] | None


def owned_writes(request: WriteRequest) -> list[OwnedWrite]:
    """The owned sheets of ``request``, checked against the schema."""
    out: list[OwnedWrite] = []
    for key, frame in request.tables.items():
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
        if request.links.get(key) is not None:
            row_links = list(request.links[key])
            if len(row_links) != len(frame):
                raise ValueError(f"links[{key!r}] has {len(row_links)} items for {len(frame)} rows")
            if request.link_field not in spec.fields:
                raise ValueError(f"link_field {request.link_field!r} is not a field of sheet {key!r}")
        out.append(OwnedWrite(spec, frame, row_links))
    stray = set(request.links) - set(request.tables)
    if stray:
        raise ValueError(f"links given for sheets that are not written: {sorted(stray)}")
    return out


def image_writes(request: WriteRequest) -> list[tuple[str, Path]]:
    """The free-layout sheets of ``request`` (sheet name, image file), in ``IMAGE_SHEETS`` order,
    checked against the schema: only a declared free-layout sheet, never a clerk's sheet (nor a
    name the reader would take for one) or an owned table sheet."""
    for name in request.images:
        clerk = next((s for s in CLERK_SHEETS if norm_header(s.name) == norm_header(name)), None)
        if clerk is not None:
            raise errors.WriteRefused(
                f"工作表「{name}」是村里填写的「{clerk.name}」，工具不会用整张样表覆盖它，没有写入。"
                f"请检查要写入的工作表名称（工具整张写入的版式工作表只有：{'、'.join(IMAGE_SHEETS)}）。")
        table = next((s for s in BY_KEY.values() if s.owned and s.name == name.strip()), None)
        if table is not None:
            raise errors.WriteRefused(
                f"工作表「{name}」是工具按表格（{table.table}）逐行写入的工作表，不能用整张样表替换，工具没有写入。"
                f"请检查要写入的工作表名称（工具整张写入的版式工作表只有：{'、'.join(IMAGE_SHEETS)}）。")
        if name not in IMAGE_SHEETS:
            raise errors.WriteRefused(
                f"工具不管理名为「{name}」的版式工作表，没有写入。"
                f"工具整张写入的版式工作表只有：{'、'.join(IMAGE_SHEETS)}。")
    return [(name, Path(request.images[name])) for name in IMAGE_SHEETS if name in request.images]


def patches_by_sheet(patches) -> dict[SheetSpec, list[ColumnPatch]]:
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


def rows_of_keys(spec: SheetSpec, seen: RawTable, wanted: set[str], label: str) -> dict[str, int]:
    """Key -> the Excel row holding it, as the reader saw the sheet (the key column typed as the
    reader types it). A key on no row, or on two, is refused."""
    rows_of: dict[str, list[int]] = {}
    for key, rn in zip(seen.codes(spec.key_field).tolist(), seen.frame[ROW].tolist()):
        if key in wanted:
            rows_of.setdefault(key, []).append(int(rn))
    key_header = spec.header_of(spec.key_field)
    missing = sorted(wanted - set(rows_of))
    if missing:
        shown = "、".join(missing[:5]) + (f" 等 {len(missing)} 个" if len(missing) > 5 else "")
        raise errors.WriteRefused(
            f"工作簿「{label}」的工作表「{spec.name}」中找不到{key_header}为 {shown} 的行，工具没有写入。"
            f"可能是读取之后工作簿被修改过（改了{key_header}或删了行）：请保存工作簿后重新运行。")
    for key in sorted(wanted):
        if len(rows_of[key]) > 1:
            shown = "、".join(map(str, rows_of[key][:5]))
            raise errors.WriteRefused(
                f"工作簿「{label}」的工作表「{spec.name}」第 {shown} 行的{key_header}都是 {key}，"
                f"工具无法确定该改哪一行，没有写入。请把重复的{key_header}改为各不相同后重试。")
    return {key: found[0] for key, found in rows_of.items()}


def _patched_cell(label: str, spec: SheetSpec, field: str, letter: str, rn: int) -> str:
    return f"工作簿「{label}」的工作表「{spec.name}」第 {rn} 行「{spec.header_of(field)}」列（{letter}{rn}）"


def formula_cell_refusal(label: str, spec: SheetSpec, field: str, letter: str, rn: int) -> errors.WriteRefused:
    """A cell the write would set holds a clerk's formula: never overwritten."""
    return errors.WriteRefused(f"{_patched_cell(label, spec, field, letter, rn)}是公式，工具不会覆盖公式，没有写入。"
                               "请把该单元格改为直接填写的内容后重试。")


def covered_cell_refusal(label: str, spec: SheetSpec, field: str, letter: str, rn: int,
                         kind: str) -> errors.WriteRefused:
    """A cell the write would set lies in a merged block (``kind`` 合并单元格) or an array formula's range."""
    return errors.WriteRefused(f"{_patched_cell(label, spec, field, letter, rn)}在{kind}里，工具不会改写它，没有写入。"
                               + ("请取消合并单元格后重试。" if kind == MERGED_CELLS else "请把公式改为直接填写的内容后重试。"))


#: What a merged block is called in the refusals (``ooxml.sheetxml.merged_ranges``' kind).
MERGED_CELLS = "合并单元格"


def clerk_column_refusal(spec: SheetSpec, letter: str) -> errors.WriteRefused:
    """An owned sheet's column the toolkit does not own holds what a clerk typed."""
    return errors.WriteRefused(
        f"「{spec.name}」工作表的第 {letter} 列不是工具生成的列，但下面的行里有手工填写的内容；"
        f"工具重写「{spec.name}」时会覆盖它。请把这一列移到别的工作表（或删除）后再试。")


def stale_refusal(label: str) -> errors.WriteRefused:
    """The workbook changed between reading it and writing into it."""
    return errors.WriteRefused(
        f"工作簿「{label}」在工具读取之后又被修改过（可能有人在 Excel 或 WPS 中保存了它），"
        f"工具没有写入，以免覆盖新的内容。请重新运行一次。")
