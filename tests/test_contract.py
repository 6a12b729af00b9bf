"""The backend contract: the same cases against every backend (GUIDE §2.5).

``file``: the toolkit's file backend over a real .xlsx on disk. ``memory``: the in-memory
backend (the shape of the live Excel one), filled from the same workbook as a spreadsheet
program hands its cells over (read here by openpyxl, independently of the toolkit's reader).
Live Excel would be a third parameter; there is no Excel on Linux.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from jifen_xl import app
from jifen_xl import schema as S
from jifen_xl.errors import WriteRefused
from jifen_xl.io import base
from jifen_xl.io.base import CellRef, ColumnPatch, WriteRequest
from jifen_xl.io.memory import MemoryBook, MemoryWorkbook
from jifen_xl.io.xlsx import open_workbook
from jifen_xl.validate import validate

from .conftest import TODAY

KNOWN_CAPABILITIES = {base.CAP_ADD_SHEET, base.CAP_LINKS, base.CAP_BACKUP, base.CAP_MARK_CELLS,
                      base.CAP_FILL_TEMPLATE, base.CAP_EXPORT_PDF, base.CAP_SHEET_IMAGE}


def _grids(path: Path) -> dict[str, list[list]]:
    """Every sheet's values as a spreadsheet program hands them over (openpyxl, cached values)."""
    wb = openpyxl.load_workbook(path, data_only=True)
    try:
        return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}
    finally:
        wb.close()


class Workbook:
    """One village workbook behind one backend kind, and what a clerk does to it meanwhile."""

    def __init__(self, kind: str, path: Path):
        self.kind, self.path = kind, path
        self.memory = MemoryWorkbook(_grids(path), label=path.name) if kind == "memory" else None

    def open(self):
        """The backend as the app gets it, opened afresh (its read stamp taken now)."""
        return open_workbook(self.path) if self.kind == "file" else MemoryBook(self.memory)

    def clerk_types(self, sheet: str, row: int, col: int, value) -> None:
        """A clerk types one value and saves (openpyxl stands in for Excel's save on disk)."""
        if self.kind == "memory":
            self.memory.edit(sheet, row, col, value)
            return
        wb = openpyxl.load_workbook(self.path)
        wb[sheet].cell(row, col, value)
        wb.save(self.path)

    def clerk_renames(self, old: str, new: str) -> None:
        if self.kind == "memory":
            self.memory.rename(old, new)
            return
        wb = openpyxl.load_workbook(self.path)
        wb[old].title = new
        wb.save(self.path)

    def clerk_adds_sheet(self, sheet: str, rows: list[list]) -> None:
        """A clerk adds a sheet of their own (after the last one) and saves."""
        if self.kind == "memory":
            for r, row in enumerate(rows, start=1):
                for c, value in enumerate(row, start=1):
                    self.memory.edit(sheet, r, c, value)
            return
        wb = openpyxl.load_workbook(self.path)
        ws = wb.create_sheet(sheet)
        for row in rows:
            ws.append(row)
        wb.save(self.path)

    def sheet_names(self) -> list[str]:
        return list(self.memory.sheets) if self.kind == "memory" else openpyxl.load_workbook(self.path).sheetnames

    def values(self, sheet: str) -> list[list]:
        if self.kind == "memory":
            return [list(r) for r in self.memory.sheets[sheet]]
        return _grids(self.path)[sheet]


@pytest.fixture(params=["file", "memory"])
def book(request, village_book) -> Workbook:
    return Workbook(request.param, village_book)


def _plant_unknown_household(book: Workbook) -> None:
    """The clerk types a 户号 that is not in 住户名册 into the first entry (an error to report)."""
    from jifen_xl.io.grid import col_index

    table = book.open().read_table(S.ENTRIES)
    book.clerk_types(table.sheet_name, table.header_row + 1, col_index(table.letters["hh_id"]) + 1, "9999")


def _findings(backend):
    loaded = app.load(backend)
    report = validate(loaded.village, loaded.read_problems, today=TODAY)
    return loaded, report


def test_capabilities_are_declared(book):
    backend = book.open()
    assert isinstance(backend.capabilities, frozenset)
    assert backend.capabilities <= KNOWN_CAPABILITIES
    assert base.CAP_ADD_SHEET in backend.capabilities
    assert base.CAP_SHEET_IMAGE in backend.capabilities


def test_both_backends_read_the_same_village(village_book):
    file_loaded = app.load(Workbook("file", village_book).open())
    mem_loaded = app.load(Workbook("memory", village_book).open())
    assert file_loaded.village.settings == mem_loaded.village.settings
    for spec in app.INPUT_SHEETS:
        pd.testing.assert_frame_equal(file_loaded.village[spec.key], mem_loaded.village[spec.key],
                                      check_dtype=False, obj=spec.name)


def test_findings_are_written_and_read_back_with_links(book):
    _plant_unknown_household(book)
    backend = book.open()
    loaded, report = _findings(backend)
    assert any(p.message.find("9999") >= 0 for p in report.errors)
    frame = app.findings_frame(report)
    links = [CellRef(S.ENTRIES.name, 5, 3)] + [None] * (len(frame) - 1)
    plan = backend.plan_write(WriteRequest({"findings": frame}, {"findings": links}))
    result = backend.apply(plan)
    assert result.tables == ("findings",) and result.added == ()
    again = book.open().read_table(S.FINDINGS)
    got = again.frame.drop(columns=["excel_row"]).fillna("")
    assert got["message"].tolist() == frame["message"].tolist()
    assert got["rule"].tolist() == frame["rule"].tolist()


def test_ledger_written_whole_and_rewritten_shorter(book):
    from jifen_xl.core.ledger import compute_ledger

    backend = book.open()
    loaded = app.load(backend)
    ledger = compute_ledger(loaded.village)
    backend.apply(backend.plan_write(WriteRequest({"ledger": ledger})))
    backend = book.open()
    got = backend.read_table(S.LEDGER).frame
    assert len(got) == len(ledger)
    assert [float(x) for x in got["cumulative"]] == [float(x) for x in ledger["cumulative"]]
    shorter = ledger.head(3)
    backend.apply(backend.plan_write(WriteRequest({"ledger": shorter})))
    got = book.open().read_table(S.LEDGER).frame
    assert got["hh_id"].astype(str).tolist() == shorter["hh_id"].tolist()


def test_patch_sets_one_status_by_key_and_nothing_else(book):
    backend = book.open()
    before = backend.read_table(S.ENTRIES).frame
    plan = backend.plan_write(WriteRequest(patches=[ColumnPatch("entries", "status", {"2026-010": S.ENTRY_CONFIRMED})]))
    assert backend.apply(plan).patched == 1
    after = book.open().read_table(S.ENTRIES).frame
    changed = before["status"] != after["status"]
    assert before.loc[changed, "entry_id"].tolist() == ["2026-010"]
    assert after.loc[changed, "status"].tolist() == [S.ENTRY_CONFIRMED]


def test_unknown_key_is_refused_while_planning_and_nothing_changes(book):
    backend = book.open()
    before = book.values(S.ENTRIES.name)
    with pytest.raises(WriteRefused, match="找不到登记编号为 2026-999 的行"):
        backend.plan_write(WriteRequest(patches=[ColumnPatch("entries", "status", {"2026-999": S.ENTRY_CONFIRMED})]))
    assert book.values(S.ENTRIES.name) == before


def test_a_clerks_column_in_an_owned_sheet_refuses_the_write(book):
    _plant_unknown_household(book)
    backend = book.open()
    loaded, report = _findings(backend)
    backend.apply(backend.plan_write(WriteRequest({"findings": app.findings_frame(report)})))
    book.clerk_types(S.FINDINGS.name, 2, len(S.FINDINGS.columns) + 2, "已核实")
    backend = book.open()
    with pytest.raises(WriteRefused, match="不是工具生成的列，但下面的行里有手工填写的内容"):
        backend.plan_write(WriteRequest({"findings": app.findings_frame(report)}))
    assert "已核实" in [v for row in book.values(S.FINDINGS.name) for v in row]


def test_a_write_planned_before_the_clerk_saved_is_refused(book):
    backend = book.open()
    loaded, report = _findings(backend)
    plan = backend.plan_write(WriteRequest({"findings": app.findings_frame(report)}))
    book.clerk_types(S.HOUSEHOLDS.name, 3, 11, "刚改的备注")
    with pytest.raises(WriteRefused, match="在工具读取之后又被修改过"):
        backend.apply(plan)
    rows = book.values(S.HOUSEHOLDS.name)
    assert rows[2][10] == "刚改的备注"


def test_a_missing_owned_sheet_is_added_and_an_archived_copy_is_left_alone(book):
    book.clerk_renames(S.LEDGER.name, "月度台账（10月公示）")
    archived = book.values("月度台账（10月公示）")
    backend = book.open()
    from jifen_xl.core.ledger import compute_ledger

    ledger = compute_ledger(app.load(backend).village)
    plan = backend.plan_write(WriteRequest({"ledger": ledger}))
    assert plan.added == (S.LEDGER.name,)
    assert backend.apply(plan).added == (S.LEDGER.name,)
    assert book.values("月度台账（10月公示）") == archived
    assert len(book.open().read_table(S.LEDGER).frame) == len(ledger)


def test_dates_and_numbers_round_trip_through_an_owned_sheet(book):
    backend = book.open()
    frame = pd.DataFrame({"level": ["错误"], "sheet": ["积分登记"], "row": [7], "column": ["日期"],
                          "message": [f"日期 {dt.date(2026, 3, 5)} 不在年度内"], "fix": ["改正"], "rule": ["E-X"]})
    backend.apply(backend.plan_write(WriteRequest({"findings": frame})))
    got = book.open().read_table(S.FINDINGS).frame
    assert float(got["row"].iloc[0]) == 7.0
    assert got["message"].iloc[0] == "日期 2026-03-05 不在年度内"


# -- the use cases, through either backend --------------------------------------------------------
def test_validate_book_writes_the_same_findings_through_either_backend(book):
    _plant_unknown_household(book)
    result = app.validate_book(book.open(), today=TODAY)
    assert result.not_written is None and result.written.tables == ("findings",)
    assert [p.rule for p in result.report.errors] == ["E-ENT-02"]
    got = book.open().read_table(S.FINDINGS).frame
    assert got["rule"].tolist() == [p.rule for p in result.report.problems]
    assert got["message"].tolist() == [p.message for p in result.report.problems]


def test_ledger_book_refuses_an_open_month_and_writes_a_closed_one_through_either_backend(book):
    from jifen_xl.errors import JifenError

    before = book.values(S.LEDGER.name)
    with pytest.raises(JifenError, match="不能生成 2026-04 的月度台账"):
        app.ledger_book(book.open(), month="2026-04", today=TODAY)  # 2026-010 is still 公示中
    assert book.values(S.LEDGER.name) == before
    result = app.ledger_book(book.open(), month="2026-03", today=TODAY)
    assert result.written.tables == ("ledger",)
    got = book.open().read_table(S.LEDGER).frame
    march = got[got["month"].astype(str) == "2026-03"].set_index("hh_id")
    assert float(march.loc["0006", "cumulative"]) == 22.0 and float(march.loc["0006", "available"]) == 12.0


# -- a free-layout sheet (the notice) written whole from a one-sheet image ------------------------
def _trimmed(rows: list[list]) -> list[list]:
    """Rows without trailing empty cells and trailing empty rows (how far a sheet's grid reaches
    differs between programs, not what it shows)."""
    out = [list(r) for r in rows]
    for row in out:
        while row and row[-1] in (None, ""):
            row.pop()
    while out and not out[-1]:
        out.pop()
    return out


def test_a_sheet_image_is_written_whole_then_replaced_in_place(book, tmp_path):
    from .sheet_images import build_notice_image

    book.clerk_adds_sheet("公示（3月存档）", [["三月的公示（存档）"], [42]])
    archived = book.values("公示（3月存档）")
    march = build_notice_image(tmp_path / "三月.xlsx", households=40, month=3)
    backend = book.open()
    result = backend.apply(backend.plan_write(WriteRequest(images={S.NOTICE_SHEET_NAME: march})))
    assert result.added == (S.NOTICE_SHEET_NAME,) and result.images == (S.NOTICE_SHEET_NAME,)
    names = book.sheet_names()
    assert names[-1] == S.NOTICE_SHEET_NAME
    assert _trimmed(book.values(S.NOTICE_SHEET_NAME)) == _trimmed(_grids(march)[S.NOTICE_SHEET_NAME])
    april = build_notice_image(tmp_path / "四月.xlsx", households=12, month=4)
    backend = book.open()
    result = backend.apply(backend.plan_write(WriteRequest(images={S.NOTICE_SHEET_NAME: april})))
    assert result.added == () and book.sheet_names() == names
    assert _trimmed(book.values(S.NOTICE_SHEET_NAME)) == _trimmed(_grids(april)[S.NOTICE_SHEET_NAME])
    assert book.values("公示（3月存档）") == archived
    assert len(book.open().read_table(S.ENTRIES).frame) > 0


def test_an_image_never_replaces_a_clerks_sheet(book, tmp_path):
    from .sheet_images import build_notice_image

    image = build_notice_image(tmp_path / "样表.xlsx", households=3)
    before = book.values(S.ENTRIES.name)
    with pytest.raises(WriteRefused) as info:
        book.open().plan_write(WriteRequest(images={S.ENTRIES.name: image}))
    assert str(info.value) == ("工作表「积分登记」是村里填写的「积分登记」，工具不会用整张样表覆盖它，没有写入。"
                               "请检查要写入的工作表名称（工具整张写入的版式工作表只有：公示）。")
    assert book.values(S.ENTRIES.name) == before


def test_an_image_with_parts_of_its_own_is_refused_by_either_backend(book, tmp_path):
    from .sheet_images import build_notice_image

    image = build_notice_image(tmp_path / "样表.xlsx", households=3)
    wb = openpyxl.load_workbook(image)
    wb[S.NOTICE_SHEET_NAME]["H8"].comment = openpyxl.comments.Comment("盖章处", "文书")
    wb.save(image)
    with pytest.raises(WriteRefused) as info:
        book.open().plan_write(WriteRequest(images={S.NOTICE_SHEET_NAME: image}))
    assert str(info.value) == ("用来生成工作表「公示」的样表文件「样表.xlsx」含有图片、批注、表格、控件或外部链接"
                               "（工具只能写入单元格和版式），工具没有写入工作簿。请重新生成「公示」（检查公示模板），再重试。")
    assert S.NOTICE_SHEET_NAME not in book.sheet_names()
