"""What a file really is, before any reader touches it; and the OOXML package map.

Clerks' files come from Excel, WPS, LibreOffice, web systems (HTML saved as
``.xls``), USB sticks (truncated) and password-protected folders. This module
looks at the bytes and the zip directory first, so every kind gets one clear
Chinese answer instead of a reader's traceback, and so no reader ever inflates
a zip bomb.
"""

from __future__ import annotations

import os
import re
import struct
from dataclasses import dataclass
from pathlib import Path


from ..errors import WorkbookUnreadable
from ..ooxml import markup, opc
from ..ooxml import extent
from ..ooxml import zip as ooxzip

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
# Limits for a village workbook package (a village-year is ~10 MB inflated).
MAX_INFLATED = 1_500_000_000  # total inflated bytes of all parts
MAX_RATIO = 200  # inflated / compressed, for parts larger than 1 MB
MAX_PARTS = 20_000
READ_CHUNK = 1 << 20  # inflate at most this much per zlib call

SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")
SAVE_AS_XLSX = "请在 Excel 或 WPS 中打开它，点“文件→另存为”，保存类型选“Excel 工作簿(*.xlsx)”，然后用新文件重试。"


@dataclass(frozen=True)
class FileKind:
    """What the bytes say a file is: ``zip`` (xlsx/xlsm/xlsb/ods), ``ole`` (xls), ``encrypted``,
    ``html``, ``xml2003`` (Excel's "XML Spreadsheet 2003"), ``csv`` or ``other``."""

    kind: str


def os_reason(exc: BaseException) -> str:
    """An OS error's reason, in Chinese where the clerk can act on it (disk full, no permission)."""
    import errno

    reasons = {errno.ENOSPC: "磁盘空间不足", errno.EDQUOT: "磁盘配额已满", errno.EROFS: "磁盘是只读的",
               errno.EACCES: "没有权限", errno.EPERM: "没有权限", errno.ENAMETOOLONG: "文件名过长"}
    if isinstance(exc, OSError) and exc.errno in reasons:
        return reasons[exc.errno]
    return getattr(exc, "strerror", None) or str(exc)


def reader_failed(exc: BaseException) -> bool:
    """Whether ``exc``, raised inside a reader, means "this file is damaged": any Exception, and a
    Rust panic, which python-calamine raises as ``pyo3_runtime.PanicException``, a BaseException
    (not an Exception). KeyboardInterrupt, SystemExit and GeneratorExit are never taken for one."""
    return not isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit))


class reader_call:
    """Context for a call into the Rust reader: a panic there prints its own lines ("thread ...
    panicked at ...", a backtrace) straight to file descriptor 2 before Python sees the exception.
    Whatever the call writes to descriptor 2 is held back, and written out only when the call did
    not fail, so the clerk sees one sentence for a damaged file, not the reader's internals."""

    def __enter__(self):
        import sys
        import tempfile

        self._saved = None
        try:
            sys.stderr.flush()
            self._held = tempfile.TemporaryFile()
            self._saved = os.dup(2)
            os.dup2(self._held.fileno(), 2)
        except (OSError, ValueError, AttributeError):  # no descriptor 2 (an embedding host): keep it as is
            if self._saved is not None:
                os.close(self._saved)
            self._saved = None
        return self

    def __exit__(self, kind, exc, tb):
        if self._saved is None:
            return False
        os.dup2(self._saved, 2)
        os.close(self._saved)
        failed = exc is not None and reader_failed(exc)
        if not failed:
            self._held.seek(0)
            held = self._held.read()
            if held:
                os.write(2, held)
        self._held.close()
        return False


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
    if b"urn:schemas-microsoft-com:office:spreadsheet" in text and b"<workbook" in text:
        return FileKind("xml2003")  # "XML Spreadsheet 2003", another web-export favourite
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


DAMAGED = "文件「{name}」已损坏（压缩包结构不完整），可能是复制或下载时中断。请从原处重新复制，或用 Excel 打开后另存。"


part_name = opc.part_name


def open_container(fh, path: Path) -> ooxzip.ZipContainer:
    """The zip container of an open package, after checking its directory: bombs, path tricks and
    local headers that disagree with the directory are refused before anything is inflated."""
    name = path.name
    try:
        zc = ooxzip.ZipContainer(fh, os.fstat(fh.fileno()).st_size, max_entries=MAX_PARTS)
    except ooxzip.TooManyEntries as exc:
        raise WorkbookUnreadable(f"文件「{name}」包含 {exc.args[0]} 个部件，远超正常工作簿，已拒绝读取。请确认文件来源。") from exc
    except (markup.Corrupt, OSError, ValueError, struct.error) as exc:
        raise WorkbookUnreadable(DAMAGED.format(name=name)) from exc
    check_zip_directory(zc, name)
    check_local_headers(zc, name)
    return zc


def check_zip_directory(zc: ooxzip.ZipContainer, name: str) -> None:
    """Refuse a package whose directory promises more than a workbook can hold, or points outside itself."""
    total = 0
    for e in zc.entries:
        total += e.usize
        if e.usize > 1_000_000 and e.usize > MAX_RATIO * max(e.csize, 1):
            raise WorkbookUnreadable(
                f"文件「{name}」中的「{e.name}」压缩比异常（疑似“压缩炸弹”），已拒绝读取。请确认文件来源，或用 Excel 打开后另存。"
            )
        part = part_name(e.name)
        if part.startswith("/") or re.match(r"^[A-Za-z]:", part) or ".." in part.split("/"):
            raise WorkbookUnreadable(f"文件「{name}」含有指向包外的路径「{e.name}」，已拒绝读取。请确认文件来源。")
    if total > MAX_INFLATED:
        raise WorkbookUnreadable(
            f"文件「{name}」解压后超过 {MAX_INFLATED // 1_000_000} MB，远超正常工作簿，已拒绝读取。请确认文件来源。"
        )


def check_local_headers(zc: ooxzip.ZipContainer, name: str) -> None:
    """Refuse a package whose local headers disagree with its directory (before inflating anything)."""
    for e in zc.entries:
        verdict = zc.local_header_verdict(e)
        if verdict == "damaged":
            raise WorkbookUnreadable(DAMAGED.format(name=name))
        if verdict == "mismatch":
            raise WorkbookUnreadable(
                f"文件「{name}」中的「{e.name}」前后声明的大小不一致（疑似“压缩炸弹”或文件已损坏），已拒绝读取。"
                f"请确认文件来源，或从原处重新复制；如果是自己的文件，请用 Excel 打开后另存。")


PROLOG_CHUNK, PROLOG_MAX, prolog_verdict = markup.PROLOG_CHUNK, markup.PROLOG_MAX, markup.prolog_verdict
XML_PART_SUFFIXES = opc.XML_PART_SUFFIXES


def xml_part_has_dtd(zc: ooxzip.ZipContainer, entry: ooxzip.Entry) -> bool | None:
    """Whether the XML part ``entry`` declares a DTD or entities in its prolog; None when the
    prolog is implausibly long. Inflates only the first few KB of the part."""
    raw = b""
    chunks = zc.chunks(entry, PROLOG_CHUNK)
    try:
        for chunk in chunks:
            raw += chunk
            verdict = prolog_verdict(markup.prolog_text(raw))
            if verdict != "more":
                return verdict == "dtd"
            if len(raw) >= PROLOG_MAX:
                return None
    finally:
        chunks.close()
    return False  # the part ends inside its prolog: nothing to expand


def dtd_message(name: str, part: str) -> str:
    return (f"文件「{name}」中的「{part}」含有 DTD 或实体声明（<!DOCTYPE / <!ENTITY>），"
            f"Excel、WPS 和 LibreOffice 保存的工作簿里不会有这种内容，可能是恶意构造的文件，已拒绝读取。"
            f"请确认文件来源，向对方要一份用 Excel 或 WPS 正常保存的工作簿。")


class Package:
    """Read-only view of an OOXML/ODF zip package (``ooxml.zip``) with part names normalised to ``/``.

    Every read goes through the inflated-size limit checked on the directory, and a damaged
    entry (bad CRC, truncated data) becomes one clear message instead of a zlib traceback.
    """

    def __init__(self, path: Path):
        self.path = path
        try:
            self._fh = open(path, "rb")
        except OSError as exc:
            raise WorkbookUnreadable(f"无法打开文件「{path.name}」：{exc.strerror}。请检查文件权限。") from exc
        try:
            self.zc = open_container(self._fh, path)
        except BaseException:
            self._fh.close()
            raise
        self.names = {part_name(e.name): e for e in self.zc.entries}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._fh.close()

    def check_xml_prologs(self) -> None:
        """Refuse the package if any XML part (``.xml`` / ``.rels``) declares a DTD or entities.

        OOXML and ODF never contain a DTD, and a DTD is how entity-expansion bombs
        ("billion laughs") and external entities (``SYSTEM "file:///etc/passwd"``) get in. Only
        each part's prolog is inflated (a few KB), so this costs milliseconds even on a
        60,000-row workbook.
        """
        name = self.path.name
        for e in self.zc.entries:
            if e.is_dir or not e.name.lower().endswith(XML_PART_SUFFIXES):
                continue
            try:
                verdict = xml_part_has_dtd(self.zc, e)
            except (markup.Corrupt, ooxzip.Encrypted, OSError, ValueError) as exc:
                raise WorkbookUnreadable(DAMAGED.format(name=name)) from exc
            if verdict is None or verdict:
                raise WorkbookUnreadable(dtd_message(name, part_name(e.name)))

    def has(self, part: str) -> bool:
        return part in self.names

    def read(self, part: str) -> bytes:
        """The inflated bytes of ``part``, never more than its declared size (inflated in bounded
        chunks: a part whose headers both understate its size is cut off, not held whole)."""
        entry = self.names[part]
        try:
            return self.zc.read(entry)
        except (markup.Corrupt, ooxzip.Encrypted, OSError, ValueError) as exc:
            raise WorkbookUnreadable(DAMAGED.format(name=self.path.name)) from exc

    def _text(self, part: str) -> str | None:
        """A small XML part's text (None when absent or undecodable)."""
        return markup.text_of(self.read(part)) if self.has(part) else None

    def _find(self, name: str) -> list[str]:
        """The part named ``name``, compared as OPC does and as calamine does (case-insensitive;
        the container refuses two parts whose names differ only so), as a list."""
        entry = self.zc.get(name)
        return [part_name(entry.name)] if entry is not None else []

    def main_part(self) -> str | None:
        """The workbook part named by ``_rels/.rels`` (officeDocument), else the usual place."""
        text = self._text(opc.ROOT_RELS)
        target = opc.main_target(opc.relationships(text)) if text is not None else None
        if target and self.has(target):
            return target
        for guess in ("xl/workbook.xml", "xl/workbook.bin"):
            if self.has(guess):
                return guess
        return None

    def styles_part(self) -> str | None:
        """The styles part of an xlsx/xlsm package: the one the workbook's relationships name,
        else the usual place; None when there is none."""
        main = self.main_part()
        text = self._text(opc.rels_part(main)) if main else None
        for r in opc.relationships(text) if text is not None else []:
            if r.type.endswith("/styles") and not r.external:
                for part in self._find(opc.resolve(main, r.target)):
                    return part
        found = self._find("xl/styles.xml")
        return found[0] if found else None

    def is_workbook(self) -> bool:
        return self.main_part() is not None or self.has("content.xml")

    def is_xml_workbook(self) -> bool:
        """Whether this is an xlsx/xlsm package (an XML workbook part), not .xlsb or .ods."""
        main = self.main_part()
        return bool(main and main.lower().endswith(".xml")) or bool(self._find("xl/workbook.xml"))

    def sheet_parts(self) -> dict[str, str]:
        """Sheet name -> worksheet part (e.g. ``xl/worksheets/sheet3.xml``) of an xlsx/xlsm package,
        as the Open Packaging Conventions resolve it (the first sheet of a name)."""
        return {name: parts[0] for name, parts in self._sheet_map(opc_only=True).items() if parts}

    def sheet_candidates(self) -> dict[str, list[str]]:
        """Sheet name -> every part a reader might take for that sheet.

        The far-cell guard must bound the part the reader (calamine) really parses, and calamine
        resolves a sheet its own way: the fixed ``xl/workbook.xml`` and its relationships, the
        target as written (character references not resolved), prefixed by ``xl/``, looked up
        case-insensitively. So every part either way could give is listed (normally one, the
        same both ways); the guard bounds them all."""
        return self._sheet_map(opc_only=False)

    def _sheet_map(self, opc_only: bool) -> dict[str, list[str]]:
        main = self.main_part()
        sources = [main] if main and main.lower().endswith(".xml") else []
        if not opc_only:
            sources += [p for p in self._find("xl/workbook.xml") if p not in sources]
        out: dict[str, list[str]] = {}
        for wb in sources:
            wb_text = self._text(wb)
            if wb_text is None:
                continue
            rels_names = [opc.rels_part(wb)] + (["xl/_rels/workbook.xml.rels"] if not opc_only else [])
            rels: list[opc.Relationship] = []
            for rels_name in dict.fromkeys(p for r in rels_names for p in self._find(r)):
                text = self._text(rels_name)
                rels += opc.relationships(text) if text is not None else []
            for sheet in opc.workbook_sheets(wb_text):
                found = out.setdefault(sheet.name, [])
                ids = set(sheet.rids) | set(sheet.raw_rids)
                for r in rels:
                    if r.external or (r.id not in ids and r.raw_id not in ids):
                        continue
                    paths = [opc.resolve(wb, r.target)]
                    if not opc_only:
                        for t in {r.target.replace("\\", "/"), r.raw_target.replace("\\", "/")}:
                            paths += [t[1:] if t.startswith("/") else t, "xl/" + t, opc.resolve(wb, t)]
                    for path in paths:
                        for part in self._find(path):
                            if part not in found:
                                found.append(part)
        return out


# The far-cell guard's measure (ooxml.extent), re-exported for the reader and its tests.
plain_region, sheet_extent = extent.plain_region, extent.sheet_extent
