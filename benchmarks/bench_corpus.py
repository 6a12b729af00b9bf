"""Benchmark: every reading command over the calamine corpus, in one process.

    python benchmarks/bench_corpus.py                    # the corpus under shared/corpus/calamine-tests
    python benchmarks/bench_corpus.py DIR                # any folder of workbooks
    python benchmarks/bench_corpus.py --top 10           # the ten slowest runs

Each file (Excel, LibreOffice, WPS and other producers; password-protected, truncated and
allocation-bomb files among them) is copied to a scratch folder and run through
``validate --dry-run`` and ``ledger --dry-run`` with click's CliRunner, in this process (no
interpreter start-up in the times). Prints the slowest runs, the time per command, the exit
codes, and the peak resident memory (``ru_maxrss``) with the file during which it was reached.
Benchmarks print; they never assert.
"""

from __future__ import annotations

import argparse
import collections
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from click.testing import CliRunner  # noqa: E402

from jifen_xl.cli import cli  # noqa: E402

COMMANDS = (("validate", "--dry-run"), ("ledger", "--dry-run"))


def _corpus() -> Path:
    candidates = [Path(os.environ["JIFEN_SHARED"])] if os.environ.get("JIFEN_SHARED") else []
    here = Path(__file__).resolve().parents[1]
    candidates += [p / "shared" for p in here.parents] + [Path("/work/shared")]
    for c in candidates:
        if (c / "corpus" / "calamine-tests").is_dir():
            return c / "corpus" / "calamine-tests"
    raise SystemExit("corpus not found: pass a folder, or set JIFEN_SHARED")


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", nargs="?", type=Path, help="folder of workbooks (default: the calamine corpus)")
    ap.add_argument("--top", type=int, default=5, help="how many of the slowest runs to list")
    args = ap.parse_args(argv)
    folder = args.folder or _corpus()
    files = sorted(p for p in folder.iterdir() if p.is_file())
    runner = CliRunner()
    runs = []  # (seconds, file, command, exit code, first line of output)
    peak_at = ("(imports)", _rss_mb())
    with tempfile.TemporaryDirectory() as scratch:
        start_all = time.perf_counter()
        for src in files:
            path = Path(shutil.copyfile(src, Path(scratch) / src.name))
            for command in COMMANDS:
                start = time.perf_counter()
                result = runner.invoke(cli, [command[0], str(path), *command[1:]])
                seconds = time.perf_counter() - start
                first = (result.output.strip().splitlines() or [""])[0]
                if result.exception is not None and not isinstance(result.exception, SystemExit):
                    first = f"EXCEPTION {type(result.exception).__name__}: {result.exception}"
                runs.append((seconds, src.name, " ".join(command), result.exit_code, first))
                rss = _rss_mb()
                if rss > peak_at[1]:
                    peak_at = (f"{src.name} ({' '.join(command)})", rss)
            path.unlink()
        total = time.perf_counter() - start_all

    print(f"{len(files)} files x {len(COMMANDS)} commands = {len(runs)} runs in {total:.1f} s "
          f"(folder: {folder})")
    print(f"\nslowest {args.top}:")
    for seconds, name, command, code, first in sorted(runs, reverse=True)[: args.top]:
        print(f"  {seconds * 1000:8.1f} ms  exit {code}  {command:<19} {name}")
        print(f"             {first[:110]}")
    print("\nper command:")
    for command in COMMANDS:
        label = " ".join(command)
        times = sorted(r[0] for r in runs if r[2] == label)
        codes = collections.Counter(r[3] for r in runs if r[2] == label)
        print(f"  {label:<19} total {sum(times):6.2f} s  median {times[len(times) // 2] * 1000:6.1f} ms  "
              f"max {times[-1] * 1000:7.1f} ms  exit codes {dict(sorted(codes.items()))}")
    odd = [r for r in runs if r[4].startswith("EXCEPTION") or r[3] not in (0, 1, 2)]
    print(f"\nunexpected exceptions or exit codes: {len(odd)}")
    for seconds, name, command, code, first in odd:
        print(f"  {name} ({command}): exit {code} {first[:120]}")
    print(f"\npeak memory (ru_maxrss): {peak_at[1]:.0f} MB, first reached during {peak_at[0]}")


if __name__ == "__main__":
    main()
