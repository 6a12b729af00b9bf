"""The files of a township import: every file of a folder (recursive) or of a zip, each either a
workbook to read or skipped with a Chinese reason (issue 11).

A township officer points the toolkit at what the villages sent: a folder copied from WeChat or
a USB stick, or one zip. Every file there is listed, so the officer can see that nothing was
silently lost:

* a workbook (.xlsx .xlsm .xls .xlsb .ods, or any file whose bytes are a spreadsheet package or
  an Excel 97 file) is a candidate: the import reads and validates it (damaged, encrypted and
  not-a-village workbooks get their reason from the reader);
* Excel's, WPS's and LibreOffice's lock files (``~$…``, ``.~lock.…#``), system files
  (``.DS_Store``, ``Thumbs.db``, ``desktop.ini``, ``__MACOSX``, ``._…``), the toolkit's own
  ``备份`` folders, zips inside the folder and anything else are 已跳过 with the reason;
* a zip is opened through :func:`jifen_xl.io.archive.open_archive` into a scratch folder: names
  in GBK decoded, path traversal, links, bombs and encrypted members refused member by member,
  one level of zips inside the zip opened.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import JifenError, WorkbookUnreadable
from ..safefile import BACKUP_DIR_NAME
from ..ooxml import zip as ooxzip
from .archive import OK as ARCHIVE_OK
from .archive import ArchiveLimits, decode_member_name, open_archive
from .package import SPREADSHEET_SUFFIXES, sniff

__all__ = ["Candidate", "collect", "LOCK_REASON"]

#: Why a lock file is skipped.
LOCK_REASON = "Excel 打开时生成的临时锁文件（WPS、LibreOffice 也会生成），不是工作簿，已跳过。"
_SYSTEM_NAMES = {".ds_store", "thumbs.db", "desktop.ini", "ehthumbs.db", ".localized"}
_ARCHIVE_SUFFIXES = (".zip", ".rar", ".7z", ".tar", ".gz", ".tgz")
#: What the bytes of a workbook are (``io.package.sniff``): a name without a spreadsheet
#: suffix is still read when its bytes are one of these.
_WORKBOOK_KINDS = ("zip", "ole", "encrypted", "xml2003")


@dataclass(frozen=True)
class Candidate:
    """One file found in the source.

    :param name: the file as the officer knows it: its path below the folder (``/``-separated),
        or ``压缩包名/成员名`` for a member of a zip.
    :param path: the file to read (for a zip member: its extracted copy), or None when skipped.
    :param reason: why it is skipped (Chinese); empty for a workbook to read.
    """

    name: str
    path: Path | None
    reason: str = ""

    @property
    def skipped(self) -> bool:
        return self.path is None


def collect(source: str | Path, scratch_dir: str | Path, *, exclude: tuple[Path, ...] = ()) -> list[Candidate]:
    """Every file of ``source`` (a folder, walked recursively, or a .zip), in a stable order.

    :param source: the folder or the zip the villages' workbooks came in.
    :param scratch_dir: where a zip's workbooks are extracted (the caller removes it).
    :param exclude: files that are never candidates (the import's own output): listed as skipped.
    :raises JifenError: the source does not exist, or is a file that is not a zip (or a whole zip
        that cannot be opened: not a zip, RAR/7z, a damaged directory).
    """
    source = Path(source)
    if source.is_dir():
        return _from_folder(source, {_key(p) for p in exclude})
    if not source.exists():
        raise JifenError(f"找不到文件夹或压缩包「{source}」。请检查名称和所在位置。")
    if source.suffix.lower() in SPREADSHEET_SUFFIXES:
        raise JifenError(f"「{source.name}」是一个工作簿。乡镇导入需要一个文件夹或一个 zip 压缩包："
                         f"请把各村的工作簿放进同一个文件夹，再指定这个文件夹。")
    return _from_zip(source, Path(scratch_dir))


def _key(path: Path) -> str:
    try:
        return os.path.normcase(os.path.realpath(path))
    except (OSError, ValueError):
        return str(path)


def _from_folder(folder: Path, excluded: set[str]) -> list[Candidate]:
    out: list[Candidate] = []
    for top, dirs, files in os.walk(folder, onerror=None, followlinks=False):
        dirs.sort()
        here = Path(top)
        for name in sorted(files):
            path = here / name
            shown = path.relative_to(folder).as_posix()
            reason = _skip_reason(path, path.relative_to(folder).parts, excluded)
            out.append(Candidate(shown, None, reason) if reason else Candidate(shown, path))
    return out


def _skip_reason(path: Path, parts: tuple[str, ...], excluded: set[str]) -> str:
    """Why a file of the folder is not read ("" when it is a workbook to read)."""
    name = parts[-1]
    if name.startswith(("~$", ".~lock.")):
        return LOCK_REASON
    if name.casefold() in _SYSTEM_NAMES or name.startswith("._") or "__MACOSX" in parts[:-1]:
        return "是操作系统自动生成的文件（缩略图、文件夹设置或苹果电脑的资源文件），不是工作簿，已跳过。"
    if BACKUP_DIR_NAME in parts[:-1]:
        return f"在「{BACKUP_DIR_NAME}」文件夹中，是工具写入前自动保存的备份，不导入。"
    if _key(path) in excluded:
        return "是本次导入的输出文件，不导入。"
    suffix = path.suffix.lower()
    if suffix in _ARCHIVE_SUFFIXES:
        return ("是压缩包；文件夹中的压缩包不会被打开。请把它解压到这个文件夹中，"
                "或单独导入这个压缩包（jifen-xl township import 压缩包.zip）。")
    if suffix in SPREADSHEET_SUFFIXES:
        return ""
    try:
        kind = sniff(path).kind
    except WorkbookUnreadable as exc:
        return exc.message
    if kind in _WORKBOOK_KINDS:
        return ""
    return "不是工作簿（不是 Excel、WPS 或 LibreOffice 保存的表格文件），已跳过。"


def _from_zip(source: Path, scratch: Path) -> list[Candidate]:
    members = open_archive(source, scratch / "解压")
    dates = _member_dates(source)
    out = []
    for m in members:
        shown = f"{source.name}/{m.name}"
        if m.status == ARCHIVE_OK:
            if m.name in dates:  # the import keeps the newer of two copies of a village: the zip's date counts
                try:
                    os.utime(m.path, (dates[m.name], dates[m.name]))
                except (OSError, OverflowError, ValueError):
                    pass
            out.append(Candidate(shown, m.path))
        else:
            out.append(Candidate(shown, None, m.reason))
    return out


def _member_dates(source: Path) -> dict[str, float]:
    """Each member's modification time as the zip records it (MS-DOS local time), by decoded name."""
    out: dict[str, float] = {}
    try:
        with source.open("rb") as fh:
            zc = ooxzip.ZipContainer(fh, os.fstat(fh.fileno()).st_size, ArchiveLimits().entries,
                                     methods=ooxzip.ARCHIVE_METHODS, strict=False)
            for e in zc.entries:
                d, t = e.mdate, e.mtime
                stamp = (1980 + (d >> 9), (d >> 5) & 15, d & 31, t >> 11, (t >> 5) & 63, (t & 31) * 2, 0, 0, -1)
                try:
                    out[decode_member_name(e)] = time.mktime(stamp)
                except (OverflowError, ValueError):
                    continue
    except Exception:  # noqa: BLE001 - the dates only order duplicates; open_archive judged the zip already
        return {}
    return out
