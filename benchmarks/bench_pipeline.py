"""Time the toolkit's pipeline on the village-year and the stress workbook. Prints, never asserts.

Steps (each in a fresh Python process, so that peak memory belongs to that step alone):

* ``calamine``   baseline 1: bare python-calamine read of the sheets the toolkit reads
* ``openpyxl``   baseline 2: ``pandas.read_excel(engine="openpyxl")`` of those sheets, then the
                 same pipeline as the toolkit (``clean_frame`` per sheet + ``validate``)
* ``check``      ``app.check``: read + clean + validate, nothing written
* ``validate``   ``app.validate_book``: the same and writing 校验结果 (on a scratch copy)
* ``ledger``     ``app.ledger_book``: check + compute + writing 月度台账 (on a scratch copy)

The steps that run the toolkit (all but ``calamine``) pause the garbage collector for the whole
step, as the CLI's commands do (the library leaves it alone: pausing it is the driver's choice).

Times are ``time.perf_counter`` wall seconds, best of 3 for steps under ``--best-of-3-below``
seconds (else one run). Peak memory: ``ru_maxrss`` of the step's process (imports included;
``rss at start`` shows what the imports alone take) and the ``tracemalloc`` peak of one extra
run (Python and numpy allocations; calamine's Rust heap is not traced).

    python benchmarks/bench_pipeline.py                 # both workbooks (built on first use)
    python benchmarks/bench_pipeline.py village-year    # one of them
    python benchmarks/bench_pipeline.py --profile       # cProfile of app.check on the village-year
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

STEPS = ("calamine", "openpyxl", "check", "validate", "ledger")
LABELS = {
    "calamine": "python-calamine bare read (baseline 1)",
    "openpyxl": "pandas.read_excel(openpyxl) + same pipeline (baseline 2)",
    "check": "app.check (read + clean + validate)",
    "validate": "app.validate_book end to end (writes 校验结果)",
    "ledger": "app.ledger_book end to end (writes 月度台账)",
}
TARGET_CHECK_OVER_CALAMINE = 2.0
TARGET_OPENPYXL_OVER_CHECK = 10.0


# -- the steps (run inside the child process) ------------------------------------------
def _input_sheet_names() -> list[str]:
    from jifen_xl import app
    from jifen_xl import schema as S

    return [S.SETTINGS.name] + [s.name for s in app.INPUT_SHEETS]


def step_calamine(path: Path) -> None:
    import python_calamine as pc

    book = pc.CalamineWorkbook.from_path(str(path))
    for name in _input_sheet_names():
        book.get_sheet_by_name(name).to_python(skip_empty_area=False)


class PandasOpenpyxlBackend:
    """A read-only workbook backend over ``pandas.read_excel(engine="openpyxl")``: one call for all
    the sheets the toolkit reads, header on the first row (as the toolkit's template writes it).
    Plugged into ``app.load`` so that everything after reading is the toolkit's own pipeline."""

    def __init__(self, path: Path):
        import pandas as pd

        self.label = path.name
        self._frames = pd.read_excel(path, sheet_name=_input_sheet_names(), engine="openpyxl", dtype=object)
        self.sheet_names = list(self._frames)

    def has_sheet(self, spec) -> bool:
        return spec.name in self._frames

    def check_writable(self) -> None:  # pragma: no cover - read-only baseline
        raise NotImplementedError

    def read_table(self, spec):
        from jifen_xl.core.clean import ROW
        from jifen_xl.io.base import RawTable
        from jifen_xl.io.xlsx import col_letter, norm_header

        raw = self._frames[spec.name]
        index = {norm_header(h): i for i, h in enumerate(raw.columns)}
        fields = {c.field: index[norm_header(c.header)] for c in spec.columns if norm_header(c.header) in index}
        frame = raw.iloc[:, list(fields.values())].astype(object)
        frame.columns = list(fields)
        frame[ROW] = range(2, 2 + len(frame))
        return RawTable(spec, spec.name, 1, frame, {f: col_letter(i) for f, i in fields.items()})

    capabilities = frozenset()  # read only: check_writable refuses, nothing is planned or applied


def driven(step):
    """A step that runs the toolkit, run as its drivers run it: the CLI's commands pause Python's
    garbage collector for the whole command (``app.collector_paused``; the library does not)."""

    @functools.wraps(step)
    def run(path: Path):
        from jifen_xl import app

        with app.collector_paused():
            return step(path)

    return run


@driven
def step_openpyxl(path: Path):
    """The toolkit's pipeline (``app.load`` + ``validate``) with pandas + openpyxl as the reader."""
    from jifen_xl import app
    from jifen_xl.validate import validate

    loaded = app.load(PandasOpenpyxlBackend(path))
    return validate(loaded.village, loaded.read_problems)


@driven
def step_check(path: Path):
    from jifen_xl import app

    return app.check(app.open_backend(path))[1]


@driven
def step_validate(path: Path):
    from jifen_xl import app

    return app.validate_book(app.open_backend(path)).report


@driven
def step_ledger(path: Path):
    from jifen_xl import app

    return app.ledger_book(app.open_backend(path)).ledger


WRITES = {"validate", "ledger"}


def _child(step: str, path: Path, best_of_3_below: float, trace: bool) -> dict:
    """Run one step repeatedly in this process; return times and memory as a dict."""
    import jifen_xl.app  # noqa: F401 - imports are not part of the timings
    import pandas  # noqa: F401

    rss_start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    func = globals()[f"step_{step}"]
    scratch = Path(tempfile.mkdtemp(prefix="jifen-bench-"))

    def target() -> Path:
        if step not in WRITES:
            return path
        # A fresh copy per run: a write changes the workbook and leaves a backup beside it.
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir()
        return Path(shutil.copy2(path, scratch / path.name))

    times = []
    try:
        while True:
            p = target()
            t0 = time.perf_counter()
            func(p)
            times.append(time.perf_counter() - t0)
            if len(times) >= 3 or times[0] >= best_of_3_below:
                break
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        peak = None
        if trace:
            p = target()
            tracemalloc.start()
            func(p)
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return {"step": step, "times": times, "rss_start_kb": rss_start, "rss_kb": rss, "tracemalloc_peak": peak}


# -- the parent ------------------------------------------------------------------------
def run_step(step: str, path: Path, best_of_3_below: float, trace: bool) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", step, str(path),
           "--best-of-3-below", str(best_of_3_below)] + ([] if trace else ["--no-tracemalloc"])
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        return {"step": step, "error": (done.stderr or done.stdout).strip().splitlines()[-1:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def _pad(text: str, width: int) -> str:
    import unicodedata

    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(0, width - used)


def _mb(kb_or_bytes: float | None, unit: str = "kb") -> str:
    if kb_or_bytes is None:
        return "-"
    return f"{kb_or_bytes / (1024 if unit == 'kb' else 1024 * 1024):,.0f} MB"


def bench(label: str, path: Path, best_of_3_below: float, trace: bool) -> dict[str, float]:
    size = path.stat().st_size / 1e6
    print(f"\n== {label}: {path.name} ({size:.1f} MB) ==")
    print(f"{'step':<58} {'best s':>8} {'runs':>5} {'peak RSS':>10} {'rss at start':>13} {'tracemalloc':>12}")
    best: dict[str, float] = {}
    for step in STEPS:
        r = run_step(step, path, best_of_3_below, trace)
        if "error" in r:
            print(f"{_pad(LABELS[step], 58)} FAILED: {' '.join(r['error'])}")
            continue
        best[step] = min(r["times"])
        runs = ", ".join(f"{t:.2f}" for t in r["times"])
        print(f"{_pad(LABELS[step], 58)} {best[step]:>8.2f} {len(r['times']):>5} {_mb(r['rss_kb']):>10} "
              f"{_mb(r['rss_start_kb']):>13} {_mb(r['tracemalloc_peak'], 'b'):>12}   [{runs}]")
    ratios = (  # (numerator, denominator, label, target, smaller is better)
        ("check", "calamine", "app.check / calamine bare read", TARGET_CHECK_OVER_CALAMINE, True),
        ("validate", "calamine", "validate_book / calamine bare read", TARGET_CHECK_OVER_CALAMINE, True),
        ("openpyxl", "check", "pandas-openpyxl / app.check", TARGET_OPENPYXL_OVER_CHECK, False),
        ("openpyxl", "validate", "pandas-openpyxl / validate_book", TARGET_OPENPYXL_OVER_CHECK, False),
    )
    for num, den, label, target, at_most in ratios:
        if num in best and den in best:
            ratio = best[num] / best[den]
            met = ratio <= target if at_most else ratio >= target
            print(f"ratio {label:<36}= {ratio:6.2f}x  (target {'<=' if at_most else '>='} {target:g}x)"
                  f"  {'met' if met else 'NOT met'}")
    return best


def phases(path: Path) -> None:
    """Where ``app.check`` spends its time: reading (calamine + frames), cleaning, validating."""
    from jifen_xl import app
    from jifen_xl import schema as S
    from jifen_xl.validate import validate

    def best(func, n=3):
        times = []
        for _ in range(n):
            t0 = time.perf_counter()
            out = func()
            times.append(time.perf_counter() - t0)
            if times[0] > 20:
                break
        return min(times), out

    def read_all():
        backend = app.open_backend(path)
        return [backend.read_table(spec) for spec in (S.SETTINGS,) + app.INPUT_SHEETS]

    with app.collector_paused():  # as the CLI runs it
        t_read, _ = best(read_all)
        t_load, loaded = best(lambda: app.load(app.open_backend(path)))
        t_val, _ = best(lambda: validate(loaded.village, loaded.read_problems))
    print(f"\n== phases of app.check on {path.name} (best of 3) ==")
    print(f"read  (XlsxFile.read_table, calamine + raw frames) {t_read:7.2f} s")
    print(f"clean (app.load − read: clean_frame, settings)     {t_load - t_read:7.2f} s")
    print(f"validate (validate.validate)                       {t_val:7.2f} s")


def profile(path: Path, top: int = 20) -> None:
    """cProfile of ``app.check`` on ``path``: the ``top`` functions by cumulative time."""
    import cProfile
    import pstats

    from jifen_xl import app

    with app.collector_paused():  # as the CLI runs it
        app.check(app.open_backend(path))  # warm up imports and caches
        prof = cProfile.Profile()
        prof.enable()
        app.check(app.open_backend(path))
        prof.disable()
    print(f"\n== cProfile of app.check on {path.name}: top {top} by cumulative time ==")
    pstats.Stats(prof, stream=sys.stdout).strip_dirs().sort_stats("cumulative").print_stats(top)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Time the jifen-xl pipeline (prints, never asserts).")
    parser.add_argument("which", nargs="*", help="village-year, village-year-lo and/or stress (default: all)")
    parser.add_argument("--profile", action="store_true",
                        help="only profile app.check on the village-year (phases + cProfile top 20)")
    parser.add_argument("--best-of-3-below", type=float, default=20.0, metavar="SECONDS",
                        help="repeat a step 3 times when one run takes less than this (default 20)")
    parser.add_argument("--no-tracemalloc", action="store_true", help="skip the extra tracemalloc run")
    parser.add_argument("--child", nargs=2, metavar=("STEP", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        step, path = args.child
        print(json.dumps(_child(step, Path(path), args.best_of_3_below, not args.no_tracemalloc)))
        return 0

    import make_data

    if args.profile:
        phases(make_data.village_year())
        profile(make_data.village_year())
        return 0
    unknown = set(args.which) - set(make_data.BUILDERS)
    if unknown:
        parser.error(f"unknown workbook(s) {sorted(unknown)}; choose from {', '.join(make_data.BUILDERS)}")
    import platform
    from importlib.metadata import version

    print(f"Python {platform.python_version()}, pandas {version('pandas')}, python-calamine "
          f"{version('python-calamine')}, openpyxl {version('openpyxl')}, {os.cpu_count()} CPUs, "
          f"{platform.platform()}")
    for which in args.which or list(make_data.BUILDERS):
        path = make_data.BUILDERS[which]()
        if path is not None:
            bench(which, path, args.best_of_3_below, not args.no_tracemalloc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
