"""Changing a clerk's file safely: lock files, the backup, the temporary file, fsync, atomic replace.

One module for every place the toolkit writes a workbook (the lossless writer, the template
builder): whatever fails, the original is either untouched or wholly replaced, and no
truncated file ever poses as a workbook or a backup. Errors are raised as ``OSError``; the
caller says what they mean to the clerk.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

__all__ = ["BACKUP_DIR_NAME", "TEMP_SUFFIX", "lock_files", "make_backup", "sweep_stale_temps", "write_temp",
           "replace", "fsync_dir", "write_atomic", "NoTempFile",
           "rename_no_clobber"]

#: Folder beside the workbook that receives the backup made before each write.
BACKUP_DIR_NAME = "备份"

#: Suffix of the toolkit's temporary files (a new package, a backup being copied).
TEMP_SUFFIX = ".jifen-tmp"

_UMASK = os.umask(0o022)  # read once (os.umask can only be read by setting it), restored at once
os.umask(_UMASK)


def lock_files(path: Path) -> list[tuple[Path, str]]:
    """Lock files of Excel/WPS (``~$name``) and LibreOffice (``.~lock.name#``) beside ``path``,
    each with who leaves it ("Excel 或 WPS", "LibreOffice")."""
    path = Path(path)
    wanted = {
        ("~$" + path.name).casefold(): "Excel 或 WPS",
        (".~lock." + path.name + "#").casefold(): "LibreOffice",
    }
    found = []
    try:
        with os.scandir(path.parent) as it:
            for entry in it:
                who = wanted.get(entry.name.casefold())
                if who:
                    found.append((path.parent / entry.name, who))
    except OSError:
        pass
    return found


def fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (where the system supports it; not on Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class NoTempFile(OSError):
    """The temporary file could not even be created (the folder is read-only, or full)."""


def _mkstemp(target: Path, folder: Path) -> tuple[int, str]:
    try:
        return tempfile.mkstemp(prefix=f".{target.stem}.", suffix=TEMP_SUFFIX, dir=folder)
    except OSError as exc:
        raise NoTempFile(exc.errno, exc.strerror, exc.filename) from exc


def write_temp(target: Path, write: Callable[[BinaryIO], None], folder: Path | None = None) -> str:
    """A temporary file beside ``target`` (or in ``folder``) holding what ``write(file)`` wrote,
    flushed and fsynced, with ``target``'s permissions when it exists; its path. Removed again
    when anything fails (the failure propagates; ``NoTempFile`` when it could not be created)."""
    target = Path(target)
    fd, tmp = _mkstemp(target, folder or target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            write(out)
            out.flush()
            os.fsync(out.fileno())
        if target.exists():
            shutil.copymode(target, tmp)
        else:  # mkstemp makes it private (0600); a new file gets the usual permissions
            os.chmod(tmp, 0o666 & ~_UMASK)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return tmp


def replace(tmp: str | Path, target: Path) -> None:
    """Move ``tmp`` over ``target`` atomically and make it durable."""
    os.replace(tmp, target)
    fsync_dir(Path(target).parent)


def write_atomic(target: Path, write: Callable[[BinaryIO], None]) -> None:
    """Write ``target`` all or nothing: ``write_temp`` then ``replace`` (the temporary file is
    removed when the replace fails)."""
    tmp = write_temp(target, write)
    try:
        replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def rename_no_clobber(src: Path, dest: Path) -> bool:
    """Give ``src`` the name ``dest`` unless a file has it already (then return False)."""
    if os.name == "nt":
        try:
            os.rename(src, dest)  # Windows never replaces an existing file here
        except FileExistsError:
            return False
        return True
    try:
        os.link(src, dest)  # atomic, and fails rather than replace
    except FileExistsError:
        return False
    except OSError:  # no hard links on this file system (FAT/exFAT sticks, some shares)
        if os.path.lexists(dest):
            return False
        os.rename(src, dest)
        return True
    os.unlink(src)
    return True


def make_backup(target: Path, now: dt.datetime) -> Path:
    """Copy ``target`` into ``备份/`` under a timestamped name that never replaces another backup.

    The copy is written under a temporary name and renamed only once complete and fsynced:
    a process killed mid-copy leaves no truncated file posing as a backup (issue 3).
    """
    target = Path(target)
    folder = target.parent / BACKUP_DIR_NAME
    folder.mkdir(exist_ok=True)

    def copy(out: BinaryIO) -> None:
        with open(target, "rb") as src:
            shutil.copyfileobj(src, out, 1 << 20)

    tmp = write_temp(target, copy, folder)
    try:
        shutil.copystat(target, tmp)
        stamp = now.strftime("%Y%m%d-%H%M%S")
        n = 1
        while not rename_no_clobber(Path(tmp), dest := folder / (
                f"{target.stem}-{stamp}{'' if n == 1 else f'-{n}'}{target.suffix}")):
            n += 1
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(folder)
    return dest


def sweep_stale_temps(target: Path, started: float) -> None:
    """Delete the temporary files an earlier write of this workbook left when it was killed.

    Only the toolkit's own names (``.{stem}.XXXXXXXX.jifen-tmp`` as ``tempfile.mkstemp`` makes
    them) beside the workbook and in ``备份/``, and only files last written before this run
    started, so a write in progress elsewhere is left alone.
    """
    target = Path(target)
    own = re.compile(r"\.%s\.[a-z0-9_]{8}%s" % (re.escape(target.stem), re.escape(TEMP_SUFFIX)))
    for folder in (target.parent, target.parent / BACKUP_DIR_NAME):
        try:
            with os.scandir(folder) as it:
                for entry in it:
                    if own.fullmatch(entry.name) and entry.is_file(follow_symlinks=False) \
                            and entry.stat(follow_symlinks=False).st_mtime < started:
                        os.unlink(entry.path)
        except OSError:
            pass  # cleaning up is a courtesy; it never stops a write
