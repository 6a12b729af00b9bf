"""Benchmark workbooks, generated once and cached under ``benchmarks/.data/``.

* ``village_year()``: one village-year as the toolkit's own template writes it
  (``io.template.build_workbook``: Excel tables, dropdowns, formats): 1,000 households,
  60,000 entries. About 10 s to write the first time.
* ``village_year_lo()``: the same village-year opened and saved by LibreOffice headless, as a
  clerk's own spreadsheet program writes it (shared strings instead of inline strings, its own
  styles and attributes). About 10 s; needs ``soffice`` (skipped with a note without it).
* ``stress()``: 600,000 entries (10,000 households × 60; the catalogue's caps make 600
  entries for one household impossible). ``build_workbook`` keeps every cell in memory
  (≈ 90 s and several GB here), so this one is written by ``write_fast``: openpyxl's
  write_only mode, the same sheets and headers, no tables or dropdowns; the toolkit's reader
  does not need them.

Run ``python benchmarks/make_data.py`` to (re)build all three; ``--force`` rewrites the cache.
Prints, never asserts.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import sys
import time
from pathlib import Path

import pandas as pd

from jifen_xl import schema as S
from jifen_xl.demo import generate_village

DATA = Path(__file__).resolve().parent / ".data"
VILLAGE_YEAR = DATA / "village-year-1000hh-60k.xlsx"
VILLAGE_YEAR_LO = DATA / "village-year-1000hh-60k-libreoffice.xlsx"
STRESS = DATA / "stress-10000hh-600k.xlsx"
SEED = 2026


def _cell(value):
    """A value as openpyxl should store it: blanks as None, numpy scalars as Python, dates as dates."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if hasattr(value, "item"):  # numpy scalar
        return value.item()
    return value


def _column(df: pd.DataFrame, field: str, n: int) -> list:
    if field not in df.columns:
        return [None] * n
    s = df[field]
    if pd.api.types.is_datetime64_any_dtype(s):
        days = s.dt.date.astype(object)
        return [None if pd.isna(v) else v for v in days.where(s.notna(), None).tolist()]
    values = s.astype(object).where(s.notna(), None).tolist()
    return [_cell(v) for v in values]


def write_fast(path: Path, settings: dict, tables: dict[str, pd.DataFrame]) -> Path:
    """Write a village workbook with openpyxl's write_only mode (streamed rows, no tables).

    Same sheet names and header rows as the template, dates as date cells, codes as text,
    the toolkit-owned sheets with their header only (so ``validate``/``ledger`` can write).
    """
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    for spec in S.SHEETS:
        ws = wb.create_sheet(spec.name)
        ws.append(spec.headers)
        if spec.kv_rows:
            for kv in spec.kv_rows:
                ws.append([kv.header, settings.get(kv.field)])
            continue
        df = tables.get(spec.key)
        if df is None or not len(df):
            continue
        n = len(df)
        for row in zip(*[_column(df, f, n) for f in spec.fields]):
            ws.append(row)
    tmp = path.with_suffix(".tmp.xlsx")
    wb.save(tmp)
    os.replace(tmp, path)
    return path


def _report(label: str, path: Path, t_gen: float, t_write: float, how: str, n_entries: int) -> None:
    size = path.stat().st_size / 1e6
    print(f"{label}: {path.name}  {n_entries:,} entries  generate {t_gen:.1f} s  write {t_write:.1f} s ({how})"
          f"  {size:.1f} MB")


def _generated(path: Path, label: str, households: int, write, how: str, force: bool) -> Path:
    """``path`` (cached) holding a generated village of ``households`` × 60 entries, written by ``write``."""
    if path.exists() and not force:
        return path
    DATA.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    # January..November settled (as a workbook kept by hand): the ledger has eleven months to compute
    settings, tables = generate_village(households=households, seed=SEED, entries_per_household=60,
                                        settled_months=11)
    t1 = time.perf_counter()
    write(path, settings, tables)
    _report(label, path, t1 - t0, time.perf_counter() - t1, how, len(tables["entries"]))
    return path


def village_year(force: bool = False) -> Path:
    """The cached 1,000-household / 60,000-entry village-year, written by ``build_workbook``."""
    from jifen_xl.io.template import build_workbook

    def write(path, settings, tables):
        build_workbook(path, settings, tables, overwrite=True)

    return _generated(VILLAGE_YEAR, "village-year", 1000, write, "io.template.build_workbook", force)


def village_year_lo(force: bool = False) -> Path | None:
    """The village-year re-saved by LibreOffice headless (``None`` when soffice is missing)."""
    import shutil
    import subprocess
    import tempfile

    if VILLAGE_YEAR_LO.exists() and not force:
        return VILLAGE_YEAR_LO
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        print("village-year-lo: skipped (LibreOffice soffice not installed)")
        return None
    source = village_year()
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([soffice, f"-env:UserInstallation=file://{tmp}/profile", "--headless",
                        "--convert-to", "xlsx", "--outdir", f"{tmp}/out", str(source)],
                       check=True, capture_output=True, timeout=600)
        shutil.move(f"{tmp}/out/{source.name}", VILLAGE_YEAR_LO)
    _report("village-year-lo", VILLAGE_YEAR_LO, 0.0, time.perf_counter() - t0, "LibreOffice headless re-save", 60_000)
    return VILLAGE_YEAR_LO


def stress(force: bool = False) -> Path:
    """The cached 600,000-entry stress workbook (10,000 households × 60), written by ``write_fast``."""
    return _generated(STRESS, "stress", 10_000, write_fast, "openpyxl write_only (make_data.write_fast)", force)


#: The benchmark workbooks by name, in the order they are built and timed.
BUILDERS = {"village-year": village_year, "village-year-lo": village_year_lo, "stress": stress}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="rewrite the cached workbooks")
    parser.add_argument("which", nargs="*", help=f"any of {', '.join(BUILDERS)} (default: all)")
    args = parser.parse_args(argv)
    unknown = set(args.which) - set(BUILDERS)
    if unknown:
        parser.error(f"unknown workbook(s) {sorted(unknown)}; choose from {', '.join(BUILDERS)}")
    for which in args.which or list(BUILDERS):
        path = BUILDERS[which](force=args.force)
        if path is None:
            continue
        stamp = dt.datetime.fromtimestamp(path.stat().st_mtime)
        print(f"{which}: {path} ({path.stat().st_size / 1e6:.1f} MB, {stamp:%Y-%m-%d %H:%M})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
