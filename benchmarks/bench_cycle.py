"""Time the monthly cycle on the village-year (1,000 households, 60,000 entries). Prints, never asserts.

On a scratch copy of the village-year (its January–November are 已确认 by hand, December is 公示中
by hand with no 公示记录, one objection to a December entry open):

* ``calamine``      the bare python-calamine read of the sheets the toolkit reads (the yardstick,
                    measured in the same run, best of 3)
* ``close MM``      ``app.close_book`` of each month January … November in turn: each one reads,
                    validates, writes 月度台账 through the month and seals it (封账记录 + 封账明细);
                    the times show whether a close grows with the months already sealed
* ``check``         ``app.check`` (read + clean + validate, E-SEAL rules included) with 11 sealed months
* ``validate``      ``app.validate_book`` end to end (writes 校验结果) with 11 sealed months
* ``verify``        ``app.verify_book`` of the 11-month chain
* ``ledger``        ``app.ledger_book`` with 11 sealed months (rewrites them unchanged, after comparing)
* ``publish 12``    ``app.publish_book`` of December (records the period of the 4,400 entries set to
                    公示中 by hand, fills the 公示 sheet of 1,000 households)

Each timed write works on its own copy where it must (publish, validate, ledger), so the chain the
later steps see is the one the closes built. The garbage collector is paused as the CLI pauses it.

    python benchmarks/bench_cycle.py
"""

from __future__ import annotations

import datetime as dt
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def _timed(func, runs: int = 1):
    best, out = None, None
    for _ in range(runs):
        t0 = time.perf_counter()
        out = func()
        took = time.perf_counter() - t0
        best = took if best is None else min(best, took)
    return best, out


def main() -> int:
    import make_data
    from bench_pipeline import step_calamine

    from jifen_xl import app

    source = make_data.village_year()
    scratch = Path(tempfile.mkdtemp(prefix="jifen-bench-cycle-"))
    rows: list[tuple[str, float]] = []
    try:
        book = Path(shutil.copy2(source, scratch / source.name))

        def copy(name: str) -> Path:
            (scratch / name).mkdir()
            return Path(shutil.copy2(book, scratch / name / book.name))

        with app.collector_paused():
            base, _ = _timed(lambda: step_calamine(book), runs=3)
            rows.append(("python-calamine bare read (yardstick)", base))
            for m in range(1, 12):
                day = dt.date(2026, m + 1, 10)
                took, closed = _timed(lambda: app.close_book(app.open_backend(book), month=f"2026-{m:02d}",
                                                             date=day, today=day))
                rows.append((f"close 2026-{m:02d} ({m - 1} months sealed before)", took))
            today = dt.date(2027, 1, 2)
            took, report = _timed(lambda: app.check(app.open_backend(book), today)[1])
            rows.append(("app.check with 11 sealed months", took))
            seal_findings = [p.rule for p in report.problems if "SEAL" in p.rule]
            target = copy("validate")
            took, _ = _timed(lambda: app.validate_book(app.open_backend(target), today=today))
            rows.append(("validate_book with 11 sealed months (writes 校验结果)", took))
            took, verified = _timed(lambda: app.verify_book(app.open_backend(book)))
            rows.append(("verify_book of the 11-month chain", took))
            target = copy("ledger")
            took, _ = _timed(lambda: app.ledger_book(app.open_backend(target), today=today))
            rows.append(("ledger_book with 11 sealed months", took))
            target = copy("publish")
            took, published = _timed(lambda: app.publish_book(app.open_backend(target), month="2026-12",
                                                              start=dt.date(2027, 1, 1), today=today))
            rows.append(("publish 2026-12 (4,400 entries, 公示 sheet of 1,000 households)", took))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"== monthly cycle on {source.name} ({source.stat().st_size / 1e6:.1f} MB) ==")
    for label, took in rows:
        print(f"{label:<64} {took:7.2f} s   {took / base:6.2f}x the bare read")
    print(f"chain intact: {verified.intact}; seal findings of check: {seal_findings or 'none'}; "
          f"publish recorded {published.entries} entries")
    return 0


if __name__ == "__main__":
    sys.exit(main())
