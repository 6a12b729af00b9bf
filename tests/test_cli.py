"""The CLI through click's CliRunner: exact exit codes and messages, real workbooks on disk."""

from __future__ import annotations

import json
import shutil

import openpyxl
import pytest
from click.testing import CliRunner
from python_calamine import CalamineWorkbook

from jifen_xl import schema as S
from jifen_xl.cli import cli

from . import village_data as V
from .conftest import CORPUS, build
from .test_validate import edit


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def sheet_rows(path, name):
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_name(name).to_python()


def test_every_command_has_help():
    for name, command in cli.commands.items():
        assert command.help, name
        result = run(name, "--help")
        assert result.exit_code == 0 and result.output.startswith(f"用法：jifen-xl {name} [选项]")


def test_new_creates_the_workbook_and_refuses_to_overwrite(tmp_path):
    book = tmp_path / "永宁寺村.xlsx"
    args = ["new", book, "--district", "沙坪坝区", "--township", "中梁镇", "--village", "永宁寺村", "--year", "2026"]
    result = run(*args)
    assert result.exit_code == 0
    assert result.output == f"已新建工作簿「{book}」：永宁寺村 2026 年度，积分指标已按区委通知附件预置。\n"
    assert set(S.BY_NAME) <= set(CalamineWorkbook.from_path(str(book)).sheet_names)
    again = run(*args)
    assert again.exit_code == 1
    assert again.output == f"错误：文件「{book}」已存在，为防止覆盖村里的数据，工具不会改写它。请换一个文件名。\n"


def test_new_refuses_a_blank_name_and_trims_spaces(tmp_path):
    book = tmp_path / "永宁寺村.xlsx"
    blank = run("new", book, "--district", "  ", "--township", "中梁镇", "--village", "永宁寺村", "--year", "2026")
    assert blank.exit_code == 2
    assert blank.output.endswith("错误：'--district' 的值不对：不能为空，请填写区县，例如 沙坪坝区。\n")
    assert not book.exists()
    done = run("new", book, "--district", " 沙坪坝区", "--township", "中梁镇 ", "--village", " 永宁寺村 ", "--year", "2026")
    assert done.exit_code == 0
    assert done.output == f"已新建工作簿「{book}」：永宁寺村 2026 年度，积分指标已按区委通知附件预置。\n"
    info = dict(row[:2] for row in sheet_rows(book, "基本信息")[1:4])
    assert info == {"区县": "沙坪坝区", "镇街": "中梁镇", "村": "永宁寺村"}


def test_validate_clean_book_exits_0_and_writes_an_empty_findings_table(village_book):
    result = run("validate", village_book)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("校验通过：没有发现问题。\n已写入「永宁寺村.xlsx」；原文件备份在「")
    assert sheet_rows(village_book, "校验结果")[0] == list(S.FINDING_HEADERS)
    assert len(list((village_book.parent / "备份").iterdir())) == 1


def test_validate_reports_json_with_exactly_the_seven_keys(tmp_path, tables):
    book = build(tmp_path / "错.xlsx", edit(tables, "entries", 0, points=7, source="电话"))
    before = book.read_bytes()
    result = run("validate", book, "--json", "--dry-run")
    assert result.exit_code == 1
    findings = json.loads(result.output)
    assert [list(f) for f in findings] == [list(S.FINDING_HEADERS)] * 2
    assert {(f["工作表"], f["行号"], f["列名"], f["规则编号"]) for f in findings} == {
        ("积分登记", 2, "积分", "E-ENT-07"), ("积分登记", 2, "来源", "E-CHOICE")}
    assert book.read_bytes() == before  # --dry-run writes nothing
    assert not (tmp_path / "备份").exists()


def test_validate_writes_findings_linked_to_the_cells(tmp_path, tables):
    book = build(tmp_path / "错.xlsx", edit(tables, "entries", 0, points=7))
    result = run("validate", book)
    assert result.exit_code == 1
    assert "积分 7 与 数量×分值 = 2×3 = 6 不符" in result.output
    assert "共 1 个错误、0 个警告。" in result.output
    rows = sheet_rows(book, "校验结果")
    assert rows[1][:4] == ["错误", "积分登记", 2.0, "积分"]
    ws = openpyxl.load_workbook(book)["校验结果"]
    points_col = [c.column_letter for c in openpyxl.load_workbook(book)["积分登记"][1] if c.value == "积分"][0]
    link = ws["E2"].hyperlink
    assert link is not None and link.location == f"'积分登记'!{points_col}2"


def test_validate_unreadable_file_exits_2_with_one_message(tmp_path):
    book = shutil.copy(CORPUS / "pass_protected.xlsx", tmp_path / "加密.xlsx")
    result = run("validate", book)
    assert result.exit_code == 2
    assert result.output.startswith("错误：文件「加密.xlsx」设置了打开密码")
    assert "Traceback" not in result.output


def test_ledger_json_for_one_month(village_book):
    result = run("ledger", village_book, "--month", "2026-02", "--json")
    assert result.exit_code == 0, result.output
    recs = json.loads(result.output)
    assert {r["月份"] for r in recs} == {"2026-02"}
    got = {r["户号"]: (r["基础积分"], r["贡献积分"], r["扣分"], r["当月积分"], r["累计积分"], r["累计兑换"],
                      r["可用积分"], r["村内排名"]) for r in recs}
    assert got == V.EXPECTED["2026-02"]


def test_ledger_writes_the_sheet(village_book):
    result = run("ledger", village_book)
    assert result.exit_code == 0, result.output
    assert "2026-04 还有待公示/公示中的登记或未处理的异议，暂不计入台账。\n月度台账：3 个月，5 户。2026-03 排名前 10：" in result.output
    rows = sheet_rows(village_book, "月度台账")
    assert rows[0] == S.LEDGER.headers
    body = [r for r in rows[1:] if any(v != "" for v in r)]
    assert len(body) == 15
    assert body[0] == ["2026-01", "0001", "张大山", 6.0, 0.0, 0.0, 6.0, 106.0, 20.0, 66.0, 1.0]


def test_ledger_refuses_with_the_findings_while_there_are_errors(tmp_path, tables):
    book = build(tmp_path / "错.xlsx", edit(tables, "entries", 0, points=7))
    before = book.read_bytes()
    result = run("ledger", book)
    assert result.exit_code == 1
    assert result.output.endswith("错误：工作簿有 1 个错误，不能生成月度台账。请先按上面列出的问题改正后重试。\n")
    assert "E-ENT-07" in result.output
    assert book.read_bytes() == before


def test_ledger_bad_month(village_book):
    result = run("ledger", village_book, "--month", "2025-13")
    assert result.exit_code == 1
    assert result.output == "错误：月份「2025-13」格式不对，请写成“年-月”，例如 2026-03。\n"


LOCKED = ("上面的校验结果没有写入「校验结果」工作表。"
          "工作簿「{name}」正被 Excel 或 WPS 打开（同一文件夹里有锁定文件「~${name}」），工具没有写入。"
          "请先保存并关闭该工作簿再试；如果确认没有打开它，可以删除锁定文件「~${name}」后重试。")


def test_validate_lists_the_problems_while_excel_has_the_file_open_and_writes_nothing(tmp_path, tables):
    book = build(tmp_path / "错.xlsx", edit(tables, "entries", 0, points=7))
    (tmp_path / "~$错.xlsx").write_bytes(b"\x00")
    before = book.read_bytes()
    listed = run("validate", book, "--dry-run").output
    result = run("validate", book)
    assert result.exit_code == 1
    assert result.output == listed + "错误：" + LOCKED.format(name="错.xlsx") + "\n"
    assert "积分 7 与 数量×分值 = 2×3 = 6 不符" in listed and "共 1 个错误、0 个警告。" in listed
    assert book.read_bytes() == before and not (tmp_path / "备份").exists()


def test_validate_json_while_excel_has_the_file_open(tmp_path, tables):
    book = build(tmp_path / "错.xlsx", edit(tables, "entries", 0, points=7))
    (tmp_path / "~$错.xlsx").write_bytes(b"\x00")
    result = CliRunner().invoke(cli, ["validate", str(book), "--json"])
    assert result.exit_code == 1
    assert [f["规则编号"] for f in json.loads(result.stdout)] == ["E-ENT-07"]  # stdout: the JSON only
    assert result.stderr == "错误：" + LOCKED.format(name="错.xlsx") + "\n"


def test_validate_clean_book_while_excel_has_the_file_open_exits_1(village_book):
    lock = village_book.parent / f"~${village_book.name}"
    lock.write_bytes(b"\x00")
    before = village_book.read_bytes()
    result = run("validate", village_book)
    assert result.exit_code == 1
    assert result.output == "校验通过：没有发现问题。\n错误：" + LOCKED.format(name=village_book.name) + "\n"
    assert village_book.read_bytes() == before
    assert run("validate", village_book, "--dry-run").exit_code == 0  # reading an open workbook is fine
    lock.unlink()
    assert run("validate", village_book).exit_code == 0  # closed: written


def test_ledger_still_refuses_while_excel_has_the_file_open(village_book):
    (village_book.parent / f"~${village_book.name}").write_bytes(b"\x00")
    before = village_book.read_bytes()
    result = run("ledger", village_book)
    assert result.exit_code == 1
    assert result.output.startswith("错误：工作簿「永宁寺村.xlsx」正被 Excel 或 WPS 打开")
    assert village_book.read_bytes() == before


@pytest.mark.parametrize("argv", [["validate", "--json"], ["ledger"]])
def test_verbose_shows_the_traceback_others_do_not(tmp_path, argv):
    missing = tmp_path / "没有.xlsx"
    quiet = run(*argv[:1], missing, *argv[1:])
    assert quiet.exit_code == 2 and quiet.output.startswith("错误：找不到文件")
    loud = CliRunner().invoke(cli, ["--verbose", argv[0], str(missing), *argv[1:]])
    assert loud.exception is not None and type(loud.exception).__name__ == "WorkbookUnreadable"


def test_missing_output_sheet_dry_run_adds_nothing(village_book):
    """Without --dry-run the sheet is added (test_added_sheet); with it nothing is written."""
    wb = openpyxl.load_workbook(village_book)
    del wb["校验结果"]
    wb.save(village_book)
    before = village_book.read_bytes()
    assert run("validate", village_book, "--dry-run").exit_code == 0
    assert run("ledger", village_book, "--dry-run").exit_code == 0
    assert village_book.read_bytes() == before