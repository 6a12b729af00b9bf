"""The consolidated tables as a Parquet dataset (``township import --parquet DIR``, issue 11), so a
city's or a province's platform loads them into its own engine instead of reading thousands of
workbooks; the district roll-up (``district.py``) queries the same dataset in DuckDB.

Layout (hive style, one folder per table, one file per village)::

    DIR/<table>/year=2026/district=西河区/township=中梁镇/village=石岗村/part-0.parquet
    DIR/files/year=2026/district=西河区/township=中梁镇/part-0.parquet

- Tables (``TABLES``): households, entries, objections, exchanges, receipts, stock, ledger,
  findings (a village's ``core.township.VillageExtract`` frames), villages (its 汇总概况 row), and
  files (every file of one township import, with its status and reason).
- Column names and partition keys are ASCII (the extract's field names; the 汇总概况 fields of
  ``schema.TOWNSHIP_SUMMARY``): SQL engines need no quoting. Partition *values* are the workbook's
  own 区县/镇街/村 (UTF-8); ``/ \\ = % : * ? " < > |`` and control characters in them are written
  as ``%XX`` (Hive's escaping, which Spark, Trino, DuckDB and pyarrow decode).
- ``year`` comes first: importing 2027 never touches 2026. The partition keys are not repeated
  inside the files (readers take them from the path).

Writing is atomic per village and idempotent: a village's files are first written under
``DIR/.staging/``; ``commit`` then replaces that village's folder in every table (the same
village imported again replaces its partition, the other villages stay as they are).
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .. import schema as S
from ..core.township import (
    ENTRY_COLUMNS,
    EXCHANGE_COLUMNS,
    FINDING_COLUMNS,
    HOUSEHOLD_COLUMNS,
    LEDGER_COLUMNS,
    OBJECTION_COLUMNS,
    PLACE_KEYS,
    RECEIPT_COLUMNS,
    STOCK_COLUMNS,
    VillageExtract,
)
from ..errors import WriteFailed, WriteRefused

#: The partition keys, outermost first, and the 基本信息 keys they come from.
PARTITIONS = ("year", "district", "township", "village")
KEY_OF = dict(zip(("district", "township", "village", "year"), PLACE_KEYS))
#: The village tables and their columns (dtype as in ``core.township``).
VILLAGE_TABLES = {
    "households": HOUSEHOLD_COLUMNS, "entries": ENTRY_COLUMNS, "objections": OBJECTION_COLUMNS,
    "exchanges": EXCHANGE_COLUMNS, "receipts": RECEIPT_COLUMNS, "stock": STOCK_COLUMNS, "ledger": LEDGER_COLUMNS,
    "findings": FINDING_COLUMNS,
}
#: 汇总概况's fields in the ``villages`` table (place fields are the partition keys), plus the file.
SUMMARY_FIELDS = tuple(f for f in S.TOWNSHIP_SUMMARY.fields if f not in PARTITIONS)
_KIND = {S.TEXT: object, S.MONTH: object, S.INT: "int64"}
VILLAGE_SUMMARY_COLUMNS = {f: _KIND.get(S.TOWNSHIP_SUMMARY.column(f).type, "float64") for f in SUMMARY_FIELDS} | {"file": object, "modified": object}
FILE_COLUMNS = {"file": object, "village": object, "status": object, "reason": object, "errors": "int64",
                "warnings": "int64"}
TABLES = (*VILLAGE_TABLES, "villages", "files")
PART = "part-0.parquet"
STAGING = ".staging"
_UNSAFE = set('/\\=%:*?"<>|#') | {chr(c) for c in range(32)} | {"\x7f"}
#: The value of a partition whose 区县/镇街/村 is blank (Hive's own name for it).
BLANK = "__HIVE_DEFAULT_PARTITION__"


def escape(value) -> str:
    """A partition value as a folder name: ``%XX`` for characters a path or Hive cannot hold."""
    if value is None or (isinstance(value, float) and pd.isna(value)) or str(value).strip() == "":
        return BLANK
    text = str(value).strip()
    return "".join(f"%{ord(ch):02X}" if ch in _UNSAFE else ch for ch in text)


def _arrow_type(dtype) -> pa.DataType:
    if dtype is object:
        return pa.string()
    if dtype == "datetime64[ns]":
        return pa.timestamp("us")
    if dtype is bool:
        return pa.bool_()
    if dtype == "int64":
        return pa.int64()
    return pa.float64()


def arrow_schema(columns: dict) -> pa.Schema:
    """The Parquet schema of a table (stable even when a village has no rows)."""
    return pa.schema([(c, _arrow_type(t)) for c, t in columns.items()])


def to_arrow(frame: pd.DataFrame, columns: dict) -> pa.Table:
    """``frame``'s ``columns`` as an Arrow table of ``arrow_schema(columns)`` (text as text,
    whatever Python type a cell held; missing columns null)."""
    arrays = []
    for c, t in columns.items():
        typ = _arrow_type(t)
        s = frame[c] if c in frame.columns else pd.Series(None, index=frame.index, dtype=object)
        if t is object:
            s = s.astype("string")
        elif t == "datetime64[ns]":
            s = pd.to_datetime(s, errors="coerce").astype("datetime64[us]")
        elif t is bool:
            s = s.fillna(False).astype(bool)
        elif t == "int64":
            s = pd.to_numeric(s, errors="coerce").round().astype("Int64")
        else:
            s = pd.to_numeric(s, errors="coerce").astype("float64")
        arrays.append(pa.Array.from_pandas(s, type=typ))
    return pa.Table.from_arrays(arrays, schema=arrow_schema(columns))


def village_folder(meta: dict) -> Path:
    """A village's partition folder below a table: ``year=…/district=…/township=…/village=…``."""
    return Path(*[f"{k}={escape(meta.get(KEY_OF[k]))}" for k in PARTITIONS])


def township_folder(meta: dict) -> Path:
    """A township's partition folder below ``files``: ``year=…/district=…/township=…``."""
    return Path(*[f"{k}={escape(meta.get(KEY_OF[k]))}" for k in PARTITIONS[:-1]])


def _summary_frame(summary: dict, meta: dict) -> pd.DataFrame:
    """A ``village_summary`` (keyed by 汇总概况's headers) as one row of field names."""
    row = {f: summary.get(S.TOWNSHIP_SUMMARY.header_of(f)) for f in SUMMARY_FIELDS}
    row["file"], row["modified"] = meta.get("file"), meta.get("modified")
    return pd.DataFrame([row])


def check_root(root: str | Path) -> Path:
    """Refuse, before any work, a folder the dataset cannot go to: a file, or a folder holding
    something else than a dataset (so an officer's files are never mixed into it)."""
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise WriteRefused(f"「{root}」是一个文件，不是文件夹。请为 Parquet 数据集指定一个文件夹（可以不存在）。")
    if root.is_dir():
        strangers = sorted(p.name for p in root.iterdir() if p.name not in TABLES and p.name != STAGING)
        if strangers:
            raise WriteRefused(f"文件夹「{root}」里已有不属于 Parquet 数据集的内容（例如「{strangers[0]}」），"
                               "为避免混在一起，工具没有写入。请指定一个空文件夹或新的文件夹名。")
    return root


class ParquetExport:
    """A Parquet dataset being written: ``add_village`` per village as it arrives (written to
    the staging folder at once, so the frames can be let go), ``add_files`` once per township
    import, then ``commit`` (or ``discard``).

    :param root: the dataset's folder (created if missing). A folder that holds something else
        than a dataset (files outside the tables' folders) is refused, so a wrong path never
        mixes an officer's files with the dataset.
    """

    def __init__(self, root: str | Path):
        self.root = check_root(root)
        self.stage = self.root / STAGING / uuid.uuid4().hex
        self.villages: list[Path] = []
        self.townships: list[Path] = []
        try:
            self.stage.mkdir(parents=True)
        except OSError as exc:
            raise WriteFailed(f"无法在「{self.root}」建立 Parquet 数据集（{exc.strerror or exc}）。"
                              "请检查文件夹是否有写入权限、磁盘是否已满。") from exc

    def add_village(self, extract: VillageExtract, summary: dict) -> Path:
        """Stage one accepted village's tables (and its 汇总概况 row ``summary``)."""
        folder = village_folder(extract.meta)
        for table, columns in VILLAGE_TABLES.items():
            self._write(self.stage / table / folder, to_arrow(getattr(extract, table), columns))
        self._write(self.stage / "villages" / folder,
                    to_arrow(_summary_frame(summary, extract.meta), VILLAGE_SUMMARY_COLUMNS))
        self.villages.append(folder)
        return folder

    def add_files(self, records: list[dict], meta: dict) -> Path:
        """Stage the files of one township import (``FileOutcome.record()`` dicts) under the
        township of ``meta`` (区县, 镇街, 年度)."""
        frame = pd.DataFrame([{"file": r.get("文件"), "village": r.get("村"), "status": r.get("状态"),
                               "reason": r.get("原因"), "errors": r.get("错误数"), "warnings": r.get("警告数")}
                              for r in records])
        folder = township_folder(meta)
        self._write(self.stage / "files" / folder, to_arrow(frame, FILE_COLUMNS))
        self.townships.append(folder)
        return folder

    def _write(self, folder: Path, table: pa.Table) -> None:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            pq.write_table(table, folder / PART, compression="zstd")
        except OSError as exc:
            self.discard()
            raise WriteFailed(f"无法写入 Parquet 数据集「{self.root}」（{exc.strerror or exc}），已写入的部分没有改动。"
                              "请检查磁盘空间和写入权限。") from exc

    def commit(self) -> list[Path]:
        """Move every staged village (and township file list) into place, replacing the same
        partitions written before; returns the partition folders written."""
        moved = []
        for table in TABLES:
            folders = self.townships if table == "files" else self.villages
            for folder in dict.fromkeys(folders):
                src, dst = self.stage / table / folder, self.root / table / folder
                if not src.is_dir():
                    continue
                dst.parent.mkdir(parents=True, exist_ok=True)
                old = None
                if dst.exists():
                    old = dst.with_name(f".{dst.name}.old-{uuid.uuid4().hex[:8]}")
                    dst.rename(old)
                src.rename(dst)
                if old is not None:
                    shutil.rmtree(old, ignore_errors=True)
                moved.append(dst)
        self.discard()
        return moved

    def discard(self) -> None:
        """Forget what was staged (the dataset stays as it was)."""
        shutil.rmtree(self.stage, ignore_errors=True)
        staging = self.root / STAGING
        if staging.is_dir() and not any(staging.iterdir()):
            staging.rmdir()


def is_dataset(path: str | Path) -> bool:
    """Whether ``path`` is a folder holding a dataset written by ``ParquetExport``."""
    p = Path(path)
    return p.is_dir() and (p / "villages").is_dir() and any((p / "villages").rglob(PART))


def table_glob(root: str | Path, table: str) -> str:
    """The glob of a table's files (for ``read_parquet``)."""
    return str(Path(root) / table / "**" / "*.parquet")


def export_township(root: str | Path, extracts: list[VillageExtract], summaries: list[dict],
                    files: list[dict]) -> Path:
    """Write one township import into the dataset ``root``: each accepted village's tables (one
    village at a time), its files' statuses, then the partitions replaced at once.

    :param extracts: the accepted villages; ``summaries`` their ``village_summary`` rows.
    :param files: every file of the import (``FileOutcome.record()`` dicts).
    """
    export = ParquetExport(root)
    try:
        for extract, summary in zip(extracts, summaries):
            export.add_village(extract, summary)
        for meta in {township_folder(e.meta): e.meta for e in extracts}.values():
            export.add_files([r for r in files if _of_township(r, meta, extracts)], meta)
    except BaseException:
        export.discard()
        raise
    export.commit()
    return export.root


def _of_township(record: dict, meta: dict, extracts: list[VillageExtract]) -> bool:
    """Whether a file of the import belongs to ``meta``'s township: its village is there, or the
    import has one township only (a skipped file has no village)."""
    townships = {township_folder(e.meta) for e in extracts}
    if len(townships) == 1:
        return True
    villages = {e.meta.get(KEY_OF["village"]) for e in extracts if township_folder(e.meta) == township_folder(meta)}
    return record.get("村") in villages
