"""``township import --parquet DIR`` (issue 11): the consolidated tables as a hive-partitioned
Parquet dataset a platform loads. Real workbooks on disk are imported; the dataset is read back
with pandas (pyarrow) and DuckDB, and checked against the villages' cells read by openpyxl
(``test_township_import.independent``) and against the import's own figures.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from jifen_xl.cli import cli
from jifen_xl.demo import generate_village
from jifen_xl.errors import WriteRefused
from jifen_xl.io.parquet import PART, TABLES, VILLAGE_TABLES, arrow_schema, escape
from jifen_xl.io.template import build_workbook
from jifen_xl.township import import_township

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
    import shutil

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
