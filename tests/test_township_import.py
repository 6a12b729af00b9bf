"""The township import (issue 11): a folder (and a zip) of village workbooks as a township
officer receives them, every file with its status and reason, and the villages' figures equal
to an independent computation.

The folder holds workbooks made by different means: the toolkit (``generate_township`` and
``build_workbook``), another program (plain openpyxl, ``tests/foreign.py``) re-saved by
LibreOffice, a toolkit workbook re-saved by LibreOffice; one village with planted mistakes, a
damaged copy, a duplicate (a later copy), Excel's lock file, a note, another year's workbook.
The figures are worked out from the cells openpyxl reads, in plain Python (never through
``core``), or by hand for the small foreign village.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from collections import defaultdict
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from jifen_xl import schema as S
from jifen_xl.cli import cli
from jifen_xl.demo import generate_township, generate_village
from jifen_xl.errors import JifenError
from jifen_xl.io.collect import LOCK_REASON, collect
from jifen_xl.io.template import build_workbook
from jifen_xl.township import NothingImported, import_township

from .conftest import TODAY
from .foreign import write_foreign_workbook
from .lo import lo_convert, needs_lo
from .zipcraft import bomb, member, write_zip

IMPORTED, WARNED, REJECTED, SKIPPED, DUPLICATE = S.IMPORT_STATUSES
FIELDS = ("户数", "参与户数", "加分合计", "扣分合计", "积分合计", "异议数", "兑换积分")

#: The foreign village (tests/village_data.py), worked out by hand from its rows: 正常 households
#: 0001 0002 0003 0004 0006 (0005 迁出); confirmed points +6 +2 −3 +10 +3 +1, 2 (2026-007 corrected
#: 3 → 2), +20; 2026-008 withdrawn, 2026-010 still 公示中; three objections; exchanges 20 + 10.
FOREIGN = {"户数": 5, "参与户数": 5, "加分合计": 44, "扣分合计": -3, "积分合计": 41, "异议数": 3, "兑换积分": 30}


def _older(path: Path, minutes: int) -> None:
    stamp = path.stat().st_mtime - minutes * 60
    os.utime(path, (stamp, stamp))


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """The folder a township officer received, and the status each file must get."""
    base = tmp_path_factory.mktemp("township")
    root = base / "中梁镇2026年11月"
    generate_township(root, villages=["石岗村", "龙泉村"], households=30, mistakes_in="龙泉村", seed=7)
    expected = {"石岗村-2026.xlsx": IMPORTED, "龙泉村-2026.xlsx": REJECTED}
    # Months 1-11 settled by hand: confirmed points, corrections, withdrawals.
    settings, tables = generate_village(households=40, seed=11, village="凤凰村", settled_months=11)
    build_workbook(root / "凤凰村-2026.xlsx", settings, tables)
    _older(root / "凤凰村-2026.xlsx", 60)
    # ... sent again a day later into a subfolder: the newer copy is kept, the older one is 重复.
    (root / "补报").mkdir()
    shutil.copyfile(root / "凤凰村-2026.xlsx", root / "补报" / "凤凰村-2026(1).xlsx")
    expected.update({"凤凰村-2026.xlsx": DUPLICATE, "补报/凤凰村-2026(1).xlsx": IMPORTED})
    # A toolkit workbook re-saved by LibreOffice.
    settings, tables = generate_village(households=35, seed=12, village="桂花村", settled_months=11)
    made = build_workbook(base / "桂花村-2026.xlsx", settings, tables)
    lo_convert(made, "xlsx", root)
    expected["桂花村-2026.xlsx"] = IMPORTED
    # Another program's workbook (title rows, shuffled columns, text dates, formulas), re-saved by
    # LibreOffice so its formulas have results: two planted warnings.
    foreign = write_foreign_workbook(base / "永宁寺村.xlsx")
    lo_convert(foreign, "xlsx", root)
    expected["永宁寺村.xlsx"] = WARNED
    # Damaged in copying; Excel's lock file; a note; last year's workbook.
    whole = (root / "石岗村-2026.xlsx").read_bytes()
    (root / "新发村-2026.xlsx").write_bytes(whole[: len(whole) // 2])
    (root / "~$凤凰村-2026.xlsx").write_bytes(b"\x06WPS Office")
    (root / "报送说明.txt").write_text("各村工作簿请于月底前报送。", encoding="utf-8")
    settings, tables = generate_village(households=12, seed=13, village="庙堡村", year=2025)
    build_workbook(root / "庙堡村-2025.xlsx", settings, tables)
    expected.update({"新发村-2026.xlsx": SKIPPED, "~$凤凰村-2026.xlsx": SKIPPED, "报送说明.txt": SKIPPED,
                     "庙堡村-2025.xlsx": SKIPPED})
    return root, expected


@pytest.fixture(scope="module")
def imported(folder, tmp_path_factory):
    root, _ = folder
    out = tmp_path_factory.mktemp("out") / "中梁镇2026年积分汇总.xlsx"
    seen = []
    result = import_township(root, out, workers=2, today=TODAY, progress=lambda *a: seen.append(a))
    return result, seen


def _by_file(result) -> dict:
    return {f.file: f for f in result.files}


# --- the independent computation: cells as openpyxl reads them, plain Python -----------------------

def _records(ws) -> list[dict]:
    """Rows under the header row (the first row holding 3+ texts), keyed by header."""
    rows = list(ws.iter_rows(values_only=True))
    at = next(i for i, r in enumerate(rows) if sum(isinstance(v, str) and v.strip() != "" for v in r) >= 2)
    header = [str(v).strip() if v is not None else None for v in rows[at]]
    out = []
    for r in rows[at + 1:]:
        rec = {h: v for h, v in zip(header, r) if h}
        if any(v not in (None, "") for v in rec.values()):
            out.append(rec)
    return out


def _day(v) -> dt.date | None:
    return v.date() if isinstance(v, dt.datetime) else v


def independent(path: Path) -> dict:
    """One toolkit-made village's JSON figures, from its cells (header row first, dates as dates)."""
    wb = openpyxl.load_workbook(path, data_only=True, read_only=True)
    settings = {r["项目"]: r["内容"] for r in _records(wb["基本信息"])}
    year = int(settings["年度"])
    active = {h["户号"] for h in _records(wb["住户名册"]) if h["状态"] == "正常"}
    catalogue = defaultdict(list)
    for c in _records(wb["积分指标"]):
        catalogue[c["指标编码"]].append(c)

    def item(code, day):
        for c in catalogue[code]:
            if (c["生效日期"] is None or _day(c["生效日期"]) <= day) and (c["失效日期"] is None or day <= _day(c["失效日期"])):
                return c
        raise AssertionError(f"no catalogue row for {code} on {day}")

    objections = _records(wb["异议处理"])
    decided = {}
    for o in sorted((o for o in objections if o["处理结果"]), key=lambda o: _day(o["处理日期"])):
        decided[o["登记编号"]] = o  # the latest decision stands
    undecided = {o["登记编号"] for o in objections if not o["处理结果"]}
    reward = deduct = 0.0
    taking_part = set()
    for e in _records(wb["积分登记"]):
        day = _day(e["日期"])
        if e["状态"] != "已确认" or day.year != year or e["登记编号"] in undecided:
            continue
        o = decided.get(e["登记编号"])
        if o is not None and o["处理结果"] == "撤销":
            continue
        c = item(e["指标编码"], day)
        points = e["积分"] if e["积分"] is not None else (e["数量"] or 1) * c["分值"]
        if o is not None and o["处理结果"] == "更正":
            points = o["更正后积分"]
        if c["积分类型"] == "扣分项目":
            deduct += points
        else:
            reward += points
        if e["户号"] in active:
            taking_part.add(e["户号"])
    spent = sum(x["消耗积分"] for x in _records(wb["积分兑换"]) if _day(x["日期"]).year == year)
    wb.close()
    return {"户数": len(active), "参与户数": len(taking_part), "加分合计": reward, "扣分合计": deduct,
            "积分合计": reward + deduct, "异议数": len(objections), "兑换积分": spent}


def _figures(village: dict) -> dict:
    return {k: village[k] for k in FIELDS}


def _close(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(abs(float(a[k]) - float(b[k])) < 1e-6 for k in a)


# --- every file has its status --------------------------------------------------------------------

@needs_lo
def test_every_file_of_the_folder_gets_its_status(folder, imported):
    _, expected = folder
    result, _ = imported
    assert {f.file: f.status for f in result.files} == expected
    assert set(result.counts) == set(S.IMPORT_STATUSES)


@needs_lo
def test_each_status_says_why(folder, imported):
    result, _ = imported
    got = _by_file(result)
    assert got["石岗村-2026.xlsx"].reason == "" and got["石岗村-2026.xlsx"].findings == []
    wrong = got["龙泉村-2026.xlsx"]
    assert wrong.errors > 0 and wrong.reason.startswith(f"有 {wrong.errors} 个错误")
    assert wrong.meta["村"] == "龙泉村" and wrong.extract.entries.empty  # not counted: its place and findings only
    assert len(wrong.findings) == 5 and all(p["级别"] == "错误" and p["工作表"] and p["规则编号"] for p in wrong.findings)
    foreign = got["永宁寺村.xlsx"]
    assert foreign.reason.startswith("有 2 个警告") and {p["规则编号"] for p in foreign.findings} == {"W-ENT-08", "W-ENT-15"}
    assert "已损坏" in got["新发村-2026.xlsx"].reason
    assert got["~$凤凰村-2026.xlsx"].reason == LOCK_REASON
    assert got["报送说明.txt"].reason.startswith("不是工作簿")
    assert got["庙堡村-2025.xlsx"].reason.startswith("是 2025 年度的工作簿，本次汇总的是 2026 年度")
    dup = got["凤凰村-2026.xlsx"]
    assert dup.reason.startswith("与「补报/凤凰村-2026(1).xlsx」是同一个村同一年度（沙坪坝区 中梁镇 凤凰村 2026 年度）")
    assert result.warnings == [w for w in result.warnings if "「凤凰村-2026.xlsx」与「补报/凤凰村-2026(1).xlsx」" in w]
    assert len(result.warnings) == 1
    for f in result.files:
        assert all("\u4e00" <= ch <= "\u9fff" for ch in f.reason if ch.isalpha() and not ch.isascii()), f.reason
        assert "Traceback" not in f.reason


@needs_lo
def test_progress_is_reported_once_per_workbook_read(imported):
    result, seen = imported
    read = [f for f in result.files if not f.file.startswith("~$") and f.file != "报送说明.txt"]
    assert [s[0] for s in seen] == list(range(1, len(read) + 1))
    assert {s[1] for s in seen} == {len(read)} and {s[2] for s in seen} == {f.file for f in read}


# --- the figures ---------------------------------------------------------------------------------

@needs_lo
def test_villages_figures_equal_an_independent_computation(folder, imported):
    root, _ = folder
    result, _ = imported
    villages = {v["村"]: v for v in result.villages}
    assert sorted(villages) == sorted(["石岗村", "凤凰村", "桂花村", "永宁寺村"])
    assert all((v["区县"], v["镇街"], v["年度"]) == ("沙坪坝区", "中梁镇", 2026) for v in villages.values())
    for name, path in (("石岗村", "石岗村-2026.xlsx"), ("凤凰村", "补报/凤凰村-2026(1).xlsx"), ("桂花村", "桂花村-2026.xlsx")):
        want = independent(root / path)
        assert _close(_figures(villages[name]), want), (name, _figures(villages[name]), want)
    assert _figures(villages["永宁寺村"]) == FOREIGN
    assert villages["凤凰村"]["积分合计"] != 0 and villages["凤凰村"]["扣分合计"] < 0  # not a trivial village
    assert [e.meta["村"] for e in result.extracts] == [v["村"] for v in result.villages]


@needs_lo
def test_the_township_workbook_carries_the_villages_and_every_file(folder, imported):
    """The import writes the township workbook: 汇总概况 has the same figures as the villages of
    the result (read back by openpyxl), 校验汇总 lists every file with its status."""
    result, _ = imported
    assert result.out is not None and result.out.is_file()
    wb = openpyxl.load_workbook(result.out, read_only=True)
    rows = {r["村"]: r for r in _records(wb[S.TOWNSHIP_SUMMARY.name]) if r.get("村") not in (None, "合计")}
    villages = {v["村"]: v for v in result.villages}
    assert set(rows) == set(villages)
    for name, v in villages.items():
        assert _close({k: rows[name][k] for k in FIELDS}, _figures(v)), name
    checks = "\n".join(" ".join(str(c) for c in r if c is not None)
                       for r in wb[S.TOWNSHIP_CHECKS.name].iter_rows(values_only=True))
    for f in result.files:
        assert Path(f.file).name in checks and f.status in checks, f.file
    wb.close()


@needs_lo
def test_one_worker_and_two_give_the_same_result(folder, imported):
    root, _ = folder
    two, _ = imported
    one = import_township(root, None, workers=1, today=TODAY)
    assert one.records() == two.records()
    assert one.warnings == two.warnings and one.year == two.year == 2026


@needs_lo
def test_another_year_is_imported_when_asked(folder):
    root, _ = folder
    result = import_township(root, None, workers=1, year=2025, today=TODAY)
    got = _by_file(result)
    assert [v["村"] for v in result.villages] == ["庙堡村"]
    assert got["庙堡村-2025.xlsx"].status == IMPORTED
    assert got["石岗村-2026.xlsx"].status == SKIPPED
    assert got["石岗村-2026.xlsx"].reason.startswith("是 2026 年度的工作簿，本次汇总的是 2025 年度")
    # a rejected file of another year is skipped for its year, and no duplicate is declared across years
    assert got["龙泉村-2026.xlsx"].status == SKIPPED and got["凤凰村-2026.xlsx"].status == SKIPPED
    assert result.warnings == []


# --- a zip of the folder ------------------------------------------------------------------------

@needs_lo
def test_a_zip_with_gbk_names_a_traversal_and_a_bomb(folder, imported, tmp_path):
    root, _ = folder
    data = {n: (root / n).read_bytes() for n in ("石岗村-2026.xlsx", "桂花村-2026.xlsx", "永宁寺村.xlsx")}
    zpath = write_zip(tmp_path / "中梁镇.zip", [
        member("11月/石岗村-2026.xlsx".encode("gbk"), data["石岗村-2026.xlsx"]),  # Windows: GBK, no UTF-8 flag
        member("11月/桂花村-2026.xlsx".encode("gbk"), data["桂花村-2026.xlsx"]),
        member("永宁寺村.xlsx", data["永宁寺村.xlsx"]),  # UTF-8 flag set
        member("../../逃出去.xlsx", data["石岗村-2026.xlsx"]),
        bomb("炸弹.xlsx", b"PK", b"\0" * (1 << 20), 200),  # 200 MB from a few hundred KB
        member("11月/~$石岗村-2026.xlsx".encode("gbk"), b"\x06WPS"),
    ])
    result = import_township(zpath, None, workers=2, today=TODAY)
    got = {f.file: f for f in result.files}
    assert {n: f.status for n, f in got.items()} == {
        "中梁镇.zip/11月/石岗村-2026.xlsx": IMPORTED, "中梁镇.zip/11月/桂花村-2026.xlsx": IMPORTED,
        "中梁镇.zip/永宁寺村.xlsx": WARNED, "中梁镇.zip/../../逃出去.xlsx": SKIPPED, "中梁镇.zip/炸弹.xlsx": SKIPPED,
        "中梁镇.zip/11月/~$石岗村-2026.xlsx": SKIPPED}
    assert "指向压缩包以外的位置" in got["中梁镇.zip/../../逃出去.xlsx"].reason
    assert "压缩炸弹" in got["中梁镇.zip/炸弹.xlsx"].reason
    assert "临时锁定文件" in got["中梁镇.zip/11月/~$石岗村-2026.xlsx"].reason
    assert not (tmp_path.parent / "逃出去.xlsx").exists() and not (tmp_path / "逃出去.xlsx").exists()
    assert sorted(tmp_path.iterdir()) == [zpath]  # nothing extracted beside the zip; the scratch folder is gone
    folder_villages = {v["村"]: v for v in imported[0].villages}
    assert {v["村"]: v for v in result.villages} == {n: folder_villages[n] for n in ("石岗村", "桂花村", "永宁寺村")}


# --- collecting the files ------------------------------------------------------------------------

def test_collect_lists_every_file_and_reads_workbooks_by_their_bytes(tmp_path):
    src = tmp_path / "收件"
    (src / "备份").mkdir(parents=True)
    (src / "__MACOSX").mkdir()
    settings, tables = generate_village(households=10, seed=3)
    book = build_workbook(src / "永宁寺村.xlsx", settings, tables)
    shutil.copyfile(book, src / "永宁寺村（微信）.dat")  # a workbook whose name lost its suffix
    shutil.copyfile(book, src / "备份" / "永宁寺村-20261101.xlsx")
    (src / "__MACOSX" / "._永宁寺村.xlsx").write_bytes(b"\x00\x05\x16\x07")
    (src / "Thumbs.db").write_bytes(b"\xd0\xcf")
    (src / ".~lock.永宁寺村.xlsx#").write_text("x,host", encoding="utf-8")
    write_zip(src / "别的村.zip", [member("a.xlsx", b"x")])
    (src / "照片.jpg").write_bytes(b"\xff\xd8\xff\xe0" + bytes(200))
    (src / "汇总.xlsx").write_bytes(b"old output")
    got = {c.name: c for c in collect(src, tmp_path / "scratch", exclude=(src / "汇总.xlsx",))}
    assert sorted(got) == sorted(["永宁寺村.xlsx", "永宁寺村（微信）.dat", "备份/永宁寺村-20261101.xlsx",
                                  "__MACOSX/._永宁寺村.xlsx", "Thumbs.db", ".~lock.永宁寺村.xlsx#", "别的村.zip",
                                  "照片.jpg", "汇总.xlsx"])
    assert {n for n, c in got.items() if not c.skipped} == {"永宁寺村.xlsx", "永宁寺村（微信）.dat"}
    assert got["永宁寺村.xlsx"].path == src / "永宁寺村.xlsx"
    assert got[".~lock.永宁寺村.xlsx#"].reason == LOCK_REASON
    assert "备份" in got["备份/永宁寺村-20261101.xlsx"].reason
    assert "操作系统自动生成" in got["Thumbs.db"].reason and "操作系统自动生成" in got["__MACOSX/._永宁寺村.xlsx"].reason
    assert got["别的村.zip"].reason.startswith("是压缩包")
    assert got["照片.jpg"].reason.startswith("不是工作簿")
    assert got["汇总.xlsx"].reason == "是本次导入的输出文件，不导入。"


def test_collect_refuses_what_is_no_folder_or_zip(tmp_path):
    with pytest.raises(JifenError, match="找不到文件夹或压缩包"):
        collect(tmp_path / "没有", tmp_path)
    (tmp_path / "一个村.xlsx").write_bytes(b"PK\x03\x04")
    with pytest.raises(JifenError, match="是一个工作簿。乡镇导入需要一个文件夹或一个 zip 压缩包"):
        collect(tmp_path / "一个村.xlsx", tmp_path)
    (tmp_path / "村.rar").write_bytes(b"Rar!\x1a\x07\x00rest")
    with pytest.raises(JifenError, match="是 RAR 格式"):
        collect(tmp_path / "村.rar", tmp_path)


# --- the command -------------------------------------------------------------------------------

def test_nothing_importable_is_an_error_with_every_file_listed(tmp_path):
    src = tmp_path / "收件"
    src.mkdir()
    (src / "说明.txt").write_text("空", encoding="utf-8")
    (src / "坏.xlsx").write_bytes(b"PK\x03\x04broken")
    with pytest.raises(NothingImported) as caught:
        import_township(src, tmp_path / "汇总.xlsx", workers=1, today=TODAY)
    assert [f.status for f in caught.value.result.files] == [SKIPPED, SKIPPED]
    assert "没有可以计入汇总的村级工作簿（共 2 个文件：已跳过 2 个）" in caught.value.message
    r = CliRunner().invoke(cli, ["township", "import", str(src), "-o", str(tmp_path / "汇总.xlsx"), "--json"])
    assert r.exit_code == 1
    printed = json.loads(r.stdout[: r.stdout.rindex("}") + 1])
    assert [f["状态"] for f in printed["files"]] == [SKIPPED, SKIPPED] and printed["villages"] == []
    assert "没有可以计入汇总的村级工作簿" in r.output
    assert not (tmp_path / "汇总.xlsx").exists()


def test_an_output_open_in_excel_is_refused_before_any_work(tmp_path):
    (tmp_path / "~$汇总.xlsx").write_bytes(b"\x06WPS")
    r = CliRunner().invoke(cli, ["township", "import", str(tmp_path / "没有这个文件夹"), "-o", str(tmp_path / "汇总.xlsx")])
    assert r.exit_code == 1
    assert "汇总工作簿「汇总.xlsx」正被 Excel 或 WPS 打开（同一文件夹里有锁定文件「~$汇总.xlsx」），工具没有写入。" in r.output
    r = CliRunner().invoke(cli, ["township", "import", str(tmp_path), "-o", str(tmp_path / "汇总.csv")])
    assert r.exit_code == 1 and "汇总工作簿「汇总.csv」必须保存为 .xlsx 文件（带按钮的为 .xlsm），请把输出文件名改为以 .xlsx 结尾。" in r.output


@needs_lo
def test_the_command_prints_json_and_exits_0_with_rejects(folder, imported, tmp_path):
    root, expected = folder
    r = CliRunner().invoke(cli, ["township", "import", str(root), "-o", str(tmp_path / "汇总.xlsx"), "--json",
                                 "--workers", "1"])
    assert r.exit_code == 0, r.output
    printed = json.loads(r.stdout)
    assert {f["文件"]: f["状态"] for f in printed["files"]} == expected
    assert all(set(f) >= {"文件", "状态", "原因", "发现"} for f in printed["files"])
    assert all(set(v) >= {"区县", "镇街", "村", "年度", *FIELDS} for v in printed["villages"])
    assert [v["村"] for v in printed["villages"]] == [v["村"] for v in imported[0].villages]


@needs_lo
def test_the_command_prints_a_summary_in_chinese(folder, tmp_path):
    root, _ = folder
    r = CliRunner().invoke(cli, ["township", "import", str(root), "-o", str(tmp_path / "汇总.xlsx")])
    assert r.exit_code == 0, r.output
    assert "共 10 个文件：已导入 3 个，已导入有警告 1 个，已拒绝 1 个，已跳过 4 个，重复 1 个。" in r.output
    assert "「龙泉村-2026.xlsx」的前 5 个问题：" in r.output
    assert "注意：「凤凰村-2026.xlsx」与「补报/凤凰村-2026(1).xlsx」都是" in r.output
    assert "正在读取" not in r.output  # no progress bar when standard error is not a terminal


def test_help_is_chinese():
    r = CliRunner().invoke(cli, ["township", "import", "--help"])
    assert r.exit_code == 0
    assert "导入文件夹" in r.output and "--workers" in r.output and "--year" in r.output
