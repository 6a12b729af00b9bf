"""Peak memory and time of ``district import`` over a district-year (issue 11).

    PYTHONPATH=. python benchmarks/bench_district.py [--townships 4] [--villages 25] [--entries 60000]

The district (townships × villages workbooks of ``entries`` 积分登记 rows) is cached in
benchmarks/.data/. Generating 100 village-years of 60,000 entries takes about an hour on a busy
2-core machine, so ONE village-year is generated and copied, each copy renamed by rewriting the
place (镇街, 村) in 基本信息's cells: every file is read, validated, extracted and exported in
full, only the drawn entries repeat. The import runs in a child process; peak memory is
``ru_maxrss`` of that process and of its worker processes (RUSAGE_CHILDREN: the largest one).
Prints, never asserts.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"
TEMPLATE_VILLAGE, TEMPLATE_TOWNSHIP = "样板村", "样板镇"


def _rename(src: Path, dst: Path, township: str, village: str) -> None:
    """Copy a workbook, its 镇街 and 村 cells replaced (small parts only; the big sheets verbatim)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename.endswith(".xml") and len(data) < 200_000:  # 基本信息 is small; entries untouched
                text = data.decode("utf-8")
                text = text.replace(f"<t>{TEMPLATE_VILLAGE}</t>", f"<t>{village}</t>").replace(
                    f"<t>{TEMPLATE_TOWNSHIP}</t>", f"<t>{township}</t>")
                data = text.encode("utf-8")
            zout.writestr(info, data)


def district_data(townships: int, villages: int, entries: int) -> Path:
    root = DATA / f"district-{townships}t-{villages}v-{entries}e"
    if (root / ".complete").exists():
        return root / "tree"
    from jifen_xl.demo import generate_village
    from jifen_xl.io.template import build_workbook

    root.mkdir(parents=True, exist_ok=True)
    template = root / "template.xlsx"
    if not template.exists():
        households = max(50, entries // 60)
        print(f"generating one village-year of {entries:,} entries ...", flush=True)
        settings, tables = generate_village(households=households, seed=2026, village=TEMPLATE_VILLAGE,
                                            township=TEMPLATE_TOWNSHIP, entries_per_household=entries / households,
                                            settled_months=11)
        build_workbook(template, settings, tables)
    for t in range(townships):
        folder = root / "tree" / f"第{t + 1}镇"
        folder.mkdir(parents=True, exist_ok=True)
        for v in range(villages):
            _rename(template, folder / f"第{v + 1}村-2026.xlsx", f"第{t + 1}镇", f"第{v + 1}村")
    (root / ".complete").write_text(time.strftime("%Y-%m-%d %H:%M:%S"))
    return root / "tree"


def child(tree: Path, out: Path, workers: int) -> None:
    from jifen_xl.district import import_district

    start = time.perf_counter()
    result = import_district(tree, out / "区县汇总.xlsx", parquet=out / "dataset", workers=workers)
    wall = time.perf_counter() - start
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"villages": len(result.villages), "seconds": round(wall, 1),
                      "steps": {k: round(v, 1) for k, v in result.seconds.items()},
                      "peak_parent_mb": round(own), "peak_worker_mb": round(kids)}))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--townships", type=int, default=4)
    ap.add_argument("--villages", type=int, default=25, help="villages per township")
    ap.add_argument("--entries", type=int, default=60_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args.child, args.out, args.workers)
        return
    tree = district_data(args.townships, args.villages, args.entries)
    import tempfile

    with tempfile.TemporaryDirectory(prefix="bench-district-") as out:
        got = subprocess.run([sys.executable, __file__, "--child", str(tree), "--out", out,
                              "--workers", str(args.workers)], capture_output=True, text=True, check=True)
        size = sum(p.stat().st_size for p in (Path(out) / "dataset").rglob("*.parquet"))
    r = json.loads(got.stdout.strip().splitlines()[-1])
    n = args.townships * args.villages
    print(f"district: {args.townships} townships × {args.villages} villages = {n} village-years of "
          f"{args.entries:,} entries ({n * args.entries:,} entries), workers={args.workers}")
    print(f"  villages rolled up: {r['villages']}; wall {r['seconds']} s; steps {r['steps']}")
    print(f"  peak memory: parent {r['peak_parent_mb']} MB, largest worker {r['peak_worker_mb']} MB; "
          f"Parquet dataset {size / 1e6:.0f} MB")


if __name__ == "__main__":
    main()
