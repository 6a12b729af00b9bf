"""What a file really is, before any reader touches it; and the OOXML package map.

Clerks' files come from Excel, WPS, LibreOffice, web systems (HTML saved as
``.xls``), USB sticks (truncated) and password-protected folders. This module
looks at the bytes and the zip directory first, so every kind gets one clear
Chinese answer instead of a reader's traceback, and so no reader ever inflates
a zip bomb.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import WorkbookUnreadable

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
# Limits for a village workbook package (a village-year is ~10 MB inflated).
MAX_INFLATED = 1_500_000_000  # total inflated bytes of all parts
MAX_RATIO = 200  # inflated / compressed, for parts larger than 1 MB
MAX_PARTS = 20_000

SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")
SAVE_AS_XLSX = "请在 Excel 或 WPS 中打开它，点“文件→另存为”，保存类型选“Excel 工作簿(*.xlsx)”，然后用新文件重试。"


@dataclass(frozen=True)
class FileKind:
    """What the bytes say a file is: ``zip`` (xlsx/xlsm/xlsb/ods), ``ole`` (xls), ``encrypted``,
    ``html``, ``csv`` or ``other``."""

    kind: str


def sniff(path: Path) -> FileKind:
    """Classify ``path`` by its bytes; raise WorkbookUnreadable for what no reader can take."""
    name = path.name
    if not path.exists():
        raise WorkbookUnreadable(f"找不到文件「{path}」。请检查文件名和所在文件夹。")
    if path.is_dir():
        raise WorkbookUnreadable(f"「{path}」是文件夹，不是工作簿。请指定一个 .xlsx 文件。")
    try:
        with path.open("rb") as fh:
            head = fh.read(4096)
    except OSError as exc:
        raise WorkbookUnreadable(f"无法打开文件「{name}」：{exc.strerror}。请检查文件权限。") from exc
    if not head:
        raise WorkbookUnreadable(f"文件「{name}」是空文件（0 字节），可能复制时中断。请重新复制原文件。")
    if head.startswith(ZIP_MAGIC) or head.startswith(b"PK\x05\x06"):
        return FileKind("zip")
    if head.startswith(OLE_MAGIC):
        return FileKind("encrypted" if _ole_is_encrypted(path) else "ole")
    text = head.lstrip(b"\xef\xbb\xbf").lstrip().lower()
    if text.startswith((b"<!doctype html", b"<html", b"<table", b"<?xml")) or b"<table" in text[:2048]:
        return FileKind("html")
    if _looks_like_text(head):
        return FileKind("csv")
    return FileKind("other")


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    for enc in ("utf-8", "gb18030"):
        try:
            head.decode(enc)
            return True
        except UnicodeDecodeError:
            continue
    return False


def _ole_is_encrypted(path: Path) -> bool:
    """An encrypted .xlsx is an OLE container holding EncryptionInfo/EncryptedPackage streams."""
    marker = "EncryptedPackage".encode("utf-16-le")
    with path.open("rb") as fh:
        data = fh.read(4 * 1024 * 1024)
    return marker in data


def open_zip(path: Path) -> zipfile.ZipFile:
    """Open a zip package after checking its directory: refuse bombs and path tricks before inflating."""
    name = path.name
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise WorkbookUnreadable(
            f"文件「{name}」已损坏（压缩包结构不完整），可能是复制或下载时中断。请从原处重新复制，或用 Excel 打开后另存。"
        ) from exc
    check_zip_directory(zf, name)
    return zf


def check_zip_directory(zf: zipfile.ZipFile, name: str) -> None:
    """Refuse a package whose directory promises more than a workbook can hold."""
    infos = zf.infolist()
    if len(infos) > MAX_PARTS:
        raise WorkbookUnreadable(f"文件「{name}」包含 {len(infos)} 个部件，远超正常工作簿，已拒绝读取。请确认文件来源。")
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size > 1_000_000 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise WorkbookUnreadable(
                f"文件「{name}」中的「{info.filename}」压缩比异常（疑似“压缩炸弹”），已拒绝读取。请确认文件来源，或用 Excel 打开后另存。"
            )
        normalized = posixpath.normpath(info.filename)
        if info.filename.startswith("/") or normalized.startswith("..") or "\\" in info.filename:
            raise WorkbookUnreadable(f"文件「{name}」含有指向包外的路径「{info.filename}」，已拒绝读取。请确认文件来源。")
    if total > MAX_INFLATED:
        raise WorkbookUnreadable(
            f"文件「{name}」解压后超过 {MAX_INFLATED // 1_000_000} MB，远超正常工作簿，已拒绝读取。请确认文件来源。"
        )


_SHEET_RE = re.compile(rb"<(?:\w+:)?sheet\b[^>]*?/?>")
_ATTR_RE = re.compile(rb'([\w:]+)\s*=\s*"([^"]*)"')
_REL_RE = re.compile(rb"<(?:\w+:)?Relationship\b[^>]*?/?>")


def _attrs(tag: bytes) -> dict[str, str]:
    from xml.sax.saxutils import unescape

    return {k.decode().split(":")[-1] if k.startswith(b"r:") else k.decode(): unescape(v.decode("utf-8"), {"&quot;": '"', "&apos;": "'"})
            for k, v in _ATTR_RE.findall(tag)}


def sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> worksheet part path (e.g. ``xl/worksheets/sheet3.xml``) of an xlsx/xlsm package."""
    try:
        wb = zf.read("xl/workbook.xml")
        rels = zf.read("xl/_rels/workbook.xml.rels")
    except KeyError:
        return {}
    targets = {}
    for tag in _REL_RE.findall(rels):
        a = _attrs(tag)
        target = a.get("Target", "")
        targets[a.get("Id")] = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
            posixpath.join("xl", target))
    out = {}
    for tag in _SHEET_RE.findall(wb):
        a = _attrs(tag)
        rid = a.get("id")
        if a.get("name") and rid in targets:
            out[a["name"]] = targets[rid]
    return out
