"""Lossless writer of the sheets the toolkit owns (月度台账, 库存台账, 校验结果).

A clerk's workbook carries buttons, macros, images, charts and comments that
openpyxl would drop on load/save (GUIDE §2.6). So this module never passes the
workbook through a spreadsheet library. It treats the file as a zip package:

* every part the toolkit does not own is copied *as raw compressed bytes*
  (local header, data and data descriptor untouched), so nothing is
  recompressed and the cost of a write does not depend on the size of the
  clerk's other sheets (a 60,000-row 积分登记 costs one block copy);
* the owned sheet's worksheet XML keeps everything above and including its
  header row byte for byte, plus every element around ``<sheetData>``; only the
  data rows below the header are replaced (generated with string joins);
* the owned sheet's Excel table(s) get their ``ref`` / ``<autoFilter ref>``
  updated; ``xl/calcChain.xml`` loses the entries of formula cells that were
  removed (Excel rebuilds it; a stale entry makes Excel "repair" the file);
* the workbook part asks for a full recalculation on opening (``calcPr``);
* a free-layout owned sheet (公示) is replaced whole by the one sheet of an image file, its
  formats appended to the workbook's styles (``sheet_image``).

A write is planned first (``writeplan``: the new bytes of every changed part; every refusal
happens there, before anything is written), then applied (``_rewrite``): a timestamped backup
goes to ``备份/`` beside the file, the new package is written to a temporary file in the same
folder, flushed, fsynced, read back when cells of a clerk's sheet were patched, and moved over
the original with an atomic replace (``safefile``). Any failure leaves the original exactly as it was.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .. import errors, safefile
from ..core.clean import ROW, to_text
from ..schema import ENTRIES, HOUSEHOLDS, SheetSpec, is_village_workbook
from .base import CellRef, ColumnPatch, RawTable, ReadStamp, WriteRequest, WriteResult
from .contract import image_writes, owned_writes, patches_by_sheet, stale_refusal
from .package import os_reason
from .sheet_image import read_image
from .xlsxread import XlsxReader
from .writeplan import (_Corrupt, _Encrypted, _Package, _ZipReader, _Zip64, _key, _write_package,
                        MAX_HYPERLINKS, HEADER_SCAN_ROWS)  # noqa: F401 (re-exported)

__all__ = ["ColumnPatch", "WriteResult", "write_owned", "check_writable", "BACKUP_DIR_NAME"]

BACKUP_DIR_NAME = safefile.BACKUP_DIR_NAME

#: Suffixes the writer accepts (zip packages of SpreadsheetML).
WRITABLE_SUFFIXES = (".xlsx", ".xlsm")


#: Excel refuses cells longer than this (characters).
MAX_CELL_CHARS = 32767


_FORMAT_NAMES = {
    ".xls": "旧版 Excel 97-2003（.xls）",
    ".xlsb": "Excel 二进制（.xlsb）",
    ".ods": "OpenDocument（.ods）",
    ".et": "WPS 表格（.et）",
    ".ett": "WPS 表格模板（.ett）",
    ".csv": "CSV 文本（.csv）",
    ".xltx": "Excel 模板（.xltx）",
    ".xltm": "Excel 启用宏的模板（.xltm）",
}

_SAVE_AS_HINT = ("请在 Excel 或 WPS 中打开它，点 文件→另存为→Excel 工作簿(*.xlsx)"
                 "（工作簿里有宏按钮时选 Excel 启用宏的工作簿(*.xlsm)），再对新文件重试。")


# =============================================================================
# Pre-flight checks
# =============================================================================

def check_writable(path) -> None:
    """Refuse early, with a message for the clerk, when ``path`` cannot be written safely.

    Checks the file format (only ``.xlsx`` / ``.xlsm``), that the file exists and is a
    zip package (not an encrypted or misnamed file), that Excel, WPS or LibreOffice
    does not hold it open (their lock file sits beside it), and that the file and its
    folder are writable.

    :param path: the workbook.
    :raises errors.WorkbookLocked: the workbook is open in Excel, WPS or LibreOffice.
    :raises errors.WriteRefused: any other reason the toolkit will not write it.
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in WRITABLE_SUFFIXES:
        kind = _FORMAT_NAMES.get(suffix, f"“{p.suffix or '无扩展名'}”")
        raise errors.WriteRefused(
            f"工作簿「{p.name}」是{kind}格式，工具只能写入 .xlsx 或 .xlsm 工作簿。" + _SAVE_AS_HINT)
    if not p.exists():
        raise errors.WriteRefused(f"找不到工作簿「{p}」。请检查文件名和所在文件夹是否正确。")
    if not p.is_file():
        raise errors.WriteRefused(f"「{p}」不是一个文件。请选择工作簿文件（.xlsx 或 .xlsm）。")
    for lock, who in safefile.lock_files(p):
        raise errors.WorkbookLocked(
            f"工作簿「{p.name}」正被 {who} 打开（同一文件夹里有锁定文件「{lock.name}」），工具没有写入。"
            f"请先保存并关闭该工作簿再试；如果确认没有打开它，可以删除锁定文件「{lock.name}」后重试。")
    try:
        with open(p, "rb") as fh:
            magic = fh.read(4)
    except OSError as exc:
        raise errors.WriteRefused(
            f"无法打开工作簿「{p}」（{os_reason(exc)}）。请确认文件没有被其他程序占用，并且你有权限读取它。"
        ) from exc
    if magic.startswith(b"\xd0\xcf\x11\xe0"):
        raise errors.WriteRefused(
            f"工作簿「{p.name}」设置了打开密码（已加密），或者实际上是旧版 .xls 文件，工具无法写入。"
            "请在 Excel 或 WPS 中打开它，取消打开密码（文件→信息→保护工作簿→用密码进行加密，清空密码），"
            "或点 文件→另存为→Excel 工作簿(*.xlsx)，再重试。")
    if magic != b"PK\x03\x04":
        raise errors.WriteRefused(
            f"工作簿「{p.name}」不是有效的 Excel 工作簿（文件内容不是 .xlsx 格式，可能已损坏或被改了扩展名），"
            "工具没有写入。" + _SAVE_AS_HINT)
    if not os.access(p, os.W_OK):
        raise errors.WriteRefused(
            f"工作簿「{p.name}」是只读文件，工具没有写入，也没有生成备份。"
            "请在文件上点右键→属性，取消勾选“只读”后再试；或把它另存一份可写的副本。")
    folder = p.parent
    if not os.access(folder, os.W_OK | os.X_OK):
        raise errors.WriteRefused(
            f"工作簿所在的文件夹「{folder}」不允许写入（只读或没有权限），工具没有写入，也没有生成备份。"
            "请把工作簿复制到可写的文件夹（例如桌面或“文档”）后再试。")


# =============================================================================
# Public entry point
# =============================================================================

def write_owned(path, frames: dict[str, pd.DataFrame] | None = None, *,
                links: dict[str, list[CellRef | None]] | None = None, link_field: str = "message",
                patches: Sequence[ColumnPatch] = (), backup: bool = True,
                now: dt.datetime | None = None, images: dict[str, Path] | None = None) -> WriteResult:
    """Write the toolkit's sheets into a clerk's workbook, losing nothing else: replace the data
    rows of owned sheets (``frames``) and set single cells of declared columns in the clerk's own
    sheets (``patches``), all in one atomic write (:func:`plan_owned`, then :func:`apply_owned`).

    Every part of the package the toolkit does not own (other sheets, macros, buttons,
    images, charts, comments, styles) is copied byte for byte, without recompression; a
    patched sheet keeps every byte but the cells it sets. The write is atomic and preceded
    by a timestamped backup in ``备份/`` beside the file.

    :param path: the ``.xlsx`` / ``.xlsm`` workbook. An owned sheet it lacks is added after its
        last sheet (with header, table, widths and print setup); a patched sheet must be there.
    :param frames: sheet key (``"ledger"``, ``"stock"``, ``"findings"``) -> DataFrame whose
        columns are the spec's field names. A field missing from the frame leaves its column empty.
    :param links: sheet key -> one internal hyperlink target per data row (a :class:`CellRef`)
        or None; placed on the cell of ``link_field``.
    :param link_field: the field whose cells carry the hyperlinks.
    :param patches: new values for columns the schema declares ``patched`` (积分登记.状态), by
        row key; see :class:`ColumnPatch`. Every key must be on exactly one row of the file. The
        rows and columns are the ones the toolkit's reader finds in the file, and the new
        package is read back before it replaces the old one: every cell of the patched sheet
        must read as before except the patched ones (refused otherwise).
    :param backup: make the timestamped backup first (turning it off is for tests and
        callers that already made one).
    :param now: the time stamped on the backup's name (default: now).
    :param images: free-layout sheet name (公示) -> a one-sheet .xlsx whose sheet replaces it (or
        is added after the last sheet); see ``WriteRequest.images``.
    :raises errors.WorkbookLocked: the workbook is open in Excel, WPS or LibreOffice.
    :raises errors.WriteRefused: wrong format, read-only, not an owned sheet, owned sheet or
        header missing, a patched row not found (or found twice), a patched cell holding a formula.
    :raises errors.WorkbookUnreadable: the file is corrupt.
    :raises errors.WriteFailed: writing failed; the original is unchanged.
    """
    request = WriteRequest(dict(frames or {}), dict(links or {}), tuple(patches), link_field, dict(images or {}))
    return apply_owned(plan_owned(path, request), backup=backup, now=now)


def file_stamp(path) -> ReadStamp:
    """What the file is now (size, modification time, inode): a write planned from an earlier
    stamp is refused once the file has changed."""
    return ReadStamp(Path(path).name, _token(os.stat(os.path.realpath(path))))


def _token(st: os.stat_result) -> str:
    return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ino}"


@dataclass(frozen=True)
class FilePlan:
    """A write into a file, worked out: the new bytes of every part it changes.

    :param path: the workbook.
    :param stamp: the file as it was when the parts were planned from it.
    :param replace: part name (lower case) -> its new bytes (None = drop the part).
    :param added: owned sheets the workbook lacks and will have.
    :param seen: the patched sheets as the reader saw them (the write is read back against them).
    :param by_sheet: the patches by sheet.
    :param tables: the owned sheet keys rewritten.
    :param patched: how many cells of clerks' sheets are set.
    :param started: when planning began (stale temporary files older than this are swept).
    :param images: the free-layout sheets written from images.
    """

    path: Path
    stamp: ReadStamp
    replace: dict
    added: tuple[str, ...]
    seen: dict
    by_sheet: dict
    tables: tuple[str, ...]
    patched: int
    started: float
    images: tuple[str, ...] = ()


def plan_owned(path, request: WriteRequest, stamp: ReadStamp | None = None) -> FilePlan:
    """Check the write and work out the new bytes of every part it changes; every refusal
    happens here and nothing is written.

    :param stamp: the file as the caller read it; planning from a file that has changed since
        is refused (default: the file as it is now).
    """
    started = time.time()
    path = Path(path)
    check_writable(path)
    owned = owned_writes(request)
    by_sheet = patches_by_sheet(request.patches)
    images = [(name, read_image(file, name)) for name, file in image_writes(request)]
    now_stamp = file_stamp(path)
    if stamp is not None and stamp.token != now_stamp.token:
        raise stale_refusal(path.name)
    tables = tuple(w.spec.key for w in owned)
    patched = sum(len(p.values) for ps in by_sheet.values() for p in ps)
    if not owned and not by_sheet and not images:
        return FilePlan(path, now_stamp, {}, (), {}, {}, (), 0, started)
    seen = _read_patched(path, by_sheet)
    added: list[str] = []

    def plan(pkg: _Package) -> dict[str, bytes | None]:
        for write in owned:  # a village workbook made before the sheet was declared
            if pkg.sheet_part(write.spec) is None and is_village_workbook(pkg.sheet_part):
                pkg.add_sheet(write.spec)
                added.append(write.spec.name)
        replace: dict[str, bytes | None] = {}
        cut: dict[str, int] = {}
        for write in owned:
            part, sheet_id = pkg.require_sheet(write.spec)
            row_links = None if write.links is None else [
                None if t is None else t.address() for t in write.links]
            plan = pkg.plan_sheet(write.spec, part, write.frame, row_links, request.link_field)
            replace[_key(part)] = plan.sheet_xml
            for tpart, data in plan.tables.items():
                replace[_key(tpart)] = data
            cut[sheet_id] = plan.header_row
        for name, image in images:
            if pkg.image_sheet(name) is None and not is_village_workbook(pkg.sheet_part):
                raise errors.WriteRefused(
                    f"工作簿「{path.name}」不是村级积分工作簿（缺少「{ENTRIES.name}」「{HOUSEHOLDS.name}」等工作表），"
                    f"工具没有把「{name}」写进去。请确认选择的是村里的积分工作簿。")
            sheet_id, was_added = pkg.place_image(name, image)
            cut[sheet_id] = 0  # none of the old sheet's formula cells is left
            if was_added:
                added.append(name)
        for spec, sheet_patches in by_sheet.items():
            part, _sheet_id = pkg.require_sheet(spec)
            replace[_key(part)] = pkg.plan_patches(spec, part, sheet_patches, seen[spec])
        replace.update(pkg.plan_calc_chain(cut))
        pkg.plan_full_calc_on_load()
        return {**pkg.overlay, **replace}

    replace = _with_package(path, now_stamp, plan)
    return FilePlan(path, now_stamp, replace, tuple(added), seen, by_sheet, tables, patched, started,
                    tuple(name for name, _image in images))


def apply_owned(plan: FilePlan, *, backup: bool = True, now: dt.datetime | None = None) -> WriteResult:
    """Carry out a planned write: backup, new package beside the file, read back, atomic
    replace. Refused, with the original untouched, when the file changed since it was planned."""
    path = plan.path
    if not plan.replace:
        return WriteResult(path.name, None, path=path)
    verify = (lambda tmp: _verify_patches(tmp, path.name, plan.seen, plan.by_sheet)) if plan.by_sheet else None
    bak = _rewrite(plan, backup=backup, now=now, verify=verify)
    return WriteResult(path.name, bak, plan.added, plan.tables, plan.patched, path=path, images=plan.images)


def _read_patched(path: Path, by_sheet: dict[SheetSpec, list[ColumnPatch]]) -> dict[SheetSpec, RawTable]:
    """The sheets to patch as the toolkit's reader sees them in ``path`` (rows, keys, columns)."""
    if not by_sheet:
        return {}
    book = XlsxReader(path)
    return {spec: book.read_table(spec) for spec in by_sheet}


def _verify_patches(tmp: str, display: str, seen: dict[SheetSpec, RawTable],
                    by_sheet: dict[SheetSpec, list[ColumnPatch]]) -> None:
    """Read the new package back with the reader: every cell of the patched sheets reads as it
    did, except the patched ones, which read as their new values. Anything else is refused."""
    book = XlsxReader(tmp)
    for spec, before in seen.items():
        after = book.read_table(spec)
        rows = before.frame[ROW].tolist()
        bad = None
        if after.letters != before.letters or after.frame[ROW].tolist() != rows:
            bad = (rows[0] if rows else after.header_row, spec.key_field)
        keys = before.codes(spec.key_field)
        for field_name in [f for f in before.frame.columns if f != ROW] if bad is None else []:
            old, new = before.frame[field_name], after.frame[field_name]
            patch = next((pt for pt in by_sheet[spec] if pt.field == field_name), None)
            hit = keys.isin(patch.values).to_numpy() if patch else np.zeros(len(old), dtype=bool)
            same = old.to_numpy(dtype=object) == new.to_numpy(dtype=object)
            if patch:
                wanted = to_text(pd.Series([patch.values[k] for k in keys[hit]], dtype=object)).to_numpy(dtype=object)
                same[hit] = wanted == to_text(new[hit]).to_numpy(dtype=object)
            if not same.all():
                bad = (rows[int(np.flatnonzero(~same)[0])], field_name)
                break
        if bad is not None:
            raise errors.WriteRefused(
                f"工具写入后核对：工作簿「{display}」的工作表「{spec.name}」第 {bad[0]} 行"
                f"「{spec.header_of(bad[1])}」列读回的内容与预期不符（这个工作表的格式比较特殊），"
                f"工具没有写入，原文件保持不变。请在 Excel 或 WPS 中打开工作簿、保存一次后重试。")


@contextmanager
def _opened(path: Path, stamp: ReadStamp):
    """The workbook's zip package, opened for planning or applying a write; refused when the
    file is no longer what ``stamp`` says, and every failure worded for the clerk."""
    target = Path(os.path.realpath(path))
    display = path.name
    try:
        with open(target, "rb") as fh:
            st = os.fstat(fh.fileno())
            if _token(st) != stamp.token:
                raise stale_refusal(display)
            zr = _ZipReader(fh, st.st_size)
            if zr.zip64 and len(zr.entries) <= 0xFFFF and st.st_size <= 0xFFFFFFFF:
                raise errors.WriteRefused(  # a small package some program laid out as zip64
                    f"工作簿「{display}」是以 ZIP64 格式保存的，工具无法在保持其余内容不变的前提下写入它，没有写入。"
                    "请在 Excel 或 WPS 中打开它，点 文件→另存为→Excel 工作簿(*.xlsx)，再对新文件重试。")
            if zr.zip64:
                raise _Zip64()
            yield zr
    except _Zip64 as exc:
        raise errors.WriteRefused(
            f"工作簿「{display}」太大（超过 4GB 或部件超过 65535 个），工具无法写入。"
            "请把历年数据拆分到不同的工作簿后再试。") from exc
    except _Encrypted as exc:
        raise errors.WriteRefused(
            f"工作簿「{display}」的部分内容被加密，工具无法写入。请在 Excel 或 WPS 中取消加密并另存为 .xlsx 后重试。"
        ) from exc
    except _Corrupt as exc:
        raise errors.WorkbookUnreadable(
            f"工作簿「{display}」已损坏或不是有效的 Excel 工作簿（{exc}），工具没有写入任何内容。"
            "请在 Excel 或 WPS 中打开它，另存为 Excel 工作簿(*.xlsx) 后再试。") from exc
    except OSError as exc:  # reading the workbook itself failed (USB stick pulled, permissions)
        raise errors.WriteFailed(
            f"读取工作簿「{display}」时出错（{os_reason(exc)}），工具没有写入任何内容。"
            "请确认文件还在、没有被其他程序占用，再重试。") from exc


def _with_package(path: Path, stamp: ReadStamp, plan) -> dict[str, bytes | None]:
    """``plan(package)``: the new bytes of the parts a write changes (None = drop the part)."""
    with _opened(path, stamp) as zr:
        return plan(_Package(zr, path.name))


def _rewrite(plan: FilePlan, *, backup: bool, now: dt.datetime | None, verify=None) -> Path | None:
    """The one way the toolkit changes a workbook: the backup, the planned package in a
    temporary file beside the original, ``verify(temporary path)`` when given (it reads the new
    package back and raises to refuse it), and an atomic replace unless the file changed or was
    opened meanwhile. Returns the backup's path."""
    path = plan.path
    target = Path(os.path.realpath(path))
    display = path.name
    safefile.sweep_stale_temps(target, plan.started)
    with _opened(path, plan.stamp) as zr:
        bak = None
        if backup:
            try:
                bak = safefile.make_backup(target, now or dt.datetime.now())
            except OSError as exc:
                raise errors.WriteRefused(
                    f"无法在「{target.parent / BACKUP_DIR_NAME}」中创建备份（{os_reason(exc)}），"
                    f"为安全起见工具没有写入工作簿「{display}」。"
                    f"请确认该文件夹可写，且没有名为“{BACKUP_DIR_NAME}”的文件占用这个名字，再重试。") from exc
        tmp = _write_temp(zr, plan.replace, target, display, bak)

    backup_note = f"写入前的备份在「{bak}」。" if bak else ""
    try:
        if verify is not None:
            verify(tmp)
        if _token(os.stat(target)) != plan.stamp.token:
            raise errors.WriteFailed(
                f"写入期间工作簿「{display}」被其他程序修改了，工具没有覆盖它，原文件保持不变。{backup_note}"
                "请关闭正在编辑它的程序后重试。")
        for lock, who in safefile.lock_files(path):  # opened while we were working
            raise errors.WorkbookLocked(
                f"工作簿「{display}」刚刚被 {who} 打开（出现了锁定文件「{lock.name}」），工具没有覆盖它，"
                f"原文件保持不变。{backup_note}请保存并关闭该工作簿后重试。")
        try:
            safefile.replace(tmp, target)
        except PermissionError as exc:
            raise errors.WorkbookLocked(
                f"无法替换工作簿「{display}」（{os_reason(exc)}）：它可能正被 Excel 或 WPS 打开，或者是只读文件。"
                f"原文件保持不变。{backup_note}请关闭该工作簿、取消“只读”后重试。") from exc
        except OSError as exc:
            raise errors.WriteFailed(
                f"写入工作簿「{display}」失败（{os_reason(exc)}），原文件保持不变。{backup_note}"
                "请确认磁盘空间充足、文件夹可写后重试。") from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return bak


def _write_temp(zr: _ZipReader, replace: dict[str, bytes | None], target: Path, display: str,
                bak: Path | None) -> str:
    """Write the new package next to ``target``; return the temp file's path."""
    backup_note = f"写入前的备份在「{bak}」。" if bak else ""
    try:
        return safefile.write_temp(target, lambda out: _write_package(zr, replace, out))
    except safefile.NoTempFile as exc:
        raise errors.WriteRefused(
            f"无法在「{target.parent}」中写入（{os_reason(exc)}）：文件夹是只读的或没有权限。"
            f"工作簿「{display}」保持不变。{backup_note}"
            "请把工作簿复制到可写的文件夹（例如桌面或“文档”）后再试。") from exc
    except PermissionError as exc:
        raise errors.WriteRefused(
            f"无法在「{target.parent}」中写入（{os_reason(exc)}）：文件夹是只读的或没有权限。"
            f"工作簿「{display}」保持不变。{backup_note}"
            "请把工作簿复制到可写的文件夹后再试。") from exc
    except OSError as exc:
        raise errors.WriteFailed(
            f"写入工作簿「{display}」失败（{os_reason(exc)}），原文件保持不变。{backup_note}"
            "请确认磁盘空间充足后重试。") from exc
