"""Benchmark: the township import (issue 11) against reading the same files bare.

    python benchmarks/bench_township.py                                # a township-year: 30 villages × 60,000 entries
    python benchmarks/bench_township.py --villages 4 --entries 6000    # a quick run
    python benchmarks/bench_township.py --villages 100                 # a district-year
    python benchmarks/bench_township.py --villages 10 --repeat 2 --phases   # rounds + one file phase by phase
    python benchmarks/bench_township.py --profile                      # cProfile of one file's read

The villages are generated once (``generate_village``, distinct seeds, January–November settled
by hand as in ``make_data.py``, written by ``io.template.build_workbook``, two at a time) and
cached in ``benchmarks/.data/township-<N>v-<M>e/``; the first 30 × 60,000 run spends ≈ 5 min
there. Each step then runs in a fresh Python process, so its time and peak memory are its own:

* ``calamine`` (baseline 1): bare python-calamine read (``to_python``) of the sheets the
  toolkit reads, every file, one after the other in one process;
* ``openpyxl`` (baseline 2): ``pandas.read_excel(engine="openpyxl")`` of the same sheets, on the
  first ``--sample`` files only, scaled to all files (the output says so); measured in every
  round, as the bare read is, so each ratio compares steps of the same few minutes;
* ``import-wN``: ``township.import_township`` with ``workers=N``: collect, read, validate,
  extract, consolidate and write the township workbook.

Peak memory: ``ru_maxrss`` of the step's process and of its largest child (the worker
processes: ``RUSAGE_CHILDREN``) in every timed run. The peak of parent + workers at once
(proportional set sizes sampled every 50 ms) is measured in a run of its own (``import-w2``
again, the line marked ``memory``), never in a timed one: the sampler reads
``/proc/PID/smaps_rollup`` of every process 20 times a second, which walks their page tables
and holds their memory-map locks; on two cores that observer cost 6-12 CPU-seconds of a
30-village import and slowed the workers it watched. Each step line gives the load average and
the CPU it used; ratios are taken within one round (``--repeat``). Prints, never asserts.
"""

from __future__ import annotations

import argparse
import contextlib
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
    partial = path.with_name(f".{path.stem}.partial.xlsx")
    build_workbook(partial, settings, tables)
    partial.replace(path)  # a run stopped midway leaves no half-written village behind
    return path.name


def township_data(villages: int, entries: int, households: int) -> Path:
    """The cached folder of ``villages`` workbooks (generated when missing or incomplete)."""
    folder = DATA / f"township-{villages}v-{entries}e-{households}hh"
    done = folder / ".complete"
    if done.exists():
        return folder
    from concurrent.futures import ProcessPoolExecutor

    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob(".*.partial.xlsx"):
        stale.unlink()
    start = time.perf_counter()
    # A village already there (an interrupted run) is kept: each file depends on its index only.
    jobs = [(str(folder), i, name, households, entries) for i, name in enumerate(village_names(villages))
            if not (folder / f"{name}-2026.xlsx").exists()]
    print(f"generating {len(jobs)} of {villages} villages × {entries:,} entries ({households} households) "
          f"into {folder} ...", flush=True)
    with ProcessPoolExecutor(max_workers=2) as pool:
        for k, name in enumerate(pool.map(_make_one, jobs), start=1):
            print(f"  {k}/{len(jobs)} {name}", flush=True)
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


def step_phases(folder: Path, args) -> dict:
    """One file, in this process, phase by phase (median of ``args.repeat`` runs, the same file
    each time): what the import spends per file against the bare calamine read of it."""
    import gc
    import pickle
    import statistics

    import python_calamine as pc

    from jifen_xl import app
    from jifen_xl.core.township import village_extract
    from jifen_xl.validate import validate

    path = _files(folder)[0]
    names = _input_sheet_names()
    runs: dict[str, list[float]] = {}
    size = 0
    for _ in range(max(1, args.repeat)):
        t0 = time.perf_counter()
        book = pc.CalamineWorkbook.from_path(str(path))
        for name in names:
            book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        del book
        gc.disable()
        t1 = time.perf_counter()
        loaded = app.load(app.open_backend(path, pieces=1))
        t2 = time.perf_counter()
        report = validate(loaded.village, loaded.read_problems)
        t3 = time.perf_counter()
        extract = village_extract(loaded.village, report)
        t4 = time.perf_counter()
        data = pickle.dumps(extract, protocol=pickle.HIGHEST_PROTOCOL)
        t5 = time.perf_counter()
        pickle.loads(data)
        t6 = time.perf_counter()
        gc.enable()
        size = len(data)
        for key, value in (("calamine", t1 - t0), ("load", t2 - t1), ("validate", t3 - t2),
                           ("extract", t4 - t3), ("pickle", t5 - t4), ("unpickle", t6 - t5)):
            runs.setdefault(key, []).append(value)
    return {"file": path.name, "runs": len(runs["load"]), "pickled_mb": round(size / 1e6, 2),
            "median": {k: round(statistics.median(v), 3) for k, v in runs.items()}}


def step_profile(folder: Path, args) -> dict:
    """cProfile of ``read_village_file`` on one file (worker mode: each sheet whole), top 30."""
    import cProfile
    import io
    import pstats

    from jifen_xl.township import read_village_file

    path = _files(folder)[0]
    read_village_file(path, path.name)  # warm: first-call costs are not the import's
    profile = cProfile.Profile()
    profile.enable()
    read_village_file(path, path.name)
    profile.disable()
    text = io.StringIO()
    pstats.Stats(profile, stream=text).sort_stats("cumulative").print_stats(30)
    print(text.getvalue(), file=sys.stderr)
    return {"file": path.name}


STEPS = {"phases": step_phases, "profile": step_profile, "calamine": step_calamine, "openpyxl": step_openpyxl, "import": step_import}


#: What each step imports before its clock starts (module loading is not reading).
WARM = {"phases": ("python_calamine", "jifen_xl.app", "jifen_xl.validate", "jifen_xl.core.township"),
        "profile": ("jifen_xl.township", "jifen_xl.io.xlsx", "jifen_xl.validate"),
        "calamine": ("python_calamine", "jifen_xl.app"), "openpyxl": ("pandas", "openpyxl", "jifen_xl.app"),
        "import": ("jifen_xl.township", "jifen_xl.io.xlsx", "jifen_xl.validate")}


class _TreeMemory:
    """Samples (every 50 ms, on a thread) the memory of this process plus all its descendants
    (the worker processes) and keeps the peak of that sum: what the import holds at once,
    parent and workers together (``ru_maxrss`` gives each process's own peak only). Each
    process counts its proportional set size (``Pss`` of ``/proc/PID/smaps_rollup``: pages the
    forked workers still share with the parent are split between them, not counted twice);
    its resident size where Pss cannot be read."""

    def __init__(self):
        import threading

        self.peak = 0
        self._page = os.sysconf("SC_PAGE_SIZE")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _own(self, pid: int) -> int:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        return int(line.split()[1]) * 1024
        except (OSError, ValueError, IndexError):
            pass
        try:
            with open(f"/proc/{pid}/statm") as f:
                return int(f.read().split()[1]) * self._page
        except (OSError, ValueError, IndexError):
            return 0

    def _rss(self, pid: int) -> int:
        total = self._own(pid)
        try:
            with open(f"/proc/{pid}/task/{pid}/children") as f:
                kids = [int(x) for x in f.read().split()]
        except (OSError, ValueError):
            return total
        return total + sum(self._rss(k) for k in kids)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._rss(os.getpid()))
            self._stop.wait(0.05)

    def __enter__(self):
        if Path("/proc/self/statm").exists():
            self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()


def child(step: str, folder: Path, args) -> None:
    import importlib

    for module in WARM[step]:
        importlib.import_module(module)
    load_before = os.getloadavg()[0]
    cpu = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    memory = _TreeMemory() if args.memory else None
    with memory or contextlib.nullcontext():
        start = time.perf_counter()
        info = STEPS[step](folder, args)
        seconds = time.perf_counter() - start
    mine, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    used = (mine.ru_utime + mine.ru_stime - cpu[0].ru_utime - cpu[0].ru_stime
            + kids.ru_utime + kids.ru_stime - cpu[1].ru_utime - cpu[1].ru_stime)
    info.update(seconds=seconds, cpu_seconds=used, self_mb=mine.ru_maxrss / 1024, children_mb=kids.ru_maxrss / 1024,
                tree_mb=memory.peak / 2**20 if memory else None, load=[load_before, os.getloadavg()[0]])
    print("RESULT " + json.dumps(info, ensure_ascii=False))


def run(step: str, folder: Path, extra: list[str]) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", step, "--data", str(folder), *extra]
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT ")), None)
    if proc.returncode != 0 or line is None:
        raise SystemExit(f"step {step} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    if step == "profile":
        print(proc.stderr)
    return json.loads(line[len("RESULT "):])


def _line(label: str, r: dict, note: str = "") -> str:
    return (f"{label:<10} {r['seconds']:8.2f} s  cpu {r['cpu_seconds'] / r['seconds']:4.2f} cores  "
            f"load {r['load'][0]:4.1f}→{r['load'][1]:4.1f}  peak rss: process {r['self_mb']:5.0f} MB, "
            f"largest child {r['children_mb']:5.0f} MB"
            + (f", all at once {r['tree_mb']:5.0f} MB (sampled)" if r.get("tree_mb") is not None else "") + note)


def _ratios(cal: float, w1: float, w2: float, opx: float | None) -> list[tuple[str, float, float | None, bool]]:
    out = [("import (2 workers) / calamine bare read", w2 / cal, TARGET_IMPORT_OVER_CALAMINE, True),
           ("import (1 worker) / calamine bare read", w1 / cal, None, True)]
    if opx is not None:
        out.append(("openpyxl read / import (2 workers)", opx / w2, TARGET_OPENPYXL_OVER_IMPORT, False))
    out.append(("import 1 worker / 2 workers (speed-up)", w1 / w2, None, False))
    return out


def _print_ratios(rows) -> None:
    for text, value, target, below in rows:
        verdict = ""
        if target is not None:
            ok = value <= target if below else value >= target
            verdict = f"  target {'≤' if below else '≥'} {target}×: {'met' if ok else 'NOT met'}"
        print(f"{text:<42} {value:6.2f}×{verdict}")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--villages", type=int, default=30, help="villages in the township (default 30)")
    ap.add_argument("--entries", type=int, default=60_000, help="积分登记 rows per village (default 60,000)")
    ap.add_argument("--households", type=int, help="households per village (default entries / 60, at least 50)")
    ap.add_argument("--sample", type=int, default=2,
                    help="files read by the openpyxl baseline, scaled to all (default 2; 0 = skip it)")
    ap.add_argument("--repeat", type=int, default=1,
                    help="rounds of calamine / import-w1 / import-w2, ratios per round (default 1)")
    ap.add_argument("--phases", action="store_true",
                    help="one file phase by phase in one process (median of --repeat, at least 3)")
    ap.add_argument("--profile", action="store_true", help="cProfile of read_village_file on one file, then stop")
    ap.add_argument("--workers", type=int, default=2, help=argparse.SUPPRESS)
    ap.add_argument("--memory", action="store_true", help=argparse.SUPPRESS)
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
          f"{version('python-calamine')}, openpyxl {version('openpyxl')}, {os.cpu_count()} CPUs, "
          f"{time.strftime('%Y-%m-%d %H:%M')}, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"township: {args.villages} villages × {args.entries:,} entries ({households} households each), "
          f"{sum(p.stat().st_size for p in _files(folder)) / 1e6:.0f} MB of workbooks\n")
    if args.profile:
        run("profile", folder, [])
        return
    if args.phases:
        r = run("phases", folder, ["--repeat", str(max(3, args.repeat))])
        m = r["median"]
        print(f"one file ({r['file']}), in one process, median of {r['runs']} runs, load "
              f"{r['load'][0]:.1f}→{r['load'][1]:.1f}:")
        for key, value in m.items():
            print(f"  {key:<9} {value:6.3f} s  {value / m['calamine']:5.2f}× the bare read")
        work = m["load"] + m["validate"] + m["extract"] + m["pickle"]
        print(f"  a worker's file: {work:.3f} s = {work / m['calamine']:.2f}× the bare read "
              f"(extract pickled: {r['pickled_mb']} MB)\n")
    rounds = []
    for k in range(max(1, args.repeat)):
        if args.repeat > 1:
            print(f"round {k + 1}:")
        got = {}
        # every baseline is measured in each round, beside the imports it is compared with: this
        # machine's speed drifts by ±20 % within minutes, so a baseline from another minute skews
        # the ratio by as much
        steps = [("calamine", "calamine", [])]
        if args.sample > 0:
            steps.append(("openpyxl", "openpyxl", ["--sample", str(args.sample)]))
        steps += [("import-w1", "import", ["--workers", "1"]), ("import-w2", "import", ["--workers", "2"])]
        for label, step, extra in steps:
            r = got[label] = run(step, folder, extra)
            note = ""
            if step == "import":
                note = (f"  phases {r['phases']}  {r['villages']} villages  "
                        f"{'workbook written' if r['written'] else 'workbook NOT written'}")
            if step == "openpyxl":
                r["scaled"] = r["seconds"] * r["files"] / r["sampled"]
                note = (f"  (measured on {r['sampled']} of {r['files']} files: {r['seconds']:.1f} s; "
                        f"scaled to all: {r['scaled']:.1f} s)")
            print(_line(label, r, note), flush=True)
        rounds.append(got)
        opx = got["openpyxl"]["scaled"] if "openpyxl" in got else None
        _print_ratios(_ratios(got["calamine"]["seconds"], got["import-w1"]["seconds"], got["import-w2"]["seconds"],
                              opx))
        cpu = {k: v["cpu_seconds"] for k, v in got.items()}
        print(f"{'CPU seconds (the work, whatever the load):':<42} calamine {cpu['calamine']:.1f} s, import "
              f"{cpu['import-w1']:.1f} s with 1 worker ({cpu['import-w1'] / cpu['calamine']:.2f}×), "
              f"{cpu['import-w2']:.1f} s with 2 ({cpu['import-w2'] / cpu['calamine']:.2f}×)")
        print()
    r = run("import", folder, ["--workers", "2", "--memory"])
    print(_line("memory", r, "  (import-w2 again, its memory sampled; not a timed run)"), flush=True)
    if len(rounds) > 1:
        import statistics

        print(f"median of {len(rounds)} rounds (each ratio taken within its round):")
        per_round = [_ratios(g["calamine"]["seconds"], g["import-w1"]["seconds"], g["import-w2"]["seconds"],
                             g["openpyxl"]["scaled"] if "openpyxl" in g else None) for g in rounds]
        _print_ratios([(row[0], statistics.median(r[i][1] for r in per_round), row[2], row[3])
                       for i, row in enumerate(per_round[0])])


if __name__ == "__main__":
    main()
