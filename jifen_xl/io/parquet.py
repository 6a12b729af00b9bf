"""The consolidated tables as a Parquet dataset (``township import --parquet DIR``, issue 11), so a
city's or a province's platform loads them into its own engine instead of reading thousands of
workbooks; the district roll-up (``district.py``) queries the same dataset in DuckDB.

Layout (hive style, one folder per table, one file per village)::

    DIR/<table>/year=2026/district=西河区/township=中梁镇/village=石岗村/part-0.parquet
    DIR/files/year=2026/district=西河区/township=中梁镇/part-0.parquet

- Tables (``TABLES``): households, entries, objections, exchanges, receipts, stock, ledger,
  findings (a village's ``core.township.VillageExtract`` frames), villages (its 汇总概况 row), and
  files (every file ever imported, per township, with its status and reason; merged per file).
- Column names and partition keys are ASCII (the extract's field names; the 汇总概况 fields of
  ``schema.TOWNSHIP_SUMMARY``): SQL engines need no quoting. Partition *values* are the workbook's
  own 区县/镇街/村 (UTF-8); ``/ \\ = % : * ? " < > |`` and control characters in them are written
  as ``%XX`` (Hive's escaping, which Spark, Trino, DuckDB and pyarrow decode).
- ``year`` comes first: importing 2027 never touches 2026. The partition keys are not repeated
  inside the files (readers take them from the path).

Writing is streamed, atomic per village and idempotent: a village's files are written under
``DIR/.staging/`` as its extract arrives; ``ParquetExport.commit`` then swaps each kept village
into every table (the other villages stay as they are). After any sequence of imports the
dataset equals one import of the union of the newest good files (see ``ParquetExport``).
"""

from __future__ import annotations

import datetime as _dt
import shutil
import uuid
from dataclasses import dataclass, field
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
#: ``files``: one row per file ever imported into the dataset (merged across imports):
#: ``kept_previous`` (保留上次导入的数据) is true for a file not counted (已拒绝, or older than the
#: dataset's) whose village keeps the data of another file; ``imported_at``: when it was recorded.
FILE_COLUMNS = {"file": object, "village": object, "status": object, "reason": object, "errors": "int64",
                "warnings": "int64", "kept_previous": bool, "imported_at": object}
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


@dataclass
class Staged:
    """One village written to the staging folder as its extract arrived (``ParquetExport.add_village``).

    :param key: its folder below the import's staging folder.
    :param meta: the extract's meta (区县, 镇街, 村, 年度, ``file``, ``modified``).
    """

    key: str
    meta: dict


@dataclass
class Committed:
    """What ``ParquetExport.commit`` did.

    :param written: the villages whose partitions now hold this import's data (their meta).
    :param older: the files of this import whose village was *not* replaced, because the dataset
        already holds a newer file of it: file -> ``{"file", "modified"}`` of the one kept.
    """

    written: list[dict] = field(default_factory=list)
    older: dict[str, dict] = field(default_factory=dict)


def _counted(status) -> bool:
    return status in (S.FILE_IMPORTED, S.FILE_IMPORTED_WARNINGS)


class ParquetExport:
    """A Parquet dataset being written by one import.

    ``add_village`` writes each accepted village's tables to the staging folder the moment its
    extract arrives (the import need not hold every village's frames for the dataset);
    ``commit`` then swaps in the villages the import kept, one village at a time, and merges
    the import's files into the ``files`` table; ``discard`` forgets what was staged.

    The rule the commit keeps: *after any sequence of imports into the same folder, the dataset
    equals what one import of the union of the newest good files would give*:

    - a village is replaced only by a file at least as new (modification time; a tie: the later
      name) as the one its partition holds; an older file is recorded 重复;
    - a village whose file is rejected (or not counted for any reason) keeps its partition;
      its row in ``files`` says 已拒绝 and ``kept_previous`` = true (保留上次导入的数据);
    - ``files`` holds one row per file, merged across imports (the same file imported again
      replaces its row); a file whose village a newer file replaced becomes 重复.

    :param root: the dataset's folder (created when something is written). A folder that holds
        something else than a dataset is refused (``check_root``).
    """

    def __init__(self, root: str | Path):
        self.root = check_root(root)
        self.stage = self.root / STAGING / uuid.uuid4().hex
        self._villages: list[Path] = []  # the partitions replaced (for ``moved``)

    # -- staging ------------------------------------------------------------------------------

    def add_village(self, extract: VillageExtract, summary: dict) -> Staged:
        """Stage one accepted village's tables and its 汇总概况 row ``summary`` (keyed by the
        headers, as ``core.township.village_summary`` gives it); the frames can then be let go."""
        key = uuid.uuid4().hex[:16]
        for table, columns in VILLAGE_TABLES.items():
            self._write(self.stage / key / table, to_arrow(getattr(extract, table), columns))
        self._write(self.stage / key / "villages", to_arrow(_summary_frame(summary, extract.meta),
                                                             VILLAGE_SUMMARY_COLUMNS))
        return Staged(key, dict(extract.meta))

    def _write(self, folder: Path, table: pa.Table) -> None:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            pq.write_table(table, folder / PART, compression="zstd")
        except OSError as exc:
            self.discard()
            raise WriteFailed(f"无法写入 Parquet 数据集「{self.root}」（{exc.strerror or exc}），数据集没有改动。"
                              "请检查磁盘空间和写入权限。") from exc

    # -- the dataset as it is -----------------------------------------------------------------

    def current(self, meta: dict) -> dict | None:
        """The file the dataset's partition of ``meta``'s village comes from: ``{"file",
        "modified"}``, or None when the dataset does not hold that village."""
        path = self.root / "villages" / village_folder(meta) / PART
        if not path.is_file():
            return None
        rows = pq.read_table(path, columns=["file", "modified"]).to_pylist()
        return rows[0] if rows else {"file": None, "modified": None}

    # -- commit -------------------------------------------------------------------------------

    def commit(self, villages: list[Staged], files: list[dict], year: int | None) -> Committed:
        """Swap the import's kept villages into the dataset and merge its files into ``files``.

        :param villages: the staged villages the import kept (one per village).
        :param files: every file of the import: ``FileOutcome.record()`` dicts plus 区县 and
            镇街 of its village (None when it was not read).
        :param year: the import's year (the ``files`` partition); None: no file was read, so
            nothing is recorded.
        """
        done = Committed()
        now = _dt.datetime.now().isoformat(timespec="seconds")
        try:
            for s in villages:
                old = self.current(s.meta)
                if old is not None and (old.get("modified") or "", old.get("file") or "") > \
                        (s.meta.get("modified") or "", s.meta.get("file") or ""):
                    done.older[s.meta.get("file")] = old
                    continue
                self._swap(s)
                done.written.append(s.meta)
            if year is not None and files:
                self._merge_files(files, year, done, now)
        finally:
            self.discard()
        return done

    def _swap(self, s: Staged) -> None:
        """Replace one village's partitions in every table, the ``villages`` row last; on a
        failure the tables already swapped are put back (the village stays as it was)."""
        folder = village_folder(s.meta)
        swapped: list[tuple[Path, Path, Path | None]] = []
        try:
            for table in (*VILLAGE_TABLES, "villages"):
                src, dst = self.stage / s.key / table, self.root / table / folder
                aside = None
                dst.parent.mkdir(parents=True, exist_ok=True)
                if dst.exists():
                    aside = self.stage / s.key / ".old" / table
                    aside.parent.mkdir(parents=True, exist_ok=True)
                    dst.rename(aside)
                try:
                    src.rename(dst)
                except OSError:
                    if aside is not None:
                        aside.rename(dst)
                    raise
                swapped.append((src, dst, aside))
        except OSError as exc:
            for src, dst, aside in reversed(swapped):
                dst.rename(src)
                if aside is not None:
                    aside.rename(dst)
            raise WriteFailed(f"无法替换 Parquet 数据集「{self.root}」中「{s.meta.get(KEY_OF['village'])}」的数据"
                              f"（{exc.strerror or exc}），该村的数据保持原样。请检查磁盘空间和写入权限后重新导入。") from exc
        self._villages.append(folder)

    def _merge_files(self, files: list[dict], year: int, done: Committed, now: str) -> None:
        """The import's files merged into ``files``, one partition per township: rows of the
        same file replaced, the others kept; then each township's rows made consistent with
        the village partitions (a replaced file 重复, a rejected one ``kept_previous``)."""
        places = {(r.get(KEY_OF["district"]), r.get(KEY_OF["township"])) for r in files if r.get(KEY_OF["township"])}
        only = next(iter(places)) if len(places) == 1 else (None, None)
        groups: dict[Path, list[dict]] = {}
        for r in files:
            place = (r.get(KEY_OF["district"]), r.get(KEY_OF["township"])) if r.get(KEY_OF["township"]) else only
            meta = {KEY_OF["year"]: year, KEY_OF["district"]: place[0], KEY_OF["township"]: place[1]}
            row = {"file": r.get("文件"), "village": r.get("村"), "status": r.get("状态"), "reason": r.get("原因"),
                   "errors": r.get("错误数"), "warnings": r.get("警告数"), "kept_previous": False,
                   "imported_at": now}
            old = done.older.get(row["file"])
            if old is not None:
                row["status"], row["kept_previous"] = S.FILE_DUPLICATE, True
                row["reason"] = (f"Parquet 数据集中已有本村较新的「{old.get('file')}」（修改于 {old.get('modified')}），"
                                 "数据集保留较新的数据，本文件不计入数据集。")
            elif row["status"] == S.FILE_REJECTED and row["village"]:
                kept = self.current(meta | {KEY_OF["village"]: row["village"]})
                if kept is not None and kept.get("file") != row["file"]:
                    row["kept_previous"] = True
                    row["reason"] = f"{row['reason'] or ''}Parquet 数据集保留上次导入的「{kept.get('file')}」的数据。"
            groups.setdefault(township_folder(meta), []).append(row)
        written = {}
        for meta in done.written:
            written.setdefault(township_folder(meta | {KEY_OF["year"]: year}), {})[meta.get(KEY_OF["village"])] = meta
        for folder, rows in groups.items():
            new = pd.DataFrame(rows)
            path = self.root / "files" / folder / PART
            if path.is_file():
                old = pq.read_table(path).to_pandas()
                old = old[~old["file"].isin(new["file"])]
                merged = pd.concat([old, new], ignore_index=True) if len(old) else new
            else:
                merged = new
            for village, meta in written.get(folder, {}).items():
                stale = merged["village"].eq(village) & merged["status"].map(_counted) & merged["file"].ne(meta.get("file"))
                merged.loc[stale, "reason"] = (f"本村的数据已由较新的「{meta.get('file')}」（修改于 {meta.get('modified')}）"
                                               "替换，本文件不再计入 Parquet 数据集。")
                merged.loc[stale, "status"] = S.FILE_DUPLICATE
            staged = self.stage / "files" / folder
            self._write(staged, to_arrow(merged, FILE_COLUMNS))
            dst = self.root / "files" / folder
            dst.parent.mkdir(parents=True, exist_ok=True)
            aside = self.stage / ".old-files" / folder
            if dst.exists():
                aside.parent.mkdir(parents=True, exist_ok=True)
                dst.rename(aside)
            staged.rename(dst)

    def moved(self) -> list[Path]:
        """The village partition folders (below each table) replaced so far."""
        return list(self._villages)

    def discard(self) -> None:
        """Forget what was staged (what was not committed leaves the dataset as it was)."""
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
                    files: list[dict], year: int | None = None) -> Committed:
    """Write one township import into the dataset ``root`` in one call (``ParquetExport`` staged
    and committed): each accepted village's tables, then the files.

    :param extracts: the accepted villages; ``summaries`` their ``village_summary`` rows.
    :param files: every file of the import (``FileOutcome.record()`` dicts, with 区县 and 镇街).
    :param year: the import's year (default: the villages' year).
    """
    export = ParquetExport(root)
    try:
        staged = [export.add_village(e, s) for e, s in zip(extracts, summaries)]
    except BaseException:
        export.discard()
        raise
    if year is None:
        year = next((e.meta.get(KEY_OF["year"]) for e in extracts if e.meta.get(KEY_OF["year"]) is not None), None)
    return export.commit(staged, files, year)
