"""Where the love supermarket's goods come from (资金来源, issue 10): a village's months × source
types worked by hand, a township's villages × source types against an independent sum of the
workbooks' 物资入库 read with openpyxl, refusals with their exact messages, the printed page.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import subprocess
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from jifen_xl import app
from jifen_xl import schema as S
from jifen_xl.cli import cli
from jifen_xl.core.clean import ROW
from jifen_xl.core.funding import funding_by_village, funding_table
from jifen_xl.errors import JifenError
from jifen_xl.io.collect import LOCK_REASON

from . import village_data as V
from .conftest import TODAY, build
from .lo import needs_lo
from .test_validate import add

D = dt.date
SOURCES = list(S.FUNDING_SOURCES)

# The fixture's two January receipts (RK-01 企业爱心捐助 1500, RK-02 财政补贴 500) and three more.
MORE_RECEIPTS = [
    ("RK-03", D(2026, 2, 10), "社会组织捐赠", "区慈善会", "SP-01", 10, 400, "王文书", None),
    ("RK-04", D(2026, 3, 5), "村集体经济收入", "永宁寺村股份经济合作社", "SP-02", 20, None, "王文书", "未估价"),
    ("RK-05", D(2026, 3, 20), "帮扶单位支持", "区农业农村委", "SP-01", 5, 250.5, "王文书", None),
]


@pytest.fixture
def funded_book(tmp_path):
    return build(tmp_path / "永宁寺村.xlsx", add(V.village_tables(), "receipts", *MORE_RECEIPTS))


def funding(book, **kw):
    return app.funding_book(app.open_backend(book), today=TODAY, **kw)


def row(table: pd.DataFrame, label: str) -> tuple:
    r = table[table.iloc[:, 0] == label].iloc[0]
    return tuple(r[s] for s in SOURCES) + (r["total"], r["receipts"], r["missing"], r["unsourced"])


def test_the_months_and_the_year_by_hand(funded_book):
    table = funding(funded_book).table
    assert list(table.columns) == ["month", *SOURCES, "total", "receipts", "missing", "unsourced"]
    assert list(table["month"]) == [f"2026-{m:02d}" for m in range(1, 13)] + ["全年"]
    # 财政补贴, 社会组织捐赠, 帮扶单位支持, 企业爱心捐助, 村集体经济收入, 其他, 合计, 笔数, 未填金额, 未填来源
    assert row(table, "2026-01") == (500, 0, 0, 1500, 0, 0, 2000, 2, 0, 0)
    assert row(table, "2026-02") == (0, 400, 0, 0, 0, 0, 400, 1, 0, 0)
    assert row(table, "2026-03") == (0, 0, 250.5, 0, 0, 0, 250.5, 2, 1, 0)  # RK-04 has no 折合金额
    assert row(table, "2026-04") == (0,) * 10
    assert row(table, "全年") == (500, 400, 250.5, 1500, 0, 0, 2650.5, 5, 1, 0)


def test_the_summary_shares_and_its_sentence(funded_book):
    s = funding(funded_book).summary
    # shares of 2650.5: 500 -> 18.9%, 400 -> 15.1%, 250.5 -> 9.5%, 1500 -> 56.6%
    assert [(x["source"], x["amount"], x["share"], x["receipts"]) for x in s["sources"]] == [
        ("财政补贴", 500, 18.9, 1), ("社会组织捐赠", 400, 15.1, 1), ("帮扶单位支持", 250.5, 9.5, 1),
        ("企业爱心捐助", 1500, 56.6, 1), ("村集体经济收入", 0, 0.0, 1), ("其他", 0, 0.0, 0)]
    # five source types supplied goods (村集体经济收入's receipt has no value yet); the largest is 56.6%
    assert (s["sources_used"], s["largest"], s["months"], s["months_with_receipts"]) == (
        5, {"source": "企业爱心捐助", "share": 56.6}, 11, 3)  # TODAY is in November: 11 months so far
    book_row = _row_of(funded_book, "RK-04")
    assert s["missing_rows"] == [{"receipt_id": "RK-04", "row": book_row, "date": "2026-03-05", "goods": "洗衣粉"}]
    assert s["sentence"] == (
        "2026年共入库 5 笔，折合金额 2650.5 元，来自 5 类来源，最大来源「企业爱心捐助」占 56.6%，11 个月中有 3 个月有入库："
        "入库集中在少数月份，建议按月或按季度稳定补充物资，形成长效投入机制。"
        "另有 1 笔入库没有填写折合金额，金额未计入，请在「物资入库」中补填。")


def _row_of(book: Path, receipt_id: str) -> int:
    """The Excel row the clerk sees holding ``receipt_id`` (read with openpyxl, not the toolkit)."""
    wb = openpyxl.load_workbook(book, read_only=True)  # read-only keeps the file open until closed
    try:
        rows = wb[S.RECEIPTS.name].iter_rows(values_only=True)
        return next(i for i, r in enumerate(rows, start=1) if r and r[0] == receipt_id)
    finally:
        wb.close()


def test_a_single_source_village_is_told_to_widen_its_supply(village_book):
    # RK-01 企业爱心捐助 1500 and RK-02 财政补贴 500, both in January
    s = funding(village_book).summary
    assert s["sentence"] == (
        "2026年共入库 2 笔，折合金额 2000 元，来自 2 类来源，最大来源「企业爱心捐助」占 75%，11 个月中有 1 个月有入库："
        "来源较单一，建议争取社会组织、帮扶单位、企业和村集体经济等多方投入；入库集中在少数月份，建议按月或按季度稳定补充物资，"
        "形成长效投入机制。")


def test_diverse_and_steady_supply():
    months = [D(2026, m, 3) for m in range(1, 13)]
    sources = ["财政补贴", "社会组织捐赠", "帮扶单位支持", "企业爱心捐助"] * 3
    rec = pd.DataFrame({"receipt_id": [f"R{i}" for i in range(12)], "date": pd.to_datetime(months),
                        "funding": sources, "goods_id": "SP-01", "amount": [100.0] * 12, ROW: range(2, 14)})
    from jifen_xl.core.funding import funding_summary

    s = funding_summary(rec, pd.DataFrame({"goods_id": ["SP-01"], "name": ["大米"]}), 2026)
    assert s["sentence"] == ("2026年共入库 12 笔，折合金额 1200 元，来自 4 类来源，最大来源「财政补贴」占 25%，"
                             "12 个月中有 12 个月有入库：来源多元、投入持续，符合长效投入机制的要求。")


def test_a_receipt_without_a_known_source_is_counted_never_summed():
    rec = pd.DataFrame({"date": pd.to_datetime([D(2026, 5, 1), D(2026, 5, 2), D(2025, 12, 30)]),
                        "funding": ["财政补贴", None, "财政补贴"], "amount": [100.0, 70.0, 999.0]})
    table = funding_table(rec, 2026)
    assert row(table, "2026-05") == (100, 0, 0, 0, 0, 0, 100, 2, 0, 1)
    assert row(table, "全年") == (100, 0, 0, 0, 0, 0, 100, 2, 0, 1)  # the 2025 receipt is another year
    by_village = funding_by_village({"甲村": rec, "乙村": rec.iloc[:0]}, 2026)
    assert list(by_village["village"]) == ["甲村", "乙村", "合计"]
    assert row(by_village, "乙村") == (0,) * 10
    assert row(by_village, "合计") == (100, 0, 0, 0, 0, 0, 100, 2, 0, 1)


def test_another_year_is_refused(village_book):
    with pytest.raises(JifenError) as exc:
        funding(village_book, year=2025)
    assert exc.value.message == "年度「2025」与工作簿的年度 2026 不同：一个工作簿只记一年。请写 --year 2026，或打开 2025 年的工作簿。"


def test_the_workbook_is_never_an_output(village_book):
    with pytest.raises(JifenError) as exc:
        funding(village_book, html=village_book)
    assert exc.value.message == f"输出文件「{village_book.name}」就是村里的工作簿，工具不会覆盖它。请换一个文件名。"


def test_cli_village_text_and_json(funded_book):
    text = CliRunner().invoke(cli, ["funding", str(funded_book)])
    assert text.exit_code == 0, text.output
    lines = text.output.splitlines()
    assert lines[0] == "永宁寺村爱心超市 2026 年度物资来源（折合金额，元）"
    assert "企业爱心捐助    1500      56.6%  1" in lines
    assert "没有填写折合金额的入库（「物资入库」）：RK-04（第 " in text.output
    data = json.loads(CliRunner().invoke(cli, ["funding", str(funded_book), "--json"]).output)
    assert data["rows"][-1] == {"月份": "全年", "财政补贴": 500, "社会组织捐赠": 400, "帮扶单位支持": 250.5,
                                "企业爱心捐助": 1500, "村集体经济收入": 0, "其他": 0, "合计金额": 2650.5, "入库笔数": 5,
                                "未填折合金额（笔）": 1, "未填来源类型（笔）": 0}
    assert data["summary"]["largest"] == {"source": "企业爱心捐助", "share": 56.6}


def _independent_sums(path: Path, year: int) -> dict:
    """物资入库 of one workbook summed by 来源类型 with openpyxl and plain Python (not jifen_xl)."""
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)  # closed below: read-only keeps it open
    rows = list(wb[S.RECEIPTS.name].iter_rows(values_only=True))
    wb.close()
    rows = iter(rows)
    headers = list(next(rows))
    at = {h: headers.index(h) for h in ("日期", "来源类型", "折合金额")}
    sums = {s: 0.0 for s in SOURCES}
    count = 0
    for r in rows:
        if r[at["日期"]] is None or r[at["日期"]].year != year:
            continue
        count += 1
        if r[at["折合金额"]] is not None:
            sums[r[at["来源类型"]]] += float(r[at["折合金额"]])
    return {"sums": sums, "count": count}


def test_a_township_folder_equals_an_independent_sum_and_a_bad_file_stops_nothing(tmp_path):
    from jifen_xl.demo.township import generate_township

    folder = tmp_path / "中梁镇"
    made = generate_township(folder, villages=3, households=[30, 40, 35], seed=7)
    (folder / "坏文件.xlsx").write_text("这不是工作簿", encoding="utf-8")
    (folder / "~$石岗村-2026.xlsx").write_bytes(b"lock")  # Excel's lock file: not a workbook to read
    result = app.funding_files([folder], today=TODAY)
    table = result.table.set_index("village")
    expected_total = {s: 0.0 for s in SOURCES}
    for v in made:
        want = _independent_sums(v.path, 2026)
        got = table.loc[v.village]
        assert [round(got[s], 2) for s in SOURCES] == [round(want["sums"][s], 2) for s in SOURCES], v.village
        assert int(got["receipts"]) == want["count"]
        assert math.isclose(got["total"], sum(want["sums"].values()))
        for s in SOURCES:
            expected_total[s] += want["sums"][s]
    assert list(table.index) == [v.village for v in sorted(made, key=lambda v: v.path.name)] + ["合计"]
    assert [round(table.loc["合计", s], 2) for s in SOURCES] == [round(expected_total[s], 2) for s in SOURCES]
    assert [(name, why.startswith("文件「坏文件.xlsx」")) for name, why in result.unreadable] == [("坏文件.xlsx", True)]
    assert result.skipped == [("~$石岗村-2026.xlsx", LOCK_REASON)]
    cli_run = CliRunner().invoke(cli, ["funding", str(folder)])
    assert cli_run.exit_code == 1  # the view is printed, and a file could not be read
    assert cli_run.output.splitlines()[0] == "爱心超市物资来源 2026 年度（按村，折合金额，元）"
    assert "无法读取「" in cli_run.output and "坏文件.xlsx" in cli_run.output


def test_a_mixed_folder_and_its_zip_are_collected_as_the_township_import_does(tmp_path):
    """A folder as a township officer gets it: villages in a subfolder too, the toolkit's 备份
    folder, Excel's lock file, a zip inside the folder, a note, a damaged copy. Only the villages
    are counted (each once), every other file is listed with its reason; the same villages sent
    as one zip give the same table."""
    from jifen_xl.demo.township import generate_township

    from .zipcraft import member, write_zip

    folder = tmp_path / "中梁镇11月"
    made = generate_township(folder, villages=["石岗村", "龙泉村"], households=[25, 30], seed=9)
    (folder / "补报").mkdir()
    late = generate_township(folder / "补报", villages=["凤凰村"], households=[20], seed=10)
    (folder / "备份").mkdir()
    (folder / "备份" / "石岗村-2026-20261101.xlsx").write_bytes((folder / "石岗村-2026.xlsx").read_bytes())
    (folder / "~$龙泉村-2026.xlsx").write_bytes(b"\x06WPS Office")
    (folder / "报送说明.txt").write_text("月底前报送", encoding="utf-8")
    whole = (folder / "龙泉村-2026.xlsx").read_bytes()
    (folder / "新发村-2026.xlsx").write_bytes(whole[: len(whole) // 2])  # damaged in copying
    write_zip(folder / "上月.zip", [member("石岗村-2026.xlsx", whole)])
    result = app.funding_files([folder], today=TODAY)
    villages = made + late
    table = result.table.set_index("village")
    assert sorted(table.index) == sorted([v.village for v in villages] + ["合计"])  # the backup is not counted again
    total = {s: 0.0 for s in SOURCES}
    for v in villages:
        want = _independent_sums(v.path, 2026)["sums"]
        assert [round(table.loc[v.village, s], 2) for s in SOURCES] == [round(want[s], 2) for s in SOURCES], v.village
        total = {s: total[s] + want[s] for s in SOURCES}
    assert [round(table.loc["合计", s], 2) for s in SOURCES] == [round(total[s], 2) for s in SOURCES]
    assert [v["file"] for v in result.villages] == ["石岗村-2026.xlsx", "龙泉村-2026.xlsx", "补报/凤凰村-2026.xlsx"]
    skipped = dict(result.skipped)
    assert sorted(skipped) == ["~$龙泉村-2026.xlsx", "上月.zip", "备份/石岗村-2026-20261101.xlsx", "报送说明.txt"]
    assert skipped["~$龙泉村-2026.xlsx"] == LOCK_REASON
    assert skipped["上月.zip"].startswith("是压缩包") and "备份" in skipped["备份/石岗村-2026-20261101.xlsx"]
    assert skipped["报送说明.txt"].startswith("不是工作簿")
    assert [(n, "已损坏" in why) for n, why in result.unreadable] == [("新发村-2026.xlsx", True)]

    run = CliRunner().invoke(cli, ["funding", str(folder)])
    assert run.exit_code == 1  # a workbook could not be read; the skipped files alone would not do that
    assert f"已跳过「~$龙泉村-2026.xlsx」：{LOCK_REASON}" in run.output.splitlines()
    assert "无法读取「新发村-2026.xlsx」：" in run.output
    data = json.loads(CliRunner().invoke(cli, ["funding", str(folder), "--json"]).output)
    assert {u["file"] for u in data["skipped"]} == set(skipped)

    zipped = write_zip(tmp_path / "中梁镇.zip", [member(f"各村/{v.path.name}".encode("gbk"), v.path.read_bytes())
                                                 for v in villages] + [member("各村/~$石岗村-2026.xlsx", b"lock")])
    run = CliRunner().invoke(cli, ["funding", str(zipped), "--json"])
    assert run.exit_code == 0, run.output
    data = json.loads(run.output)
    by_village = {r["村"]: r for r in data["rows"]}
    assert set(by_village) == set(table.index)
    for name in by_village:
        assert [by_village[name][s] for s in SOURCES] == pytest.approx([table.loc[name, s] for s in SOURCES]), name
    assert [u["file"] for u in data["skipped"]] == ["中梁镇.zip/各村/~$石岗村-2026.xlsx"]


def test_two_workbooks_of_one_village_are_named_by_their_files(village_book, tmp_path):
    other = tmp_path / "副本.xlsx"
    other.write_bytes(village_book.read_bytes())
    result = app.funding_files([village_book, other], today=TODAY)
    assert list(result.table["village"]) == ["永宁寺村（永宁寺村.xlsx）", "永宁寺村（副本.xlsx）", "合计"]
    assert result.table.iloc[-1]["total"] == 4000  # 2 x (1500 + 500)


def test_a_folder_without_workbooks(tmp_path):
    with pytest.raises(JifenError) as exc:
        app.funding_files([tmp_path], today=TODAY)
    assert exc.value.message == "没有找到村级工作簿：所给的文件夹里没有 .xlsx/.xlsm/.xls/.ods 文件。请核对路径。"


@needs_lo
def test_printed_funding_page(funded_book, tmp_path):
    pdf, html = tmp_path / "资金来源.pdf", tmp_path / "资金来源.html"
    result = CliRunner().invoke(cli, ["funding", str(funded_book), "--pdf", str(pdf), "--html", str(html)])
    assert result.exit_code == 0, result.output
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    fields = dict(line.split(":", 1) for line in info.splitlines() if ":" in line)
    assert (int(fields["Pages"]), fields["Page size"].split()[:3]) == (1, ["841.89", "x", "595.304"])  # A4 landscape
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    flat = " ".join(text.split())
    assert "永宁寺村爱心超市2026年度物资来源统计" in flat.replace(" ", "")
    for source in SOURCES:
        assert source in flat
    assert "全年 500 400 250.5 1500 0 0 2650.5 5 1 0" in flat
    assert "RK-04" in flat and "第 1 页，共 1 页" in flat
    assert "企业爱心捐助" in html.read_text(encoding="utf-8")
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(tmp_path / "p")], check=True)
    assert (tmp_path / "p-1.png").stat().st_size > 5000
