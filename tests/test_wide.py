"""The wide layout (宽表, issue 11): a township's table of one row per household and one column
per item and period, imported through the mapping declared in its 「导入映射」 sheet or in a
separate mapping file (``township import --mapping``).

Real files on disk: the committed example (templates/宽表映射示例.xlsx), wide workbooks written
with openpyxl as another tool would, a folder imported with village workbooks made by the
toolkit. The figures are worked out from the cells openpyxl reads, in plain Python.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from jifen_xl import schema as S
from jifen_xl.cli import cli
from jifen_xl.core.township import village_summary
from jifen_xl.core.wide import period_end
from jifen_xl.demo import generate_township
from jifen_xl.errors import JifenError
from jifen_xl.township import NothingImported, import_township, read_village_file

from .conftest import TODAY
from .lo import lo_convert, needs_lo
from .xlsxdump import book_table

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "templates" / "宽表映射示例.xlsx"
IMPORTED, WARNED, REJECTED, SKIPPED, DUPLICATE = S.IMPORT_STATUSES
NOTE = "宽表（按映射导入）"
MAPPING_HEADERS = S.WIDE_MAPPING.headers  # 用途 列名 指标编码 指标名称 积分类型 指标类别 期间 取值 说明


def _dump(path: Path) -> list:
    wb = openpyxl.load_workbook(path)
    return [(ws.title, [tuple(r) for r in ws.iter_rows(values_only=True)],
             sorted((dv.type, dv.formula1, str(dv.sqref)) for dv in ws.data_validations.dataValidation))
            for ws in wb.worksheets]


def test_committed_example_equals_a_fresh_build(tmp_path):
    out = tmp_path / "示例.xlsx"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "make_wide_example.py"), str(out)], check=True,
                   capture_output=True)
    assert _dump(out) == _dump(EXAMPLE)


# --- the independent computation -------------------------------------------------------------

def _table(ws, first: str) -> list[dict]:
    """Records under the row whose first cell is ``first`` (a title row may stand above it)."""
    rows = list(ws.iter_rows(values_only=True))
    at = next(i for i, r in enumerate(rows) if r and r[0] == first)
    header = rows[at]
    return [dict(zip(header, r)) for r in rows[at + 1:] if any(v not in (None, "") for v in r)]


def independent(path: Path) -> dict:
    """The JSON figures of a wide workbook with its own mapping, from its cells (openpyxl)."""
    wb = openpyxl.load_workbook(path, data_only=True)
    mapping = _table(wb[S.WIDE_MAPPING.name], MAPPING_HEADERS[0])
    place = {m["用途"]: m["取值"] for m in mapping if m["用途"] in S.WIDE_PLACE}
    sheet = next(m["取值"] for m in mapping if m["用途"] == S.WIDE_SHEET)
    points = {m["列名"]: m for m in mapping if m["用途"] == S.WIDE_POINTS}
    hh_col = next(m["列名"] for m in mapping if m["用途"] == S.WIDE_HH_ID)
    hukou_col = next(m["列名"] for m in mapping if m["用途"] == S.WIDE_HUKOU)
    rows = _table(wb[sheet], hh_col)
    reward = deduct = 0.0
    taking_part = set()
    by_month: dict[str, float] = {}
    ends = {"第1季度": "03", "第2季度": "06", "第3季度": "09", "第4季度": "12", "全年": "12"}
    for r in rows:
        for header, m in points.items():
            v = r.get(header)
            if v in (None, 0):
                continue
            v = -abs(v) if m["积分类型"] == S.KIND_DEDUCT else v
            taking_part.add(r[hh_col])
            if v < 0:
                deduct += v
            else:
                reward += v
            month = f"{place['年度']}-{ends[m['期间']]}"
            by_month[month] = by_month.get(month, 0) + v
    return {"区县": place["区县"], "镇街": place["镇街"], "村": place["村"], "年度": int(place["年度"]),
            "户数": len(rows), "非本村户籍户数": sum(r[hukou_col] == "非本村户籍常住" for r in rows),
            "参与户数": len(taking_part), "加分合计": reward, "扣分合计": deduct, "积分合计": reward + deduct,
            "异议数": 0, "兑换积分": 0, "_by_month": by_month}


@pytest.fixture(scope="module")
def township(tmp_path_factory):
    """A township folder: two toolkit villages and the wide example, imported with 2 workers."""
    root = tmp_path_factory.mktemp("wide") / "中梁镇各村"
    generate_township(root, villages=["石岗村", "龙泉村"], households=20, seed=5)
    shutil.copyfile(EXAMPLE, root / "玉溪村宽表.xlsx")
    out = root.parent / "中梁镇2026年积分汇总.xlsx"
    return root, out, import_township(root, out, workers=2, today=TODAY)


def test_the_example_is_imported_with_figures_equal_to_its_cells(township):
    root, out, result = township
    files = {f.file: f for f in result.files}
    assert {n: f.status for n, f in files.items()} == {"石岗村-2026.xlsx": IMPORTED, "龙泉村-2026.xlsx": IMPORTED,
                                                      "玉溪村宽表.xlsx": IMPORTED}
    wide = files["玉溪村宽表.xlsx"]
    assert wide.reason == f"{NOTE}。" and wide.findings == [] and wide.errors == wide.warnings == 0
    expected = independent(EXAMPLE)
    got = next(v for v in result.villages if v["村"] == "玉溪村")
    for key in ("区县", "镇街", "村", "年度", "户数", "非本村户籍户数", "参与户数", "加分合计", "扣分合计", "积分合计",
                "异议数", "兑换积分"):
        assert got[key] == pytest.approx(expected[key]), key
    assert expected["扣分合计"] < 0 and expected["户数"] == 8  # the example does show both signs
    # the township workbook: 汇总概况's row and 月度趋势 by the periods' last months
    summary = next(r for r in book_table(out, S.TOWNSHIP_SUMMARY) if r["村"] == "玉溪村")
    assert summary["积分合计"] == pytest.approx(expected["积分合计"]) and summary["户数"] == 8
    trend = {r["月份"]: r["积分合计"] for r in book_table(out, S.TOWNSHIP_TREND) if r["村"] == "玉溪村"}
    assert {m: v for m, v in trend.items() if v} == pytest.approx(expected["_by_month"])
    checks = {r["文件"]: r for r in book_table(out, S.TOWNSHIP_CHECKS)}
    assert checks["玉溪村宽表.xlsx"]["状态"] == IMPORTED and checks["玉溪村宽表.xlsx"]["原因"].startswith(NOTE)


def test_one_worker_gives_the_same_result(township):
    root, _, result = township
    again = import_township(root, None, workers=1, today=TODAY)
    assert again.records() == result.records()


@needs_lo
@pytest.mark.parametrize("fmt", ["xlsx", "ods"])
def test_the_example_resaved_by_libreoffice_gives_the_same_figures(township, tmp_path, fmt):
    _, _, result = township
    made = lo_convert(EXAMPLE, fmt, tmp_path)
    outcome = read_village_file(made, made.name, TODAY)
    assert (outcome.status, outcome.reason) == (IMPORTED, f"{NOTE}。")
    assert village_summary(outcome.extract) == next(v for v in result.villages if v["村"] == "玉溪村")


# --- wide workbooks written by another tool ---------------------------------------------------------

PLACE = [("区县", None, "沙坪坝区"), ("镇街", None, "中梁镇"), ("村", None, "白沙村"), ("年度", None, 2026)]
MAPPING = [("户号", "户号"), ("户主姓名", "姓名"),
           ("积分", "环境一季度", "RJ", "庭院整洁", S.KIND_BASIC, "人居环境", "第1季度"),
           ("积分", "环境三月", "RJ", "庭院整洁", S.KIND_BASIC, "人居环境", "3月"),
           ("积分", "上半年公益", "GY", "义务劳动", S.KIND_BASIC, "公益事业", "上半年"),
           ("积分", "扣分", "KF", "乱堆乱放", S.KIND_DEDUCT, "人居环境", "全年")]
HEADERS = ["序号", "户号", "姓名", "环境一季度", "环境三月", "上半年公益", "扣分"]
ROWS = [[1, "101", "王一", 3, 1, 5, 2], [2, "102", "王二", None, None, 4, -1], [3, "103", "王三", 0, None, None, None]]


def _mapping_rows(place=PLACE, mapping=MAPPING) -> list[list]:
    out = []
    for use, header, value in place:
        out.append([use, header, None, None, None, None, None, value, None])
    for m in mapping:
        m = list(m) + [None] * (7 - len(m))
        out.append(m + [None, None])
    return out


def write_wide(path: Path, rows=ROWS, headers=HEADERS, mapping: list[list] | None = None, *, own_mapping=True) -> Path:
    """A wide workbook: a title row, the headers, the rows; with its own 「导入映射」 unless not."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "汇总"
    ws.append(["白沙村积分汇总"])
    ws.append(headers)
    for r in rows:
        ws.append(r)
    if own_mapping:
        m = wb.create_sheet(S.WIDE_MAPPING.name)
        m.append(MAPPING_HEADERS)
        for r in (mapping if mapping is not None else _mapping_rows()):
            m.append(r)
    wb.save(path)
    return path


def write_mapping_file(path: Path, rows: list[list]) -> Path:
    wb = openpyxl.Workbook()
    wb.active.title = S.WIDE_MAPPING.name
    wb.active.append(MAPPING_HEADERS)
    for r in rows:
        wb.active.append(r)
    wb.save(path)
    return path


def test_periods_months_quarters_halves_and_year():
    assert period_end("3月", 2026) == dt.date(2026, 3, 31)
    assert period_end("２月", 2024) == dt.date(2024, 2, 29)
    assert period_end("第一季度", 2026) == dt.date(2026, 3, 31)
    assert period_end("第4季度", 2026) == dt.date(2026, 12, 31)
    assert period_end("上半年", 2026) == dt.date(2026, 6, 30)
    assert period_end("全年", 2026) == dt.date(2026, 12, 31)
    assert period_end("第5季度", 2026) is None and period_end("13月", 2026) is None and period_end(None, 2026) is None


def test_a_clean_wide_file_has_no_finding_and_its_entries_are_its_cells(tmp_path):
    """None of the village rules that make no sense for a township's final figures fires (评议人,
    来源, 小组成员, 证明材料, 数量 × 分值); each non-zero cell is one 已确认 entry at its period's end."""
    outcome = read_village_file(write_wide(tmp_path / "白沙村.xlsx"), "白沙村.xlsx", TODAY)
    assert (outcome.status, outcome.reason, outcome.findings) == (IMPORTED, f"{NOTE}。", [])
    e = outcome.extract.entries
    got = sorted(zip(e["entry_id"], e["hh_id"], e["code"], e["date"].dt.date, e["points"], e["status"]))
    d = dt.date
    assert got == [("W-0001", "101", "RJ", d(2026, 3, 31), 3.0, "已确认"), ("W-0002", "101", "RJ", d(2026, 3, 31), 1.0, "已确认"),
                   ("W-0003", "101", "GY", d(2026, 6, 30), 5.0, "已确认"), ("W-0004", "101", "KF", d(2026, 12, 31), -2.0, "已确认"),
                   ("W-0005", "102", "GY", d(2026, 6, 30), 4.0, "已确认"), ("W-0006", "102", "KF", d(2026, 12, 31), -1.0, "已确认")]
    assert outcome.extract.meta["村"] == "白沙村" and outcome.extract.meta["年度"] == 2026
    assert list(outcome.extract.households["hh_id"]) == ["101", "102", "103"]  # 103 takes part in nothing
    assert set(outcome.extract.households["hukou"]) == {"本村户籍"}


def test_a_value_that_is_not_a_number_and_a_household_without_hh_id_are_errors_on_their_cells(tmp_path):
    rows = [[1, "101", "王一", "三", 1, 5, 2], [2, None, "王二", 2, None, None, None], [3, "101", "王三", 1, None, None, None]]
    outcome = read_village_file(write_wide(tmp_path / "白沙村.xlsx", rows), "白沙村.xlsx", TODAY)
    assert outcome.status == REJECTED and outcome.reason.startswith(f"{NOTE}。有 3 个错误")
    found = {(p["规则编号"], p["工作表"], p["行号"], p["列名"]) for p in outcome.findings}
    assert found == {("E-FMT-NUMBER", "汇总", 3, "环境一季度"), ("E-REQ", "汇总", 4, "户号"), ("E-HH-01", "汇总", 5, "户号")}
    assert next(p for p in outcome.findings if p["规则编号"] == "E-FMT-NUMBER")["问题说明"] == "「三」不是数字"


def _refusal(tmp_path, mapping_rows) -> str:
    outcome = read_village_file(write_wide(tmp_path / "白沙村.xlsx", mapping=mapping_rows), "白沙村.xlsx", TODAY)
    assert outcome.status == SKIPPED and outcome.extract is None
    return outcome.reason


def test_bad_mapping_rows_are_refused_by_sheet_row_column_and_fix(tmp_path):
    rows = _mapping_rows(mapping=[
        ("户号", "户号"),
        ("分数", "姓名"),                                                          # row 7: no such 用途
        ("积分", "环境一季度", "RJ", "庭院整洁", S.KIND_BASIC, "人居环境", "第1季度"),   # row 8: fine
        ("积分", "环境三月", "RJ", "庭院整洁", S.KIND_BASIC, "人居环境", "第5季度"),     # row 9: not a period
        ("积分", "上半年公益", "GY", "义务劳动", "加分", "公益事业", "上半年"),        # row 10: not a 积分类型
        ("积分", "扣分", "RJ", "院坝整洁", S.KIND_BASIC, "人居环境", "全年"),          # row 11: RJ named otherwise
        ("积分", "扣分", "KF", "乱堆乱放", S.KIND_DEDUCT, "人居环境", "全年"),         # row 12: 扣分 mapped twice
        ("积分", "环境四月", "RJ", "庭院整洁", S.KIND_BASIC, "人居环境", None),        # row 13: no 期间
    ])
    reason = _refusal(tmp_path, rows)
    lines = reason.splitlines()
    assert lines[0] == "「白沙村.xlsx」的导入映射有误，未导入："
    where = "「白沙村.xlsx」的工作表「导入映射」"
    periods = "请填写1月—12月、第1季度—第4季度、上半年、下半年、全年之一"
    assert lines[1:] == [
        f"{where}第 7 行「用途」：「分数」不是可选的用途。请填写户号、户主姓名、户籍类型、村民小组、积分、区县、镇街、村、年度、数据工作表之一",
        f"{where}第 9 行「期间」：「第5季度」不是可识别的期间。{periods}",
        f"{where}第 10 行「积分类型」：「加分」不是积分类型。请从基础积分、贡献积分、扣分项目中选择",
        f"{where}第 11 行「指标名称」：指标编码「RJ」的指标名称「院坝整洁」与第 8 行的「庭院整洁」不一致。"
        "同一指标编码的各期间列请填写相同的指标名称",
        f"{where}第 12 行「列名」：「扣分」在第 11 行已经映射过。每一列只能映射一次，请删除重复的一行",
        f"{where}第 13 行「期间」：列「环境四月」没有填写期间。{periods}",
    ]


def test_a_mapping_without_hh_id_head_village_or_a_year_is_refused(tmp_path):
    reason = _refusal(tmp_path, _mapping_rows(mapping=MAPPING[1:]))
    assert "工作表「导入映射」中没有「用途」为「户号」的一行。请加一行：用途填「户号」，列名填宽表中户号列的标题" in reason
    reason = _refusal(tmp_path, _mapping_rows(mapping=MAPPING[:1] + MAPPING[2:]))
    assert "工作表「导入映射」中没有「用途」为「户主姓名」的一行。请加一行：用途填「户主姓名」，列名填宽表中户主姓名列的标题" in reason
    reason = _refusal(tmp_path, _mapping_rows(place=PLACE[:3] + [("年度", None, "1926")]))
    assert "年度「1926」不是年份：请在「导入映射」的「年度」一行填写年份，例如 2026" in reason
    reason = _refusal(tmp_path, _mapping_rows(place=PLACE[:2] + PLACE[3:]))
    assert "没有找到村：请在「导入映射」加一行，「用途」填「村」，「取值」直接填写村（或「列名」填数据表中写有村的列）" in reason


def test_a_mapped_column_missing_from_the_wide_sheet_is_named(tmp_path):
    headers = [h if h != "上半年公益" else "公益" for h in HEADERS]
    outcome = read_village_file(write_wide(tmp_path / "白沙村.xlsx", headers=headers), "白沙村.xlsx", TODAY)
    assert outcome.status == SKIPPED
    assert "工作表「汇总」第 2 行缺少列：「上半年公益」（最接近的是「公益」，请改回「上半年公益」）" in outcome.reason


def test_the_place_from_a_column_one_village_per_file(tmp_path):
    place = [("区县", None, "沙坪坝区"), ("镇街", None, "中梁镇"), ("村", "村名", None), ("年度", None, "2026年")]
    headers = HEADERS + ["村名"]
    rows = [r + ["白沙村"] for r in ROWS]
    outcome = read_village_file(write_wide(tmp_path / "a.xlsx", rows, headers, _mapping_rows(place=place)), "a.xlsx",
                                TODAY)
    assert outcome.status == IMPORTED and outcome.extract.meta["村"] == "白沙村" and outcome.extract.meta["年度"] == 2026
    rows[1][-1] = "黑沙村"
    outcome = read_village_file(write_wide(tmp_path / "b.xlsx", rows, headers, _mapping_rows(place=place)), "b.xlsx",
                                TODAY)
    assert outcome.status == SKIPPED
    assert "宽表的「村名」列有几个不同的村（白沙村、黑沙村）；一个文件只能是一个村一个年度" in outcome.reason


# --- a separate mapping file (--mapping) -----------------------------------------------------------

def test_mapping_file_for_wide_files_without_their_own(tmp_path):
    root = tmp_path / "各村"
    root.mkdir()
    generate_township(root, villages=["石岗村"], households=15, seed=3)
    write_wide(root / "白沙村.xlsx", own_mapping=False)
    mapping = write_mapping_file(root / "映射.xlsx", _mapping_rows())  # inside the folder: skipped, not read
    out = tmp_path / "汇总.xlsx"
    got = CliRunner().invoke(cli, ["township", "import", str(root), "-o", str(out), "--json", "--mapping", str(mapping),
                                   "--workers", "2"])
    assert got.exit_code == 0, got.output
    data = json.loads(got.output)
    status = {f["文件"]: (f["状态"], f["原因"]) for f in data["files"]}
    assert status == {"石岗村-2026.xlsx": (IMPORTED, ""), "白沙村.xlsx": (IMPORTED, f"{NOTE}。"),
                      "映射.xlsx": (SKIPPED, "是 --mapping 指定的宽表映射文件，不导入。")}
    village = next(v for v in data["villages"] if v["村"] == "白沙村")
    assert (village["户数"], village["参与户数"], village["加分合计"], village["扣分合计"]) == (3, 2, 13, -3)
    # without the mapping, the same wide file is not a village workbook
    again = import_township(root, None, workers=1, today=TODAY)
    wide = next(f for f in again.files if f.file == "白沙村.xlsx")
    assert wide.status == SKIPPED and "不是村级积分工作簿" in wide.reason


def test_a_wrong_mapping_file_is_refused_before_the_work(tmp_path):
    root = tmp_path / "各村"
    root.mkdir()
    write_wide(root / "白沙村.xlsx", own_mapping=False)
    bad = write_mapping_file(tmp_path / "映射.xlsx", _mapping_rows(mapping=MAPPING[:2]))
    out = tmp_path / "汇总.xlsx"
    got = CliRunner().invoke(cli, ["township", "import", str(root), "-o", str(out), "--mapping", str(bad)])
    assert got.exit_code == 2 and not out.exists()  # the input cannot be read: as any unreadable workbook
    assert "「映射.xlsx」的工作表「导入映射」中没有「用途」为「积分」的一行，没有可导入的积分" in got.output
    with pytest.raises(JifenError, match="没有「导入映射」工作表"):
        import_township(root, out, mapping=write_wide(tmp_path / "不是映射.xlsx", own_mapping=False))
    with pytest.raises(NothingImported):
        import_township(root, out, workers=1, today=TODAY)
