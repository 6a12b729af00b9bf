"""Crash-safe writes: whatever moment the process dies at, the clerk's workbook is exactly as
before or exactly the new version, and the backup is whole.

``jifen-xl validate BOOK`` (writes 校验结果) and ``jifen-xl ledger BOOK`` (writes 月度台账) run in a
child process that is killed with SIGKILL at 30 moments spread over the write. No test hook in
the product: the write's duration is measured on uninterrupted runs (from the moment the 备份
folder appears to the end of the process); each kill then waits for the 备份 folder to appear
and for an offset from 0 to 1.3 times that duration (plus a few kills before anything is
written and one well after). The workbook carries a 30 MB photo so that copying it (backup,
temporary file, fsync) takes long enough to be hit. Writes are deterministic except the
backup's name, so "the new version" is the bytes of one uninterrupted run on a copy.

Then the failures a clerk meets: a folder nobody may write (``chattr +i``), a full disk (a 2 MB
tmpfs), each with a Chinese message, the workbook unchanged and no temporary file left.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import python_calamine as pc
from click.testing import CliRunner

from jifen_xl.cli import cli
from jifen_xl.io.xlsxwrite import BACKUP_DIR_NAME

from .conftest import build
from .zipcraft import member, rewrite_members

KILLS = {"validate": 15, "ledger": 15}  # 30 kill points in all
RERUNS = 3  # per command: the next write after a kill that left something behind
PHOTO_BYTES = 30_000_000


def _child(command: str, book: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "jifen_xl", command, str(book)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _complete(command: str, book: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "jifen_xl", command, str(book)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def fresh(src: Path, folder: Path) -> Path:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return Path(shutil.copyfile(src, folder / "永宁寺村.xlsx"))


def leftovers(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.name.endswith(".jifen-tmp"))


def backups(folder: Path) -> list[Path]:
    return sorted((folder / BACKUP_DIR_NAME).glob("*.xlsx")) if (folder / BACKUP_DIR_NAME).is_dir() else []


@pytest.fixture(scope="module")
def heavy(tmp_path_factory) -> Path:
    """A village workbook carrying a 30 MB photo (copied raw by every write)."""
    path = build(tmp_path_factory.mktemp("heavy") / "永宁寺村.xlsx")
    photo = member("xl/media/image99.jpeg", os.urandom(PHOTO_BYTES), stored=True)
    return rewrite_members(path, path, {}, extra=[photo])


def measure(command: str, src: Path, folder: Path) -> tuple[float, float, bytes]:
    """(seconds until the 备份 folder appears, seconds until the process ends, resulting bytes)."""
    book = fresh(src, folder)
    start = time.perf_counter()
    proc = _child(command, book)
    seen = None
    while proc.poll() is None:
        if seen is None and (folder / BACKUP_DIR_NAME).exists():
            seen = time.perf_counter() - start
        time.sleep(0.0005)
    end = time.perf_counter() - start
    assert proc.returncode == 0
    assert seen is not None
    return seen, end, book.read_bytes()


@pytest.mark.parametrize("command", list(KILLS))
def test_sigkill_at_any_moment_leaves_old_or_new(heavy, tmp_path, command):
    original = heavy.read_bytes()
    backup_at, end, completed = measure(command, heavy, tmp_path / "calibrate")
    backup_at2, end2, completed2 = measure(command, heavy, tmp_path / "calibrate")
    assert completed == completed2 != original  # deterministic apart from the backup's name
    window = max(end - backup_at, end2 - backup_at2)
    n = KILLS[command]
    # A few kills before anything is written, then kills at offsets after the 备份 folder
    # appears (the write has begun), spread over the write's measured duration and a little past
    # it: anchoring on what the file system shows keeps the spread on the write even when this
    # run is slower or faster than the calibration.
    early = [min(backup_at, backup_at2) * f for f in (0.5, 0.75, 0.9)]
    offsets = [window * 1.3 * i / (n - len(early) - 2) for i in range(n - len(early) - 1)] + [window * 3]
    outcomes = []
    for i in range(n):
        folder = tmp_path / f"kill{i}"
        book = fresh(heavy, folder)
        start = time.perf_counter()
        proc = _child(command, book)
        if i < len(early):
            delay = early[i]
            while time.perf_counter() - start < delay and proc.poll() is None:
                time.sleep(0.0005)
        else:
            while not (folder / BACKUP_DIR_NAME).exists() and proc.poll() is None:
                time.sleep(0.0002)
            begun = time.perf_counter()
            delay = begun - start + offsets[i - len(early)]
            while time.perf_counter() - begun < offsets[i - len(early)] and proc.poll() is None:
                time.sleep(0.0005)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait()
        data = book.read_bytes()
        state = "old" if data == original else "new" if data == completed else "BROKEN"
        assert state != "BROKEN", f"killed at {delay:.3f}s: the workbook is neither the original nor the result"
        pc.CalamineWorkbook.from_path(str(book)).get_sheet_by_name("积分登记").to_python()
        for bak in backups(folder):
            assert bak.read_bytes() == original, f"killed at {delay:.3f}s: partial backup {bak.name}"
        outcomes.append((round(delay, 3), state, len(backups(folder)), leftovers(folder)))
        if leftovers(folder) and sum(bool(o[3]) for o in outcomes) <= RERUNS:
            # The next, uninterrupted write completes and sweeps what the killed one left behind.
            _complete(command, book)
            assert book.read_bytes() == completed
            assert leftovers(folder) == [], outcomes[-1]
            assert all(b.read_bytes() in (original, completed) for b in backups(folder))
    states = {o[1] for o in outcomes}
    assert states == {"old", "new"}, outcomes  # the kills straddled the write
    if os.environ.get("JIFEN_SHOW_KILLS"):
        print(command, outcomes)


def test_next_write_sweeps_only_its_own_stale_temporaries(tmp_path):
    (tmp_path / "村").mkdir()
    book = build(tmp_path / "村" / "永宁寺村.xlsx")
    (book.parent / BACKUP_DIR_NAME).mkdir()
    old = time.time() - 3600
    stale = [book.parent / ".永宁寺村.k2x9_q7a.jifen-tmp", book.parent / BACKUP_DIR_NAME / ".永宁寺村.0abc_def.jifen-tmp"]
    kept = [book.parent / ".永宁寺村.2026.abcdefgh.jifen-tmp",  # another workbook's (永宁寺村.2026.xlsx)
            book.parent / ".石井坡村.abcdefgh.jifen-tmp",
            book.parent / "永宁寺村.abcdefgh.jifen-tmp"]  # not hidden: not the toolkit's name
    for f in stale + kept:
        f.write_bytes(b"partial")
        os.utime(f, (old, old))
    running = book.parent / ".永宁寺村.running1.jifen-tmp"  # a write in progress right now
    running.write_bytes(b"partial")
    os.utime(running, (time.time() + 60, time.time() + 60))
    result = run("validate", book)
    assert result.exit_code == 0, result.output
    assert [f.exists() for f in stale] == [False, False]
    assert all(f.exists() for f in kept) and running.exists()


# --- refusals: nothing changed, one Chinese message, nothing left behind -----------------

def _immutable(target: Path):
    chattr = shutil.which("chattr")
    if chattr is None:
        pytest.skip("chattr not found: cannot make a folder that root cannot write")
    done = subprocess.run([chattr, "+i", str(target)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"chattr +i not supported here ({done.stderr.decode().strip()}): "
                    "cannot make a folder that root cannot write")
    return lambda: subprocess.run([chattr, "-i", str(target)], check=True)


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture
def small(tmp_path) -> Path:
    (tmp_path / "村").mkdir()
    return build(tmp_path / "村" / "永宁寺村.xlsx")


@pytest.mark.parametrize("command", ["validate", "ledger"])
def test_read_only_folder(small, command):
    before = small.read_bytes()
    undo = _immutable(small.parent)
    try:
        result = run(command, small)
    finally:
        undo()
    assert result.exit_code == 1
    # validate still lists the findings, then says why 校验结果 was not written; ledger refuses first
    shown = "校验通过：没有发现问题。\n错误：上面的校验结果没有写入「校验结果」工作表。" if command == "validate" else "错误："
    assert result.output == (
        f"{shown}工作簿所在的文件夹「{small.parent}」不允许写入（只读或没有权限），工具没有写入，也没有生成备份。"
        "请把工作簿复制到可写的文件夹（例如桌面或“文档”）后再试。\n")
    assert small.read_bytes() == before
    assert sorted(p.name for p in small.parent.iterdir()) == ["永宁寺村.xlsx"]


def test_read_only_backup_folder(small):
    before = small.read_bytes()
    (small.parent / BACKUP_DIR_NAME).mkdir()
    undo = _immutable(small.parent / BACKUP_DIR_NAME)
    try:
        result = run("validate", small)
    finally:
        undo()
    assert result.exit_code == 1
    assert result.output.startswith(f"校验通过：没有发现问题。\n错误：上面的校验结果没有写入「校验结果」工作表。无法在「{small.parent / BACKUP_DIR_NAME}」中创建备份（")
    assert f"为安全起见工具没有写入工作簿「{small.name}」" in result.output
    assert small.read_bytes() == before
    assert leftovers(small.parent) == [] and list((small.parent / BACKUP_DIR_NAME).iterdir()) == []


@pytest.fixture
def tiny_disk(tmp_path):
    """A 2 MB tmpfs; skipped where mounting is not permitted."""
    mnt = tmp_path / "u盘"
    mnt.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to fill ({done.stderr.decode().strip() or done.returncode}); "
                    "the disk-full case needs root with mount permission")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def _fill(folder: Path, leave: int) -> None:
    """Fill the file system of ``folder`` until about ``leave`` bytes are free."""
    st = os.statvfs(folder)
    free = st.f_bavail * st.f_frsize
    with open(folder / "占位.bin", "wb") as fh:
        fh.write(b"\0" * max(0, free - leave))


@pytest.mark.parametrize("room", ["none", "backup only"])
def test_disk_full(small, tiny_disk, room):
    book = Path(shutil.copyfile(small, tiny_disk / "永宁寺村.xlsx"))
    before = book.read_bytes()
    _fill(tiny_disk, 0 if room == "none" else len(before) + 8192)
    result = run("validate", book)
    assert result.exit_code == 1, result.output
    assert book.read_bytes() == before
    assert leftovers(tiny_disk) == []
    found, msg = result.output.splitlines()  # the findings are listed whatever the disk holds
    assert found == "校验通过：没有发现问题。", result.output
    assert msg.startswith("错误：上面的校验结果没有写入「校验结果」工作表。") and "磁盘空间不足" in msg, msg
    if room == "none":
        assert "创建备份" in msg and "工具没有写入工作簿「永宁寺村.xlsx」" in msg
        assert backups(tiny_disk) == []
    else:
        assert "原文件保持不变" in msg
        [bak] = backups(tiny_disk)
        assert f"写入前的备份在「{bak}」" in msg and bak.read_bytes() == before


def test_safefile_writes_all_or_nothing(tmp_path):
    """One module makes every temporary file (writer, template, archive): a failed write leaves
    the old file and no temporary file; a new file gets the usual permissions, not mkstemp's 0600."""
    from jifen_xl import safefile

    target = tmp_path / "村.xlsx"
    target.write_bytes(b"old")

    def half(out):
        out.write(b"new, half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        safefile.write_atomic(target, half)
    assert target.read_bytes() == b"old" and sorted(p.name for p in tmp_path.iterdir()) == ["村.xlsx"]

    fresh = tmp_path / "新.xlsx"
    safefile.write_atomic(fresh, lambda out: out.write(b"new"))
    umask = os.umask(0o022)
    os.umask(umask)
    assert fresh.read_bytes() == b"new" and os.stat(fresh).st_mode & 0o777 == 0o666 & ~umask
    assert sorted(p.name for p in tmp_path.iterdir()) == ["新.xlsx", "村.xlsx"]


def test_new_workbook_is_written_through_safefile(tmp_path):
    from .conftest import build

    book = build(tmp_path / "永宁寺村.xlsx")
    assert sorted(p.name for p in tmp_path.iterdir()) == [book.name]
    umask = os.umask(0o022)
    os.umask(umask)
    assert os.stat(book).st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's private 0600
