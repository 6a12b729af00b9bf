"""``district import`` (issue 11): a district's tree of township folders of village workbooks
imported township by township into a Parquet dataset and rolled up in DuckDB. Its figures equal
the villages' cells read by openpyxl (``test_township_import.independent``), the township
imports', and sums of the dataset read by pandas; the district workbook shows them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from jifen_xl.cli import cli
from jifen_xl.demo import generate_village
from jifen_xl.district import SUBTOTAL, import_district
from jifen_xl.errors import ValidationFailed
from jifen_xl.io.template import build_workbook
from jifen_xl.township import import_township

from .conftest import TODAY
from .lo import needs_lo
from .test_township_import import FIELDS, _close, _records, independent

DISTRICT = "沙坪坝区"
#: Two townships; 石岗村 is a name both have.
TREE = {"中梁镇": ["石岗村", "龙泉村"], "青木关镇": ["石岗村", "凤凰村", "桂花村"]}


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("district") / "沙坪坝区各镇"
    seed = 60
    for town, villages in TREE.items():
        (root / town / "十一月").mkdir(parents=True)  # any depth below the township's folder
        for name in villages:
            seed += 1
            settings, tables = generate_village(households=18, seed=seed, village=name, township=town,
                                                district=DISTRICT, settled_months=11)
            build_workbook(root / town / "十一月" / f"{name}-2026.xlsx", settings, tables)
    (root / "青木关镇" / "坏文件.xlsx").write_bytes(b"not a workbook at all")
    return root


@pytest.fixture(scope="module")
def rolled(tree, tmp_path_factory):
    out_dir = tmp_path_factory.mktemp("district-out")
    result = import_district(tree, out_dir / "沙坪坝区2026年积分汇总.xlsx", parquet=out_dir / "数据集",
                             workers=1, today=TODAY)
    return result, out_dir


def _key(v: dict) -> tuple:
    return v["镇街"], v["村"]


def test_every_file_has_its_status(rolled):
    result, _ = rolled
    status = {f["文件"]: f["状态"] for f in result.files}
    want = {f"{t}/十一月/{v}-2026.xlsx": "已导入" for t, vs in TREE.items() for v in vs}
    want["青木关镇/坏文件.xlsx"] = "已跳过"
    assert status == want


def test_village_figures_equal_the_cells_and_the_township_imports(rolled, tree):
    result, _ = rolled
    got = {_key(v): v for v in result.villages}
    assert sorted(got) == sorted((t, v) for t, vs in TREE.items() for v in vs)
    for town, villages in TREE.items():
        township = import_township(tree / town, None, workers=1, today=TODAY)
        for v in township.villages:
            assert got[_key(v)] == v, _key(v)  # every 汇总概况 figure, DuckDB = pandas
        for name in villages:
            want = independent(tree / town / "十一月" / f"{name}-2026.xlsx")
            assert _close({k: got[(town, name)][k] for k in FIELDS}, want), (town, name)


def test_township_subtotals_are_sums_of_their_villages(rolled):
    result, _ = rolled
    for sub in result.townships:
        mine = [v for v in result.villages if v["镇街"] == sub["镇街"]]
        assert sub["村"] == SUBTOTAL
        for k in ("户数", "参与户数", "加分合计", "扣分合计", "积分合计", "异议数", "兑换笔数", "兑换积分"):
            assert sub[k] == pytest.approx(sum(v[k] for v in mine)), (sub["镇街"], k)
        assert sub["户均积分"] == pytest.approx(round(sub["积分合计"] / sub["户数"], 2))


def test_duckdb_and_pandas_agree_on_the_dataset(rolled):
    result, out_dir = rolled
    entries = pd.read_parquet(out_dir / "数据集" / "entries")
    counted = entries[entries["counted"]]
    sums = counted.groupby([counted["township"].astype(str), counted["village"].astype(str)])["points"].sum()
    for v in result.villages:
        assert v["积分合计"] == pytest.approx(sums[_key(v)])


def _blocks(ws) -> list[list[dict]]:
    """The tables side by side on the sheet's first rows: one list of records per block of
    headers (blocks are separated by a blank column), down to the block's first blank row."""
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    header = rows[0]
    blocks, at = [], 0
    while at < len(header):
        if header[at] is None:
            at += 1
            continue
        end = next((j for j in range(at, len(header)) if header[j] is None), len(header))
        block = []
        for r in rows[1:]:
            cells = (r + [None] * len(header))[at:end]
            if all(v is None for v in cells):
                break
            block.append(dict(zip(header[at:end], cells)))
        blocks.append(block)
        at = end
    return blocks


def test_the_district_workbook(rolled):
    result, out_dir = rolled
    wb = openpyxl.load_workbook(out_dir / "沙坪坝区2026年积分汇总.xlsx", read_only=True)
    rows = _records(wb["汇总概况"])
    ranking = _records(wb["户排名"])
    candidates = _records(wb["评优候选"])
    rules = _records(wb["评优规则"])
    trend, monthly = _blocks(wb["月度趋势"])[:2]
    wb.close()
    # each township's villages, its 小计, then the district's 全区合计
    expect = []
    for town in TREE:
        expect += sorted((town, v) for v in TREE[town]) + [(town, SUBTOTAL)]
    assert [(r["镇街"], r["村"]) for r in rows[:-1]] == expect
    assert rows[-1]["村"] == "全区合计"
    assert rows[-1]["积分合计"] == pytest.approx(sum(v["积分合计"] for v in result.villages))
    # the 小计 rows stand out as the 全区合计 row does: bold, every cell; the villages' rows do not
    full = openpyxl.load_workbook(out_dir / "沙坪坝区2026年积分汇总.xlsx")
    sheet = list(full["汇总概况"].iter_rows(min_row=2))
    assert len(sheet) == len(rows)
    for row, cells in zip(rows, sheet):
        written = [c for c in cells if c.value is not None]
        assert all(c.font.b for c in written) == (row["村"] in (SUBTOTAL, "全区合计")), row["村"]
        assert any(c.font.b for c in written) == (row["村"] in (SUBTOTAL, "全区合计")), row["村"]
    by_key = {(r["镇街"], r["村"]): r for r in rows}
    for v in result.villages + result.townships:
        assert by_key[_key(v)]["积分合计"] == pytest.approx(v["积分合计"])
    # district-wide lists name each household's 镇街 and its own 村 (石岗村 is in both townships)
    places = {(t, v) for t, vs in TREE.items() for v in vs}
    assert {(r["镇街"], r["村"]) for r in ranking} == places  # every household ranks in this small district
    assert {(r["镇街"], r["村"]) for r in candidates if r["户号"]} <= places
    assert "全区名额" in rules[0] and "全镇名额" not in rules[0]
    # 月度趋势: one row per 镇街 and month; the district's months beside them
    assert set(trend[0]) == {"月份", "镇街", "积分合计", "参与户数", "兑换积分"}
    assert {r["镇街"] for r in trend} == set(TREE)
    assert set(monthly[0]) == {"月份", "全区积分合计", "全区兑换积分", "全区参与户数"}
    entries = pd.read_parquet(out_dir / "数据集" / "entries")
    counted = entries[entries["counted"]]
    want = counted.groupby([counted["township"].astype(str), "month"])["points"].sum()
    settled = [r for r in trend if r["积分合计"] is not None]
    assert settled and len(settled) == len(TREE) * 11  # the fixture's villages settled 11 months
    for r in settled:
        assert r["积分合计"] == pytest.approx(want.get((r["镇街"], r["月份"]), 0.0)), (r["镇街"], r["月份"])
    for m in monthly:
        mine = [r["积分合计"] for r in settled if r["月份"] == m["月份"]]
        if mine:
            assert m["全区积分合计"] == pytest.approx(sum(mine))


def test_the_district_rules_are_kept_and_say_district(rolled, tmp_path):
    _, out_dir = rolled
    out = tmp_path / "区.xlsx"
    shutil.copy2(out_dir / "沙坪坝区2026年积分汇总.xlsx", out)
    wb = openpyxl.load_workbook(out)
    ws = wb["评优规则"]
    header = [c.value for c in ws[1]]
    star = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, 1).value == "星级文明户")
    ws.cell(star, header.index("全区名额") + 1).value = 2
    ws.cell(star, header.index("最低积分") + 1).value = 0
    wb.save(out)
    import_district(out_dir / "数据集", out, workers=1)
    wb = openpyxl.load_workbook(out, read_only=True)
    stars = [r for r in _records(wb["评优候选"]) if r["荣誉"] == "星级文明户"]
    kept = _records(wb["评优规则"])
    wb.close()
    assert 2 <= len(stars) <= 3 and all(r["名次"] <= 2 for r in stars)  # ties at the cut are kept
    assert all("全区前 2 名" in r["依据规则"] for r in stars)
    assert next(r for r in kept if r["荣誉"] == "星级文明户")["全区名额"] == 2
    ws_bad = openpyxl.load_workbook(out)
    ws_bad["评优规则"].cell(star, header.index("全区名额") + 1).value = -1
    ws_bad.save(out)
    with pytest.raises(ValidationFailed, match="全区名额"):
        import_district(out_dir / "数据集", out, workers=1)


def test_from_the_dataset_the_same_roll_up(rolled, tmp_path):
    result, out_dir = rolled
    again = import_district(out_dir / "数据集", tmp_path / "再次.xlsx", workers=1)
    assert again.villages == result.villages
    assert again.townships == result.townships
    # the files each township import recorded in the dataset (names below the township's folder)
    assert sorted((f["文件"], f["状态"]) for f in again.files) == \
        sorted((f["文件"].split("/", 1)[1], f["状态"]) for f in result.files)


def test_scratch_dataset_is_removed_and_json(tree, tmp_path):
    shutil.copytree(tree / "中梁镇", tmp_path / "src" / "中梁镇")
    res = CliRunner().invoke(cli, ["district", "import", str(tmp_path / "src"), "-o", str(tmp_path / "区.xlsx"),
                                   "--workers", "1", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert sorted(v["村"] for v in data["villages"]) == sorted(TREE["中梁镇"])
    assert [t["村"] for t in data["townships"]] == [SUBTOTAL]
    assert (tmp_path / "区.xlsx").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src", "区.xlsx"]


def test_nothing_to_import_is_refused(tmp_path):
    (tmp_path / "src" / "某镇").mkdir(parents=True)
    (tmp_path / "src" / "某镇" / "说明.txt").write_text("x", encoding="utf-8")
    res = CliRunner().invoke(cli, ["district", "import", str(tmp_path / "src"), "-o", str(tmp_path / "区.xlsx")])
    assert res.exit_code != 0
    assert "没有可以计入汇总的村级工作簿" in res.output
    assert not (tmp_path / "区.xlsx").exists()


def test_a_village_in_two_township_folders_counts_once(tree, tmp_path):
    src = tmp_path / "src"
    shutil.copytree(tree / "中梁镇", src / "中梁镇")
    (src / "补报").mkdir()
    shutil.copy2(tree / "中梁镇" / "十一月" / "龙泉村-2026.xlsx", src / "补报" / "龙泉村-2026.xlsx")
    (src / "说明.txt").write_text("各镇报送的工作簿", encoding="utf-8")
    result = import_district(src, tmp_path / "区.xlsx", parquet=tmp_path / "数据集", workers=1, today=TODAY)
    status = {f["文件"]: f["状态"] for f in result.files}
    assert status == {"中梁镇/十一月/石岗村-2026.xlsx": "已导入", "中梁镇/十一月/龙泉村-2026.xlsx": "重复",
                      "补报/龙泉村-2026.xlsx": "已导入", "说明.txt": "已跳过"}
    assert sorted(v["村"] for v in result.villages) == ["石岗村", "龙泉村"]
    assert any("补报/龙泉村-2026.xlsx" in w and "中梁镇/十一月/龙泉村-2026.xlsx" in w for w in result.warnings)


@needs_lo
def test_the_district_report(rolled, tmp_path):
    """``district import --html --pdf``: the township report's template, said for the district."""
    result, out_dir = rolled
    html, pdf = tmp_path / "区报告.html", tmp_path / "区报告.pdf"
    res = CliRunner().invoke(cli, ["district", "import", str(out_dir / "数据集"), "-o", str(tmp_path / "区.xlsx"),
                                   "--workers", "1", "--html", str(html), "--pdf", str(pdf)])
    assert res.exit_code == 0, res.output
    assert f"已生成汇总报告「{pdf}」。" in res.output and f"已生成汇总报告「{html}」。" in res.output
    page = html.read_text(encoding="utf-8")
    assert "全镇" not in page and "乡镇汇总工作簿" not in page
    assert "区县汇总工作簿" in page and "三、各镇街比较" in page
    assert page.count(f"<td><b>{SUBTOTAL}</b></td>") == len(TREE)  # each 镇街's 小计 row printed bold
    for village in {v for vs in TREE.values() for v in vs}:
        assert f"<td><b>{village}</b></td>" not in page and f"<td>{village}</td>" in page
    pages = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                           check=True).stdout.rstrip("\f").split("\f")
    text = "".join(p.replace(" ", "") for p in pages)
    assert "沙坪坝区2026年度乡村治理积分工作汇总报告" in text
    assert f"计入汇总{len(result.villages)}个村" in text  # the 小计 rows are no villages
    for words in ("全区合计", "全区每月已确认积分与兑换积分", "各镇街户均积分", "全区积分合计", *TREE):
        assert words in text, words
    assert text.count(SUBTOTAL) >= len(TREE)
    # the 全区合计 row's 积分合计 as printed
    total = sum(v["积分合计"] for v in result.villages)
    assert f"{total:,.0f}" in text or f"{total:,.2f}".rstrip("0").rstrip(".") in text


def test_a_report_pdf_needs_its_extension_before_the_work(rolled, tmp_path):
    _, out_dir = rolled
    res = CliRunner().invoke(cli, ["district", "import", str(out_dir / "数据集"), "-o", str(tmp_path / "区.xlsx"),
                                   "--html", str(tmp_path / "报告.txt")])
    assert res.exit_code != 0 and "扩展名应为 .html" in res.output
    assert not (tmp_path / "区.xlsx").exists()


def test_a_village_workbook_as_output_is_refused(rolled, tree, tmp_path):
    _, out_dir = rolled
    village = Path(shutil.copy2(tree / "中梁镇" / "十一月" / "石岗村-2026.xlsx", tmp_path / "石岗村.xlsx"))
    before = village.read_bytes()
    res = CliRunner().invoke(cli, ["district", "import", str(out_dir / "数据集"), "-o", str(village)])
    assert res.exit_code != 0 and "不是工具生成的区县汇总工作簿" in res.output
    assert village.read_bytes() == before


def test_an_older_file_in_a_later_folder_does_not_replace_the_newer(tree, tmp_path):
    """The dataset's rule holds across a tree's folders too: the newest file of a village counts,
    whichever folder comes later."""
    src = tmp_path / "src"
    shutil.copytree(tree / "中梁镇", src / "中梁镇")
    newer = src / "中梁镇" / "十一月" / "龙泉村-2026.xlsx"
    settings, tables = generate_village(households=12, seed=99, village="龙泉村", township="中梁镇",
                                        district=DISTRICT, settled_months=11)
    (src / "补报").mkdir()
    older = src / "补报" / "龙泉村-2026.xlsx"
    build_workbook(older, settings, tables)
    when = newer.stat().st_mtime - 86400
    os.utime(older, (when, when))
    result = import_district(src, tmp_path / "区.xlsx", parquet=tmp_path / "数据集", workers=1, today=TODAY)
    status = {f["文件"]: f["状态"] for f in result.files}
    assert status["中梁镇/十一月/龙泉村-2026.xlsx"] == "已导入" and status["补报/龙泉村-2026.xlsx"] == "重复"
    reason = next(f["原因"] for f in result.files if f["文件"] == "补报/龙泉村-2026.xlsx")
    assert "中梁镇/十一月/龙泉村-2026.xlsx" in reason
    got = next(v for v in result.villages if v["村"] == "龙泉村")
    assert _close({k: got[k] for k in FIELDS}, independent(newer))
    assert any("较新" in w and "龙泉村-2026.xlsx" in w for w in result.warnings)
