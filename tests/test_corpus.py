"""Every command that reads a workbook answers each real-world corpus file calmly.

The 133 files of the calamine reader's test suite (Excel, LibreOffice and other producers,
many reproducing reader bugs: password protection, truncation, allocation bombs) are walked
in one child process under a 3 GB address-space limit (``ulimit -v 3000000``), by every command
that reads a workbook. None of them is a village workbook, so each must get exit code 2 and one Chinese message naming the file,
with no traceback, in seconds, and nothing written.
"""

from __future__ import annotations

import hashlib
import json
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import CORPUS

ADDRESS_SPACE = 3_000_000 * 1024  # ulimit -v 3000000 (KiB)
PER_FILE_SECONDS = 10

CHILD = r"""
import json, sys, time
from pathlib import Path
from click.testing import CliRunner
from jifen_xl.cli import cli

out = []
for path in sorted(Path(sys.argv[1]).iterdir()):
    for argv in (["validate", "--dry-run"], ["validate", "--json"], ["ledger"], ["publish", "--month", "2026-03"],
                 ["close", "--month", "2026-03"], ["objections"], ["notice", "--month", "2026-03"], ["verify"],
                 ["card", "--household", "0001"], ["supervise"], ["rollover", "--to", sys.argv[2]], ["shop"],
                 ["shop-notice", "--month", "2026-03"], ["slip", "--exchange", "1"], ["funding"]):
        start = time.perf_counter()
        result = CliRunner().invoke(cli, [argv[0], str(path), *argv[1:]])
        out.append(dict(file=path.name, argv=argv, code=result.exit_code, output=result.output,
                        seconds=time.perf_counter() - start,
                        exception=None if result.exception is None or isinstance(result.exception, SystemExit)
                        else repr(result.exception)))
print(json.dumps(out, ensure_ascii=False))
"""


def _limit():
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def _digest(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory):
    if not CORPUS.is_dir():
        pytest.skip(f"corpus not found at {CORPUS}")
    work = tmp_path_factory.mktemp("corpus")
    for f in CORPUS.iterdir():
        shutil.copy(f, work / f.name)
    before = _digest(work)
    elsewhere = tmp_path_factory.mktemp("rollover") / "下一年.xlsx"  # never made: no corpus file is a village
    proc = subprocess.run([sys.executable, "-c", CHILD, str(work), str(elsewhere)], capture_output=True, text=True,
                          preexec_fn=_limit, timeout=1800, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout), before, _digest(work), work


def test_corpus_has_all_files(corpus_run):
    results, before, _, _ = corpus_run
    assert len(before) >= 133
    assert len({r["file"] for r in results}) == len(before)


def test_every_file_gets_one_chinese_message_and_exit_2(corpus_run):
    results, _, _, _ = corpus_run
    bad = []
    for r in results:
        first = r["output"].strip().splitlines()[0] if r["output"].strip() else ""
        ok = (r["code"] == 2 and r["exception"] is None and "Traceback" not in r["output"]
              and first.startswith(f"错误：文件「{r['file']}」") and any("\u4e00" <= ch <= "\u9fff" for ch in first))
        if not ok:
            bad.append((r["file"], r["argv"], r["code"], r["exception"], r["output"][:200]))
    assert bad == []


def test_every_file_answers_in_bounded_time(corpus_run):
    results, _, _, _ = corpus_run
    slow = [(r["file"], r["argv"], round(r["seconds"], 1)) for r in results if r["seconds"] > PER_FILE_SECONDS]
    assert slow == []


def test_nothing_is_written(corpus_run):
    _, before, after, work = corpus_run
    assert after == before
    assert not (work / "备份").exists()


def test_the_township_import_lists_every_corpus_file_as_skipped(corpus_run, tmp_path):
    """The whole corpus as a township's folder: nothing is a village workbook, so nothing is
    imported (exit 1), every file is listed 已跳过 with a Chinese reason, nothing is written into
    the folder and no township workbook is made."""
    _, before, _, work = corpus_run
    out = tmp_path / "汇总.xlsx"
    proc = subprocess.run([sys.executable, "-m", "jifen_xl", "township", "import", str(work), "-o", str(out),
                           "--json", "--workers", "2"], capture_output=True, text=True, preexec_fn=_limit,
                          timeout=900, check=False)
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert "Traceback" not in proc.stdout + proc.stderr
    files = json.loads(proc.stdout)["files"]
    assert sorted(f["文件"] for f in files) == sorted(before)
    odd = [f for f in files if f["状态"] != "已跳过" or not any("\u4e00" <= ch <= "\u9fff" for ch in f["原因"])]
    assert odd == []
    assert _digest(work) == before and not out.exists()


# -- files that make the Rust reader panic ---------------------------------------------
# python-calamine raises a Rust panic as pyo3_runtime.PanicException, a BaseException (not an
# Exception): it once escaped as a traceback with exit code 1 ("problems found"). These are corpus
# files with a few bytes changed (found by fuzzing the corpus): a damaged file, exit 2, one sentence.
PANICS = {
    # xl/workbook.bin of an .xlsb: "no entry found for key"
    "issue_419.xlsb": ("xl/workbook.bin", {139: 227, 128: 137, 9: 14, 93: 238, 81: 194, 108: 84}),
    # an .xls (merge-cell records): "range end index 2 out of range for slice of length 0"
    "issue_271.xls": (None, {3892: 188, 5133: 19, 6295: 226, 10345: 246, 11351: 191, 16076: 155, 16430: 19,
                             16739: 40, 21959: 87, 23640: 224, 25809: 230, 26453: 230, 34548: 241, 37414: 254,
                             37671: 98, 37866: 247}),
}


def _damaged_copy(name: str, dest: Path) -> Path:
    from .zipcraft import rewrite_members

    member, edits = PANICS[name]

    def edit(data: bytes) -> bytes:
        data = bytearray(data)
        for at, value in edits.items():
            data[at] = value
        return bytes(data)

    path = dest / name
    if member is None:
        path.write_bytes(edit((CORPUS / name).read_bytes()))
    else:
        rewrite_members(CORPUS / name, path, {member: edit})
    return path


@pytest.mark.parametrize("name", sorted(PANICS))
def test_a_panic_inside_the_reader_is_a_damaged_file(name, tmp_path):
    import os

    import python_calamine as pc

    if not CORPUS.is_dir():
        pytest.skip(f"corpus not found at {CORPUS}")
    path = _damaged_copy(name, tmp_path)
    with pytest.raises(BaseException) as caught:  # the premise: the reader really panics on it
        pc.CalamineWorkbook.from_path(str(path))
    assert not isinstance(caught.value, Exception) and type(caught.value).__name__ == "PanicException"
    root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
    for argv in (["validate", "--dry-run"], ["validate"], ["ledger"]):
        proc = subprocess.run([sys.executable, "-m", "jifen_xl", argv[0], str(path), *argv[1:]], env=env,
                              capture_output=True, text=True, timeout=60, check=False)
        out = (proc.stdout + proc.stderr).strip()
        assert proc.returncode == 2, out[-2000:]
        assert out == f"错误：文件「{name}」已损坏或格式无法识别，请用 Excel 或 WPS 打开后另存为 .xlsx 再试。", out[-2000:]
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # nothing written, no backup
