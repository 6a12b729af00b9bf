"""Benchmark: writing 月度台账 losslessly vs an openpyxl load+save of the same workbook.

    python benchmarks/bench_write.py                   # builds the workbooks in a temp folder
    python benchmarks/bench_write.py --workbook F.xlsx # times the write into your own workbook
    python benchmarks/bench_write.py --big-rows 0      # skip the 600,000-row workbook

It builds a village workbook whose 积分登记 has 60,000 rows (saved the way Excel saves:
shared strings, styled dates) and an empty 月度台账 table, then times

* ``write_owned`` of a 12,000-row x 11-column ledger (with and without the backup copy),
* ``write_owned(patches=...)`` setting 积分登记.状态 of one month's entries (5,000 of the
  60,000 rows, found by 登记编号) in the clerk's own sheet,
* ``openpyxl.load_workbook`` + ``save`` of the same file (the baseline, measured in this run),

and repeats the write into a workbook whose 积分登记 has 600,000 rows, to show the write
time does not grow with sheets it does not touch. Peak memory of one write is measured with
tracemalloc (Python allocations) in a separate, untimed run. Benchmarks print; they do not assert.
"""

from __future__ import annotations

import argparse
import gc
import resource
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
import warnings
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.table import Table, TableStyleInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jifen_xl import schema  # noqa: E402
from jifen_xl.io.base import ColumnPatch  # noqa: E402
from jifen_xl.io.xlsxwrite import write_owned  # noqa: E402

LEDGER_ROWS = 12_000
PATCHED_ROWS = 5_000
ENTRY_ROWS = 60_000
BIG_ROWS = 600_000


# --- building the workbooks ----------------------------------------------------

def _base_workbook(path: Path) -> None:
    """All schema sheets as Excel tables, one placeholder row each (openpyxl)."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for spec in schema.SHEETS:
        ws = wb.create_sheet(spec.name)
        ws.append(spec.headers)
        for i, col in enumerate(spec.columns, start=1):
            ws.column_dimensions[get_column_letter(i)].width = col.width
        table = Table(displayName=spec.table, ref=f"A1:{get_column_letter(len(spec.columns))}2")
        table.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
        ws.add_table(table)
        if spec.key == "entries":
            ws["B2"].number_format = "yyyy-mm-dd"  # cell style 1: the dates of the generated rows
    wb.save(path)


def _entries_xml(n: int) -> tuple[str, list[str]]:
    """积分登记 with ``n`` rows as Excel writes it: shared strings (t="s"), date serials."""
    headers = schema.ENTRIES.headers
    sst: list[str] = list(headers)
    index = {s: i for i, s in enumerate(sst)}

    def s(text: str) -> int:
        i = index.get(text)
        if i is None:
            i = index[text] = len(sst)
            sst.append(text)
        return i

    sources = [s(x) for x in schema.SOURCES]
    status = s(schema.ENTRY_CONFIRMED)
    names = [s(x) for x in ("赵六、钱七", "钱七", "赵六")]
    items = [s(x) for x in ("房前屋后干净整洁", "参加志愿服务", "乱倒垃圾")]
    codes = [s(x) for x in ("J01", "J02", "K01")]
    rows = ['<row r="1">' + "".join(f'<c r="{get_column_letter(i + 1)}1" t="s"><v>{i}</v></c>'
                                    for i in range(len(headers))) + "</row>"]
    for k in range(n):
        r = k + 2
        hh = 1 + k % 1000
        pick = k % 3
        rows.append(
            f'<row r="{r}">'
            f'<c r="A{r}" t="s"><v>{s(f"E{k + 1:07d}")}</v></c>'
            f'<c r="B{r}" s="1"><v>{45658 + k % 365}</v></c>'
            f'<c r="C{r}" t="s"><v>{s(str(hh))}</v></c>'
            f'<c r="D{r}" t="s"><v>{s(f"户主{hh}")}</v></c>'
            f'<c r="E{r}" t="s"><v>{codes[pick]}</v></c>'
            f'<c r="F{r}" t="s"><v>{items[pick]}</v></c>'
            f'<c r="G{r}"><v>1</v></c>'
            f'<c r="H{r}"><v>{(5, 3, -5)[pick]}</v></c>'
            f'<c r="I{r}" t="s"><v>{sources[k % 4]}</v></c>'
            f'<c r="J{r}" t="s"><v>{names[pick]}</v></c>'
            f'<c r="L{r}" t="s"><v>{status}</v></c>'
            "</row>")
    return "".join(rows), sst


def build_workbook(path: Path, entry_rows: int) -> Path:
    """A village workbook whose 积分登记 has ``entry_rows`` rows and whose 月度台账 is empty."""
    _base_workbook(path)
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        parts = {n: z.read(n) for n in names}
    wb_xml = parts["xl/workbook.xml"].decode()
    # openpyxl names sheets sheet1..N in tab order; 积分登记 is the 5th schema sheet.
    position = [s.key for s in schema.SHEETS].index("entries") + 1
    sheet_part = f"xl/worksheets/sheet{position}.xml"
    assert schema.ENTRIES.name in wb_xml
    body, sst = _entries_xml(entry_rows)
    xml = parts[sheet_part].decode()
    start, end = xml.index("<sheetData"), xml.index("</sheetData>") + len("</sheetData>")
    last = get_column_letter(len(schema.ENTRIES.columns))
    xml = xml[:start] + "<sheetData>" + body + "</sheetData>" + xml[end:]
    xml = xml.replace('<dimension ref="A1:M1" />', f'<dimension ref="A1:{last}{entry_rows + 1}"/>')
    parts[sheet_part] = xml.encode()
    for n, data in parts.items():
        if n.startswith("xl/tables/") and b'name="tblEntries"' in data:
            parts[n] = data.replace(f'ref="A1:{last}2"'.encode(), f'ref="A1:{last}{entry_rows + 1}"'.encode())
    esc = [t.replace("&", "&amp;").replace("<", "&lt;") for t in sst]
    parts["xl/sharedStrings.xml"] = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" uniqueCount="{len(sst)}">'
        + "".join(f"<si><t>{t}</t></si>" for t in esc) + "</sst>").encode()
    ct = parts["[Content_Types].xml"].decode().replace(
        "</Types>", '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                    'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
    parts["[Content_Types].xml"] = ct.encode()
    rels = parts["xl/_rels/workbook.xml.rels"].decode().replace(
        "</Relationships>", '<Relationship Id="rIdSst" Type="http://schemas.openxmlformats.org/officeDocument/'
                            '2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>')
    parts["xl/_rels/workbook.xml.rels"] = rels.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as z:
        for n in names + ["xl/sharedStrings.xml"]:
            z.writestr(n, parts[n])
    return path


def ledger_frame(n: int = LEDGER_ROWS) -> pd.DataFrame:
    households = 1000
    months = [f"2025-{m:02d}" for m in range(1, 13)]
    rows = []
    for i in range(n):
        hh = i % households
        rows.append((months[(i // households) % 12], str(101 + hh), f"户主{hh}", 5.0 * (hh % 7), 2.0 * (hh % 3),
                     -1.0 * (hh % 5), 5.0 * (hh % 7) + 2.0 * (hh % 3) - (hh % 5), 100.0 + hh, 10.0, 90.0 + hh,
                     1 + hh))
    return pd.DataFrame(rows, columns=schema.LEDGER.fields)


# --- timing -------------------------------------------------------------------

def _time(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def _fmt(ts: list[float]) -> str:
    return f"median {statistics.median(ts) * 1000:8.1f} ms  (min {min(ts) * 1000:.1f}, n={len(ts)})"


def time_write(src: Path, work: Path, frame: pd.DataFrame, repeat: int) -> dict[str, list[float]]:
    target = work / src.name
    results = {}
    for label, backup in (("write_owned, with backup", True), ("write_owned, backup=False", False)):
        def run():
            write_owned(target, {"ledger": frame}, backup=backup)

        times = []
        for _ in range(repeat):
            shutil.copyfile(src, target)
            shutil.rmtree(work / "备份", ignore_errors=True)
            times += _time(run, 1)
        results[label] = times
    return results


def month_patch(n: int = PATCHED_ROWS) -> list[ColumnPatch]:
    """积分登记.状态 of ``n`` entries (a month of a busy village) set to 已撤销, by 登记编号."""
    return [ColumnPatch("entries", "status", {f"E{k + 1:07d}": schema.ENTRY_WITHDRAWN for k in range(0, 2 * n, 2)})]


def time_patch(src: Path, work: Path, repeat: int) -> list[float]:
    target = work / ("patch-" + src.name)
    patches = month_patch()
    times = []
    for _ in range(repeat):
        shutil.copyfile(src, target)
        times += _time(lambda: write_owned(target, patches=patches, backup=False), 1)
    return times


def peak_memory(src: Path, work: Path, frame: pd.DataFrame) -> int:
    target = work / src.name
    shutil.copyfile(src, target)
    tracemalloc.start()
    write_owned(target, {"ledger": frame}, backup=False)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def time_openpyxl(src: Path, work: Path) -> list[float]:
    target = work / ("openpyxl-" + src.name)

    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wb = openpyxl.load_workbook(src)
            wb.save(target)

    return _time(run, 1)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workbook", type=Path, help="time the write into this workbook instead of building one")
    ap.add_argument("--entry-rows", type=int, default=ENTRY_ROWS)
    ap.add_argument("--big-rows", type=int, default=BIG_ROWS, help="0 skips the big workbook")
    ap.add_argument("--ledger-rows", type=int, default=LEDGER_ROWS)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)

    frame = ledger_frame(args.ledger_rows)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "work").mkdir()
        t0 = time.perf_counter()
        if args.workbook:
            small = tmp / args.workbook.name
            shutil.copyfile(args.workbook, small)
        else:
            small = build_workbook(tmp / "village-60k.xlsx", args.entry_rows)
        print(f"workbook: {small.name}, {small.stat().st_size / 1e6:.1f} MB "
              f"(built/copied in {time.perf_counter() - t0:.1f} s)")
        print(f"ledger: {len(frame):,} rows x {len(frame.columns)} columns\n")

        res = time_write(small, tmp / "work", frame, args.repeat)
        for label, ts in res.items():
            print(f"  {label:28s} {_fmt(ts)}")
        again = tmp / "work" / ("again-" + small.name)
        shutil.copyfile(small, again)
        write_owned(again, {"ledger": frame}, backup=False)
        ts = _time(lambda: write_owned(again, {"ledger": frame}, backup=False), args.repeat)
        print(f"  {'rewrite over a full ledger':28s} {_fmt(ts)}  (backup=False; old rows parsed and replaced)")
        patch = None if args.workbook else time_patch(small, tmp / "work", args.repeat)  # (its 登记编号 are ours)
        if patch:
            print(f"  {'patch 积分登记.状态':{28 - 6}s} {_fmt(patch)}  ({PATCHED_ROWS:,} cells by 登记编号, backup=False)")
        base = time_openpyxl(small, tmp / "work")
        print(f"  {'openpyxl load+save':28s} {_fmt(base)}")
        ratio = statistics.median(base) / statistics.median(res["write_owned, with backup"])
        print(f"  -> write_owned is {ratio:.0f}x faster than openpyxl load+save "
              f"(and keeps what openpyxl drops)")
        if patch:
            ratio = statistics.median(base) / statistics.median(patch)
            print(f"  -> patching 积分登记 (the 60,000-row sheet itself) is {ratio:.0f}x faster than openpyxl load+save")
        print(f"  peak Python memory of one write_owned: {peak_memory(small, tmp / 'work', frame) / 1e6:.1f} MB")

        if args.big_rows and not args.workbook:
            t0 = time.perf_counter()
            big = build_workbook(tmp / "village-600k.xlsx", args.big_rows)
            print(f"\nworkbook: {big.name}, 积分登记 {args.big_rows:,} rows, {big.stat().st_size / 1e6:.1f} MB "
                  f"(built in {time.perf_counter() - t0:.1f} s)")
            res_big = time_write(big, tmp / "work", frame, args.repeat)
            for label, ts in res_big.items():
                print(f"  {label:28s} {_fmt(ts)}")
            growth = statistics.median(res_big["write_owned, backup=False"]) / statistics.median(
                res["write_owned, backup=False"])
            print(f"  -> {args.big_rows // max(args.entry_rows, 1)}x more untouched rows: write time x{growth:.2f} "
                  "(backup=False); the backup is a plain file copy")
            print(f"  peak Python memory of one write_owned: {peak_memory(big, tmp / 'work', frame) / 1e6:.1f} MB")
        maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(f"\nprocess max RSS (includes building the workbooks and openpyxl): {maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
