"""Reading a wide-layout (宽表) workbook through its mapping (issue 11): the 「导入映射」 sheet of
the workbook itself, or of a separate mapping file (``township import --mapping FILE``).

The wide sheet is read like any declared sheet (``read_table`` over ``core.wide.data_spec``:
a title row above the headers, columns in any order, extra columns, merged cells, formulas
without results all handled as for a village workbook); ``core.wide`` makes the village.
"""

from __future__ import annotations

from pathlib import Path

from .. import schema as S
from ..core.clean import clean_frame, clean_settings
from ..core.problems import Problem
from ..core.village import Village
from ..core.wide import WideMapping, WideMappingError, data_spec, parse_mapping, wide_village
from ..errors import SheetMissing, WorkbookUnreadable
from .grid import find_sheet

__all__ = ["is_wide", "read_mapping", "mapping_of", "read_wide", "WIDE_NOTE"]

#: The note a wide file's outcome carries (its 原因 in the township import).
WIDE_NOTE = "宽表（按映射导入）"
#: Sheets that are never the wide data sheet when the mapping does not name it.
_NOT_DATA = (S.WIDE_MAPPING.name, S.SETTINGS.name, S.HELP_SHEET_NAME)


def is_wide(backend) -> bool:
    """Whether the workbook declares its own mapping (has a 「导入映射」 sheet)."""
    return backend.has_sheet(S.WIDE_MAPPING)


def mapping_of(backend) -> WideMapping:
    """The mapping declared in ``backend``'s 「导入映射」 sheet.

    :raises WorkbookUnreadable: the sheet or its headers are missing, or a row is wrong (every
        bad row named with its row, column and fix).
    """
    table = backend.read_table(S.WIDE_MAPPING)
    typed, _ = clean_frame(S.WIDE_MAPPING, table.frame)
    try:
        return parse_mapping(typed, backend.label)
    except WideMappingError as exc:
        raise WorkbookUnreadable(_refusal(backend.label, exc.problems)) from exc


def read_mapping(path: str | Path) -> WideMapping:
    """The mapping of a separate mapping file (a workbook with a 「导入映射」 sheet)."""
    from .xlsx import open_workbook

    backend = open_workbook(path, pieces=1)
    if not is_wide(backend):
        raise WorkbookUnreadable(f"映射文件「{backend.label}」中没有「{S.WIDE_MAPPING.name}」工作表。"
                                 f"请按 templates/宽表映射示例.xlsx 的「{S.WIDE_MAPPING.name}」工作表填写映射。")
    return mapping_of(backend)


def _refusal(label: str, problems: list[str]) -> str:
    shown = problems[:10]
    more = f"\n……共 {len(problems)} 处，以上是前 10 处。" if len(problems) > 10 else ""
    return f"「{label}」的导入映射有误，未导入：\n" + "\n".join(shown) + more


def _data_sheet(backend, mapping: WideMapping) -> str:
    names = list(backend.sheet_names)
    if mapping.sheet:
        spec = S.SheetSpec(key="wide_data", name=mapping.sheet, table="", columns=())
        found = find_sheet(spec, names)
        if found is None:
            raise SheetMissing(f"文件「{backend.label}」中没有导入映射所说的数据工作表「{mapping.sheet}」"
                               f"（它的工作表是{'、'.join(f'「{n}」' for n in names)}）。"
                               f"请在「{S.WIDE_MAPPING.name}」的「{S.WIDE_SHEET}」一行填写宽表所在工作表的名称。")
        return found
    others = [n for n in names if n.strip() not in _NOT_DATA]
    if not others:
        raise SheetMissing(f"文件「{backend.label}」中除「{S.WIDE_MAPPING.name}」外没有数据工作表。请把宽表放进这个文件。")
    return others[0]


def read_wide(backend, mapping: WideMapping | None = None) -> tuple[Village, list[Problem], WideMapping, str]:
    """The village of a wide workbook: (village, reading problems, the mapping used, the wide
    sheet's name). The workbook's own 「导入映射」 wins over ``mapping`` (a mapping file's).

    :raises WorkbookUnreadable: no usable mapping, the wide sheet or a mapped column missing,
        no 村 or 年度.
    """
    if is_wide(backend):
        mapping = mapping_of(backend)
    elif mapping is None:
        raise WorkbookUnreadable(f"文件「{backend.label}」没有「{S.WIDE_MAPPING.name}」工作表，也没有给出映射文件。")
    sheet = _data_sheet(backend, mapping)
    table = backend.read_table(data_spec(mapping, sheet))
    settings: dict = {}
    if backend.has_sheet(S.SETTINGS):
        settings = clean_settings(backend.read_table(S.SETTINGS).frame)[0]
    try:
        village, problems = wide_village(mapping, table.frame, table.sheet_name, settings)
    except WideMappingError as exc:
        raise WorkbookUnreadable(_refusal(backend.label, exc.problems)) from exc
    return village, list(table.problems) + problems, mapping, table.sheet_name

