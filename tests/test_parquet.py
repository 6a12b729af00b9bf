"""``township import --parquet DIR`` (issue 11): the consolidated tables as a hive-partitioned
Parquet dataset a platform loads. Real workbooks on disk are imported; the dataset is read back
with pandas (pyarrow) and DuckDB, and checked against the villages' cells read by openpyxl
(``test_township_import.independent``) and against the import's own figures.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from jifen_xl.cli import cli
from jifen_xl.demo import generate_village
from jifen_xl.demo.township import generate_township
from jifen_xl.district import import_district
from jifen_xl.errors import WriteRefused
from jifen_xl.io.parquet import PART, TABLES, VILLAGE_TABLES, arrow_schema, escape
from jifen_xl.io.template import build_workbook
from jifen_xl.township import NothingImported, import_township

from .conftest import TODAY
from .test_township_import import _close, independent

TOWN, DISTRICT = "中梁镇", "沙坪坝区"
#: The villages, one of them with a character a folder name cannot hold.
VILLAGES = {"石岗村": 31, "新/村": 32}


def _make(root: Path, names, seed0: int = 40) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(names):
        settings, tables = generate_village(households=20, seed=seed0 + i, village=name, township=TOWN,
                                            district=DISTRICT, settled_months=11)
        build_workbook(root / f"{name.replace('/', '')}-2026.xlsx", settings, tables)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    base = tmp_path_factory.mktemp("parquet")
    root = base / "各村"
    _make(root, VILLAGES)
    (root / "坏文件.xlsx").write_bytes(b"PK\x03\x04 not really a zip")
    data = base / "数据集"
    result = import_township(root, base / "汇总.xlsx", workers=1, today=TODAY, parquet=data)
    return root, data, result


def _read(data: Path, table: str) -> pd.DataFrame:
    frame = pd.read_parquet(data / table)
    for c in ("district", "township", "village"):
        if c in frame.columns:
            frame[c] = frame[c].astype(str)
    return frame


def test_layout_one_folder_per_table_and_village(exported):
    _, data, result = exported
    assert result.parquet == data
    assert sorted(p.name for p in data.iterdir()) == sorted(TABLES)
    base = Path("year=2026", f"district={DISTRICT}", f"township={TOWN}")
    for table in VILLAGE_TABLES:
        found = sorted(p.relative_to(data / table) for p in (data / table).rglob("*.parquet"))
        assert found == sorted(base / f"village={escape(v)}" / PART for v in VILLAGES), table
    assert escape("新/村") == "新%2F村"
    assert [p.relative_to(data / "files") for p in (data / "files").rglob("*.parquet")] == [base / PART]
    # the partition keys are not repeated inside the files; the columns are ASCII
    for path in data.rglob("*.parquet"):
        names = pq.read_schema(path).names
        assert not {"year", "district", "township"} & set(names) and all(n.isascii() for n in names)


def test_figures_equal_the_cells(exported):
    root, data, result = exported
    entries, households = _read(data, "entries"), _read(data, "households")
    exchanges, objections = _read(data, "exchanges"), _read(data, "objections")
    for name in VILLAGES:
        want = independent(root / f"{name.replace('/', '')}-2026.xlsx")
        e = entries[entries["village"].eq(name) & entries["counted"]]
        hh = households[households["village"].eq(name) & households["status"].eq("正常")]
        got = {"户数": hh["hh_id"].nunique(), "参与户数": e.loc[e["hh_id"].isin(hh["hh_id"]), "hh_id"].nunique(),
               "加分合计": e.loc[e["kind"].ne("扣分项目"), "points"].sum(),
               "扣分合计": e.loc[e["kind"].eq("扣分项目"), "points"].sum(), "积分合计": e["points"].sum(),
               "异议数": int(objections["village"].eq(name).sum()),
               "兑换积分": exchanges.loc[exchanges["village"].eq(name), "points"].sum()}
        assert _close(got, want), name
    summary = _read(data, "villages").set_index("village")
    for v in result.villages:
        assert summary.loc[v["村"], "total"] == pytest.approx(v["积分合计"])
        assert summary.loc[v["村"], "households"] == v["户数"]
    files = _read(data, "files").set_index("file")
    assert files.loc["坏文件.xlsx", "status"] == "已跳过"
    assert set(files["status"]) == {"已导入", "已跳过"}


def test_duckdb_reads_the_same(exported):
    _, data, _ = exported
    glob = str(data / "entries" / "**" / "*.parquet")
    got = duckdb.sql(f"SELECT village, sum(points) AS p, count(*) AS n FROM read_parquet('{glob}', "
                     "hive_partitioning = true) WHERE counted GROUP BY village ORDER BY village").df()
    e = _read(data, "entries")
    want = e[e["counted"]].groupby("village")["points"].agg(["sum", "size"]).sort_index()
    assert got["village"].tolist() == want.index.tolist()
    assert got["p"].tolist() == pytest.approx(want["sum"].tolist())
    assert got["n"].tolist() == want["size"].tolist()


def test_types_are_stable_when_a_village_has_no_rows(exported):
    _, data, _ = exported
    for table, columns in VILLAGE_TABLES.items():
        want = arrow_schema(columns)
        for path in (data / table).rglob("*.parquet"):
            assert pq.read_schema(path).remove_metadata().equals(want), (table, path)


def test_reimport_replaces_the_village_and_keeps_the_others(exported, tmp_path):
    root, data, _ = exported
    copy = tmp_path / "数据集"
    shutil.copytree(data, copy)
    before = _read(copy, "entries")
    again = tmp_path / "补报"
    again.mkdir()
    shutil.copy2(root / "石岗村-2026.xlsx", again / "石岗村-2026（补报）.xlsx")
    os.utime(again / "石岗村-2026（补报）.xlsx")
    import_township(again, None, workers=1, today=TODAY, parquet=copy)
    after = _read(copy, "entries")
    assert len(after) == len(before)  # the same village replaced, not added twice
    assert sorted(after["village"].unique()) == sorted(VILLAGES)
    summary = _read(copy, "villages").set_index("village")
    assert summary.loc["石岗村", "file"] == "石岗村-2026（补报）.xlsx"
    assert summary.loc["新/村", "file"] == "新村-2026.xlsx"
    assert not (copy / ".staging").exists()


def test_a_folder_with_other_files_is_refused_before_the_work(exported, tmp_path):
    root, _, _ = exported
    (tmp_path / "别的.txt").write_text("x", encoding="utf-8")
    out = tmp_path / "汇总.xlsx"
    with pytest.raises(WriteRefused, match="不属于 Parquet 数据集"):
        import_township(root, out, workers=1, today=TODAY, parquet=tmp_path)
    assert not out.exists()
    with pytest.raises(WriteRefused, match="不是文件夹"):
        import_township(root, None, workers=1, today=TODAY, parquet=tmp_path / "别的.txt")


def test_cli_writes_the_dataset(exported, tmp_path):
    root, _, _ = exported
    res = CliRunner().invoke(cli, ["township", "import", str(root), "-o", str(tmp_path / "汇总.xlsx"),
                                   "--workers", "1", "--parquet", str(tmp_path / "pq")])
    assert res.exit_code == 0, res.output
    assert "已写入 Parquet 数据集" in res.output
    assert len(list((tmp_path / "pq" / "entries").rglob(PART))) == len(VILLAGES)


# --- the dataset's life cycle: a sequence of imports equals one import of the newest good files ------

LIFE_T0 = 1_780_000_000  # a fixed modification time (2026-05-28), so "newer" is explicit in the test


def _one(folder: Path, name: str, village: str, seed: int, when: int, *, mistakes: bool = False) -> Path:
    """One village's workbook named ``name`` in ``folder``, modified at ``when``."""
    scratch = folder / f".gen-{seed}"
    made = generate_township(scratch, district=DISTRICT, township=TOWN, villages=[village], households=14,
                             seed=seed, settled_months=11, mistakes_in=village if mistakes else None)[0].path
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    made.rename(path)
    scratch.rmdir()
    os.utime(path, (when, when))
    return path


def _copy(src: Path, folder: Path, name: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy2(src, folder / (name or src.name)))


def _table(root: Path, table: str) -> pd.DataFrame:
    """A table of the dataset, read by pandas (pyarrow), in a canonical row order."""
    frame = _read(root, table)
    frame = frame[sorted(frame.columns)]
    keys = [c for c in frame.columns if frame[c].dtype != bool]
    return frame.sort_values(keys, kind="stable", na_position="first").reset_index(drop=True)


def _duck(root: Path, table: str) -> pd.DataFrame:
    glob = str(root / table / "**" / "*.parquet")
    return duckdb.sql(f"SELECT * FROM read_parquet('{glob}', hive_partitioning = true, union_by_name = true) "
                      "ORDER BY ALL").df()


@pytest.fixture(scope="module")
def life(tmp_path_factory):
    """Three imports into one dataset — a township, a 补报 folder (one new village, one corrected),
    a folder whose 石岗村 file is rejected (with a re-sent 凤凰村 and an older 龙泉村) — and one
    import of the newest good files into another."""
    base = tmp_path_factory.mktemp("life")
    first, late, third, union = base / "第一批", base / "补报", base / "第三批", base / "最新"
    a = _one(first, "石岗村.xlsx", "石岗村", 71, LIFE_T0)
    b = _one(first, "龙泉村.xlsx", "龙泉村", 72, LIFE_T0)
    c = _one(first, "凤凰村.xlsx", "凤凰村", 73, LIFE_T0)
    b2 = _one(late, "龙泉村（补报）.xlsx", "龙泉村", 82, LIFE_T0 + 100)
    d = _one(late, "桂花村.xlsx", "桂花村", 84, LIFE_T0 + 100)
    bad = _one(third, "石岗村（更正）.xlsx", "石岗村", 91, LIFE_T0 + 200, mistakes=True)
    _copy(c, third)
    old_b = _copy(b, third, "龙泉村（旧）.xlsx")
    os.utime(old_b, (LIFE_T0 - 100, LIFE_T0 - 100))
    for f in (a, b2, c, d):
        _copy(f, union)
    data, ref = base / "数据集", base / "参照"
    results = [import_township(folder, None, workers=1, today=TODAY, parquet=data) for folder in (first, late, third)]
    single = import_township(union, None, workers=1, today=TODAY, parquet=ref)
    return {"data": data, "ref": ref, "results": results, "single": single, "bad": bad, "base": base}


def test_the_sequence_equals_one_import_of_the_newest_good_files(life):
    data, ref = life["data"], life["ref"]
    status = {f.file: f.status for f in life["results"][2].files}
    assert status["石岗村（更正）.xlsx"] == "已拒绝"  # it has planted errors
    for table in (*VILLAGE_TABLES, "villages"):
        got, want = _table(data, table), _table(ref, table)
        assert got.shape == want.shape and (len(got) or table == "findings"), table
        pd.testing.assert_frame_equal(got, want, check_dtype=False, obj=table)
        pd.testing.assert_frame_equal(_duck(data, table), _duck(ref, table), check_dtype=False, obj=table)
    villages = _table(data, "villages").set_index("village")
    assert villages["file"].to_dict() == {"石岗村": "石岗村.xlsx", "龙泉村": "龙泉村（补报）.xlsx",
                                          "凤凰村": "凤凰村.xlsx", "桂花村": "桂花村.xlsx"}
    # DuckDB and pandas read the same figures
    e = _read(data, "entries")
    sums = e[e["counted"]].groupby("village")["points"].sum()
    glob = str(data / "entries" / "**" / "*.parquet")
    duck = duckdb.sql(f"SELECT village, sum(points) AS p FROM read_parquet('{glob}', hive_partitioning = true) "
                      "WHERE counted GROUP BY village").df().set_index("village")["p"]
    assert duck.sort_index().tolist() == pytest.approx(sums.sort_index().tolist())
    assert {v["村"]: v["积分合计"] for v in life["single"].villages} == pytest.approx(sums.to_dict())
    assert not (data / ".staging").exists()


def test_the_files_table_holds_every_file_merged(life):
    files = _read(life["data"], "files").set_index("file")
    counted = {"已导入", "已导入有警告"}
    assert set(files.index) == {"石岗村.xlsx", "龙泉村.xlsx", "凤凰村.xlsx", "龙泉村（补报）.xlsx", "桂花村.xlsx",
                                "石岗村（更正）.xlsx", "龙泉村（旧）.xlsx"}
    for f in ("石岗村.xlsx", "凤凰村.xlsx", "龙泉村（补报）.xlsx", "桂花村.xlsx"):
        assert files.loc[f, "status"] in counted and not files.loc[f, "kept_previous"], f
    bad = files.loc["石岗村（更正）.xlsx"]
    assert bad["status"] == "已拒绝" and bad["kept_previous"]
    assert "保留上次导入的「石岗村.xlsx」" in bad["reason"] and "个错误" in bad["reason"]
    replaced = files.loc["龙泉村.xlsx"]
    assert replaced["status"] == "重复" and not replaced["kept_previous"]
    assert "龙泉村（补报）.xlsx" in replaced["reason"]
    older = files.loc["龙泉村（旧）.xlsx"]
    assert older["status"] == "重复" and older["kept_previous"] and "龙泉村（补报）.xlsx" in older["reason"]
    assert any("龙泉村（旧）.xlsx" in w and "较新" in w for w in life["results"][2].warnings)
    # one partition per township, written once per import, never replaced wholesale
    assert len(list((life["data"] / "files").rglob(PART))) == 1
    assert files["imported_at"].notna().all()


def test_a_folder_of_rejected_files_only_is_recorded_and_changes_no_village(life, tmp_path):
    copy = tmp_path / "数据集"
    shutil.copytree(life["data"], copy)
    before = _table(copy, "entries")
    folder = tmp_path / "又一批"
    _copy(life["bad"], folder, "石岗村（再报）.xlsx")
    with pytest.raises(NothingImported):
        import_township(folder, None, workers=1, today=TODAY, parquet=copy)
    pd.testing.assert_frame_equal(_table(copy, "entries"), before)
    files = _read(copy, "files").set_index("file")
    assert files.loc["石岗村（再报）.xlsx", "status"] == "已拒绝"
    assert files.loc["石岗村（再报）.xlsx", "kept_previous"]
    assert len(files) == 8  # the earlier files' rows are kept


def test_the_district_roll_up_of_the_dataset_equals_the_single_import(life, tmp_path):
    seq = import_district(life["data"], tmp_path / "区1.xlsx", workers=1)
    ref = import_district(life["ref"], tmp_path / "区2.xlsx", workers=1)
    assert seq.villages == ref.villages and seq.townships == ref.townships
    single = {v["村"]: v for v in life["single"].villages}
    assert {v["村"]: v for v in seq.villages} == single


def test_each_village_is_written_as_it_arrives(exported, tmp_path):
    """Streamed: when a file has been read, its village's tables are already on disk (staged),
    and the dataset is swapped in only at the end."""
    root, _, whole = exported
    data = tmp_path / "数据集"
    seen = []

    def progress(done, total, name):
        staged = sorted(p.parent.parent.name for p in (data / ".staging").rglob(f"entries/{PART}"))
        seen.append((name, len(staged), (data / "entries").exists()))

    result = import_township(root, None, workers=1, today=TODAY, parquet=data, progress=progress)
    read = [f.file for f in result.files if f.status in ("已导入", "已导入有警告")]
    assert [n for n, _, _ in seen if n in read] == read
    counts = [k for n, k, _ in seen if n in read]
    assert counts == list(range(1, len(read) + 1))  # one more village staged per file read
    assert not any(live for _, _, live in seen)  # nothing swapped in while reading
    assert len(list((data / "entries").rglob(PART))) == len(read) and not (data / ".staging").exists()
    # a district's batch (no workbook, no report) keeps only the small aggregates of each village
    assert all(e.entries.empty and e.aggregates()["monthly"].shape[0] > 0 for e in result.extracts)
    assert result.villages == whole.villages  # the figures, taken before the frames were let go
