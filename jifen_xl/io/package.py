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
import zlib
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
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise WorkbookUnreadable(DAMAGED.format(name=name)) from exc
    check_zip_directory(zf, name)
    return zf


DAMAGED = "文件「{name}」已损坏（压缩包结构不完整），可能是复制或下载时中断。请从原处重新复制，或用 Excel 打开后另存。"


def part_name(name: str) -> str:
    """A zip entry name as a package part name: forward slashes (some exporters write ``\\``)."""
    return name.replace("\\", "/")


def check_zip_directory(zf: zipfile.ZipFile, name: str) -> None:
    """Refuse a package whose directory promises more than a workbook can hold, or points outside itself."""
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
        part = part_name(info.filename)
        if part.startswith("/") or re.match(r"^[A-Za-z]:", part) or ".." in part.split("/"):
            raise WorkbookUnreadable(f"文件「{name}」含有指向包外的路径「{info.filename}」，已拒绝读取。请确认文件来源。")
    if total > MAX_INFLATED:
        raise WorkbookUnreadable(
            f"文件「{name}」解压后超过 {MAX_INFLATED // 1_000_000} MB，远超正常工作簿，已拒绝读取。请确认文件来源。"
        )


class Package:
    """Read-only view of an OOXML/ODF zip package with part names normalised to ``/``.

    Every read goes through the inflated-size limit checked on the directory, and a damaged
    entry (bad CRC, truncated data) becomes one clear message instead of a zlib traceback.
    """

    def __init__(self, path: Path):
        self.path = path
        self.zf = open_zip(path)
        self.names = {part_name(i.filename): i.filename for i in self.zf.infolist()}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.zf.close()

    def has(self, part: str) -> bool:
        return part in self.names

    def read(self, part: str) -> bytes:
        try:
            return self.zf.read(self.names[part])
        except KeyError:
            raise
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError) as exc:
            raise WorkbookUnreadable(DAMAGED.format(name=self.path.name)) from exc

    def main_part(self) -> str | None:
        """The workbook part named by ``_rels/.rels`` (officeDocument), else the usual place."""
        if self.has("_rels/.rels"):
            for tag in _REL_RE.findall(self.read("_rels/.rels")):
                a = _attrs(tag)
                if a.get("Type", "").endswith("/officeDocument"):
                    target = a.get("Target", "").lstrip("/")
                    if self.has(target):
                        return target
        for guess in ("xl/workbook.xml", "xl/workbook.bin"):
            if self.has(guess):
                return guess
        return None

    def is_workbook(self) -> bool:
        return self.main_part() is not None or self.has("content.xml")

    def sheet_parts(self) -> dict[str, str]:
        """Sheet name -> worksheet part (e.g. ``xl/worksheets/sheet3.xml``) of an xlsx/xlsm package."""
        main = self.main_part()
        if not main or not main.endswith(".xml"):
            return {}
        base = posixpath.dirname(main)
        rels_part = posixpath.join(base, "_rels", posixpath.basename(main) + ".rels")
        if not self.has(rels_part):
            return {}
        targets = {}
        for tag in _REL_RE.findall(self.read(rels_part)):
            a = _attrs(tag)
            target = part_name(a.get("Target", ""))
            targets[a.get("Id")] = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
                posixpath.join(base, target))
        out = {}
        for tag in _SHEET_RE.findall(self.read(main)):
            a = _attrs(tag)
            rid = a.get("id")
            if a.get("name") and rid in targets:
                out[a["name"]] = targets[rid]
        return out


_SHEET_RE = re.compile(rb"<(?:\w+:)?sheet\b[^>]*?/?>")
_ATTR_RE = re.compile(rb'([\w:]+)\s*=\s*"([^"]*)"')
_REL_RE = re.compile(rb"<(?:\w+:)?Relationship\b[^>]*?/?>")


def _attrs(tag: bytes) -> dict[str, str]:
    from xml.sax.saxutils import unescape

    out = {}
    for k, v in _ATTR_RE.findall(tag):
        key = k.decode()
        key = key.split(":", 1)[1] if ":" in key and not key.startswith("xmlns") else key
        out[key] = unescape(v.decode("utf-8", "replace"), {"&quot;": '"', "&apos;": "'"})
    return out
