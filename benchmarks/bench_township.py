"""Benchmark: the township import (issue 11) against reading the same files bare.

    python benchmarks/bench_township.py                                # a township-year: 30 villages × 60,000 entries
    python benchmarks/bench_township.py --villages 4 --entries 6000    # a quick run
    python benchmarks/bench_township.py --villages 100                 # a district-year

The villages are generated once (``generate_village``, distinct seeds, January–November settled
by hand as in ``make_data.py``, written by ``io.template.build_workbook``, two at a time) and
cached in ``benchmarks/.data/township-<N>v-<M>e/``; the first 30 × 60,000 run spends ≈ 5 min
there. Each step then runs in a fresh Python process, so its time and peak memory are its own:

* ``calamine`` (baseline 1): bare python-calamine read (``to_python``) of the sheets the
  toolkit reads, every file, one after the other in one process;
* ``openpyxl`` (baseline 2): ``pandas.read_excel(engine="openpyxl")`` of the same sheets, on the
  first ``--sample`` files only, scaled to all files (the output says so);
* ``import-wN``: ``township.import_township`` with ``workers=N``: collect, read, validate,
  extract, consolidate and write the township workbook (the write only once it is wired).

Peak memory: ``ru_maxrss`` of the step's process and of its largest child (the worker
processes: ``RUSAGE_CHILDREN``). Ratios are taken within the same run. Prints, never asserts.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

DATA = HERE / ".data"
SEED = 2026
TARGET_IMPORT_OVER_CALAMINE = 1.5
TARGET_OPENPYXL_OVER_IMPORT = 10.0


# -- data ------------------------------------------------------------------------------------------

def village_names(n: int) -> list[str]:
    from jifen_xl.demo.township import VILLAGE_NAMES

    return [VILLAGE_NAMES[i % len(VILLAGE_NAMES)] if i < len(VILLAGE_NAMES)
            else f"{VILLAGE_NAMES[i % len(VILLAGE_NAMES)][:-1]}{i // len(VILLAGE_NAMES) + 1}村" for i in range(n)]


def _make_one(args) -> str:
    folder, index, name, households, entries = args
    from jifen_xl.demo.township import village_seed
    from jifen_xl.demo import generate_village
    from jifen_xl.io.template import build_workbook

    settings, tables = generate_village(households=households, seed=village_seed(SEED, index), village=name,
                                        entries_per_household=entries / households, settled_months=11)
    path = Path(folder) / f"{name}-2026.xlsx"
    build_workbook(path, settings, tables)
    return path.name


def township_data(villages: int, entries: int, households: int) -> Path:
    """The cached folder of ``villages`` workbooks (generated when missing or incomplete)."""
    folder = DATA / f"township-{villages}v-{entries}e-{households}hh"
    done = folder / ".complete"
    if done.exists():
        return folder
    from concurrent.futures import ProcessPoolExecutor

    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.xlsx"):
        stale.unlink()
    start = time.perf_counter()
    print(f"generating {villages} villages × {entries:,} entries ({households} households) into {folder} ...",
          flush=True)
    jobs = [(str(folder), i, name, households, entries) for i, name in enumerate(village_names(villages))]
    with ProcessPoolExecutor(max_workers=2) as pool:
        for k, name in enumerate(pool.map(_make_one, jobs), start=1):
            print(f"  {k}/{villages} {name}", flush=True)
    done.write_text(time.strftime("%Y-%m-%d %H:%M:%S"))
    print(f"generated in {time.perf_counter() - start:.0f} s", flush=True)
    return folder


# -- the steps (each in its own process) -------------------------------------------------------------

def _input_sheet_names() -> list[str]:
    from jifen_xl import app
    from jifen_xl import schema as S

    return [S.SETTINGS.name] + [s.name for s in app.INPUT_SHEETS]


def _files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.xlsx"))


def step_calamine(folder: Path, args) -> dict:
    import python_calamine as pc

    names = _input_sheet_names()
    files = _files(folder)
    for path in files:
        book = pc.CalamineWorkbook.from_path(str(path))
        for name in names:
            book.get_sheet_by_name(name).to_python(skip_empty_area=False)
    return {"files": len(files)}


def step_openpyxl(folder: Path, args) -> dict:
    import pandas as pd

    names = _input_sheet_names()
    files = _files(folder)
    sample = files[: max(1, args.sample)]
    for path in sample:
        pd.read_excel(path, sheet_name=names, engine="openpyxl", dtype=object)
    return {"files": len(files), "sampled": len(sample)}


def step_import(folder: Path, args) -> dict:
    from jifen_xl.township import import_township

    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "乡镇汇总.xlsx"
        result = import_township(folder, out, workers=args.workers)
        written = result.out is not None and Path(result.out).exists()
    return {"files": len(result.files), "villages": len(result.villages), "counts": result.counts,
            "phases": {k: round(v, 3) for k, v in result.seconds.items()}, "written": written}


STEPS = {"calamine": step_calamine, "openpyxl": step_openpyxl, "import": step_import}


#: What each step imports before its clock starts (module loading is not reading).
WARM = {"calamine": ("python_calamine", "jifen_xl.app"), "openpyxl": ("pandas", "openpyxl", "jifen_xl.app"),
        "import": ("jifen_xl.township", "jifen_xl.io.xlsx", "jifen_xl.validate")}


def child(step: str, folder: Path, args) -> None:
    import importlib

    for module in WARM[step]:
        importlib.import_module(module)
    start = time.perf_counter()
    info = STEPS[step](folder, args)
    seconds = time.perf_counter() - start
    info.update(seconds=seconds,
                self_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                children_mb=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
    print("RESULT " + json.dumps(info, ensure_ascii=False))


def run(step: str, folder: Path, extra: list[str]) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", step, "--data", str(folder), *extra]
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT ")), None)
    if proc.returncode != 0 or line is None:
        raise SystemExit(f"step {step} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return json.loads(line[len("RESULT "):])


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--villages", type=int, default=30, help="villages in the township (default 30)")
    ap.add_argument("--entries", type=int, default=60_000, help="积分登记 rows per village (default 60,000)")
    ap.add_argument("--households", type=int, help="households per village (default entries / 60, at least 50)")
    ap.add_argument("--sample", type=int, default=2, help="files read by the openpyxl baseline, scaled to all (default 2)")
    ap.add_argument("--workers", type=int, default=2, help=argparse.SUPPRESS)
    ap.add_argument("--child", choices=sorted(STEPS), help=argparse.SUPPRESS)
    ap.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args.child, args.data, args)
        return
    households = args.households or max(50, args.entries // 60)
    folder = township_data(args.villages, args.entries, households)
    from importlib.metadata import version

    print(f"\nPython {platform.python_version()}, pandas {version('pandas')}, python-calamine "
          f"{version('python-calamine')}, openpyxl {version('openpyxl')}, {os.cpu_count()} CPUs")
    print(f"township: {args.villages} villages × {args.entries:,} entries ({households} households each), "
          f"{sum(p.stat().st_size for p in _files(folder)) / 1e6:.0f} MB of workbooks\n")
    results = {}
    for label, step, extra in (("calamine", "calamine", []), ("openpyxl", "openpyxl", ["--sample", str(args.sample)]),
                               ("import-w1", "import", ["--workers", "1"]), ("import-w2", "import", ["--workers", "2"])):
        r = run(step, folder, extra)
        if step == "openpyxl":
            r["measured"] = r["seconds"]
            r["seconds"] = r["seconds"] * r["files"] / r["sampled"]
        results[label] = r
        note = ""
        if step == "openpyxl":
            note = f"  (measured {r['measured']:.1f} s on {r['sampled']} of {r['files']} files, scaled)"
        if step == "import":
            note = (f"  phases {r['phases']}  {r['villages']} villages  "
                    f"{'workbook written' if r['written'] else 'workbook NOT written (write not wired)'}")
        print(f"{label:<10} {r['seconds']:8.2f} s   peak rss: process {r['self_mb']:6.0f} MB, "
              f"largest child {r['children_mb']:6.0f} MB{note}", flush=True)

    cal, opx = results["calamine"]["seconds"], results["openpyxl"]["seconds"]
    w1, w2 = results["import-w1"]["seconds"], results["import-w2"]["seconds"]
    print()
    for text, value, target, below in (
            ("import (2 workers) / calamine bare read", w2 / cal, TARGET_IMPORT_OVER_CALAMINE, True),
            ("import (1 worker) / calamine bare read", w1 / cal, None, True),
            ("openpyxl read / import (2 workers)", opx / w2, TARGET_OPENPYXL_OVER_IMPORT, False),
            ("import 1 worker / 2 workers (speed-up)", w1 / w2, None, False)):
        verdict = ""
        if target is not None:
            ok = value <= target if below else value >= target
            verdict = f"  target {'≤' if below else '≥'} {target}×: {'met' if ok else 'NOT met'}"
        print(f"{text:<42} {value:6.2f}×{verdict}")


if __name__ == "__main__":
    main()
