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

import numpy as np

from ..errors import WorkbookUnreadable
from ..ooxml import markup, opc
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


# -- the extent a worksheet's cells span ------------------------------------------------
# calamine allocates the whole rectangle between a sheet's first and last cell before
# handing anything over, and aborts the process (no exception) when that allocation fails.
# So the cells' extent is bounded here first, from the XML, the way calamine places cells:
# a cell's ``r`` when it has one; otherwise the column after the previous cell of its row, in
# the row given by the row's ``r`` or the row after the previous one.

_CELL_R = b'<c r="'
_LAST_ROW_R_RE = re.compile(rb'<row r="(\d+)"')
_TAG_RE = re.compile(rb"<(?:[\w.-]+:)?(row|c)(?=[\s/>])((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>")
_R_ATTR_RE = re.compile(rb"""(?:^|\s)r\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_REF_RE = re.compile(rb"([A-Za-z]+)(\d+)")
_PLAIN_REF_RE = re.compile(rb'<c r="([A-Za-z]+)(\d+)"')
_CELL_OPEN_RE = re.compile(rb"<c[\s/>]")


def _letters_to_col(letters: bytes) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ch - 64
    return n


def _greater_than(n: int) -> bytes:
    """A regex for a decimal number (as a whole) greater than ``n`` (leading zeros count as digits)."""
    s = str(n)
    alts = [rb"\d{%d,}" % (len(s) + 1)]
    for i, ch in enumerate(s):
        d = int(ch)
        if d < 9:
            rest = len(s) - i - 1
            alts.append(s[:i].encode() + b"[%d-9]" % (d + 1) + (rb"\d{%d}" % rest if rest else b""))
    return b"(?:" + b"|".join(alts) + b")"


def plain_region(xml: bytes) -> tuple[int, int] | None:
    """Byte offsets of ``<sheetData`` and ``</sheetData>`` when worksheet ``xml`` is laid out the
    usual way (Excel, WPS, LibreOffice, openpyxl): no namespace prefixes on sheet data or cells,
    no cell tag outside the sheet data. ``None`` otherwise."""
    start = xml.find(b"<sheetData")
    end = xml.rfind(b"</sheetData>")  # the last one: a fake end tag (in CDATA) only widens the region
    if 0 <= start < end and xml.find(b":sheetData") < 0 and not _prefixed_cell(xml, 0, len(xml)) \
            and _CELL_OPEN_RE.search(xml, 0, start) is None and _CELL_OPEN_RE.search(xml, end) is None:
        return start, end
    return None


_COMPUTE = object()


def sheet_extent(xml: bytes, span: tuple[int, int] | None = None, region=_COMPUTE) -> tuple[int, int]:
    """An upper bound of (last row, last column), 1-based, of the cells in worksheet ``xml``.

    The usual file (``plain_region``; every cell written ``<c r="...``, at most 26 columns) is
    answered with a few array scans (~30 ms on a 60,000-row sheet); anything else is measured
    exactly: every cell's reference, or, when cells omit ``r`` or use a prefix, a walk over the
    row and cell tags.

    :param span: byte offsets within the sheet data: bound only the rows between them (a piece of
        a split sheet: the sheet's own head and tail around some of its rows). A sheet that is not
        plain is measured whole, which bounds every piece of it too.
    :param region: ``plain_region(xml)`` when the caller already has it.
    """
    region = plain_region(xml) if region is _COMPUTE else region
    if region is not None:
        start, end = span or region
        at = xml.rfind(b'<row r="', start, end)
        m = _LAST_ROW_R_RE.match(xml, at) if at >= 0 else None
        last_row = int(m.group(1)) if m else 0
        # Anything but "<c r=" + one letter + a row up to the last row's number sends us on.
        odd = re.compile(rb'<c(?: r="[A-Za-z](?:[A-Za-z]|' + _greater_than(last_row) + rb'")|(?! r="))')
        if not _finds_odd_cell(xml, start, end, last_row, odd):
            return last_row, 26
        n_plain = xml.count(_CELL_R, start, end)
        if n_plain == len(_CELL_OPEN_RE.findall(xml, start, end)):
            refs = _PLAIN_REF_RE.findall(xml, start, end)
            if len(refs) == n_plain:
                return (max((int(r) for _, r in refs), default=0),
                        max((_letters_to_col(c) for c in set(c for c, _ in refs)), default=0))
    return _walk_extent(xml)


_LT_C = int.from_bytes(b"<c", "little")
_SPACE_R_QUOTE = int.from_bytes(b' r="', "little")
# The 16 bytes from a "<c": the 4 after it (' r="'), the reference's first two characters, and
# (big-endian, so that byte order is number order) the 8 from the second one.
_CELL_HEAD = np.dtype({"names": ["r", "c6", "c7", "num"], "formats": ["<u4", "u1", "u1", ">u8"],
                       "offsets": [2, 6, 7, 7], "itemsize": 16})
_IS_LETTER = np.zeros(256, dtype=bool)
_IS_LETTER[[*range(65, 91), *range(97, 123)]] = True
_IS_DIGIT = np.zeros(256, dtype=bool)
_IS_DIGIT[48:58] = True
_MAX_SUSPECTS = 1000


def _finds_odd_cell(xml: bytes, start: int, end: int, last_row: int, odd: re.Pattern) -> bool:
    """``odd.search(xml, start, end) is not None``, for ``odd`` as ``sheet_extent`` builds it, at
    array speed: every ``<c`` of the region is found with two vector compares, and the bytes
    after it are checked all at once. A ``<c`` not followed by `` r="`` answers at once; a cell
    whose reference could be two letters, or a letter and a number above ``last_row``, is asked
    to ``odd`` itself (on a plain sheet there is none)."""
    n, digits = end - start, str(last_row).encode()
    width = len(digits)
    if width > 8 or n < 64 or start < 0 or end > len(xml):
        return odd.search(xml, start, end) is not None
    heads = np.ndarray((n - 15,), "V16", xml, start, (1,))  # the 16 bytes from every offset
    above = int.from_bytes(digits, "big")
    suspects = []
    for parity in (0, 1):
        pairs = np.frombuffer(xml, "<u2", (n - parity) // 2, start + parity)
        at = np.flatnonzero(pairs == _LT_C) * 2 + parity
        near_end = int(np.searchsorted(at, n - 15))
        suspects += at[near_end:].tolist()  # too close to the end for 16 bytes: ask the regex
        at = at[:near_end]
        head = heads[at]
        cell = head.view(_CELL_HEAD)
        if (cell["r"] != _SPACE_R_QUOTE).any():
            return True
        ref = head.view(np.uint8).reshape(-1, 16)
        maybe = _IS_DIGIT[ref[:, 6 + width]] & (
            _IS_DIGIT[ref[:, 7 + width]] | ((cell["num"] >> np.uint64(8 * (8 - width))) > above))
        maybe |= _IS_LETTER[cell["c7"]]
        maybe &= _IS_LETTER[cell["c6"]]
        at = at[maybe]
        if len(suspects) + at.size > _MAX_SUSPECTS:  # e.g. columns past Z: the regex finds one soon
            return odd.search(xml, start, end) is not None
        suspects += at.tolist()
    return any(odd.match(xml, start + at, end) for at in suspects)


_COLON_C_RE = re.compile(rb":c[\s/>]")


def _prefixed_cell(xml: bytes, start: int, end: int) -> bool:
    """Whether a namespace-prefixed cell tag (``<x:c ...``) occurs between ``start`` and ``end``."""
    for m in _COLON_C_RE.finditer(xml, start, end):
        lt = xml.rfind(b"<", max(start, m.start() - 80), m.start())
        if lt >= 0 and re.fullmatch(rb"<[\w.-]+", xml[lt:m.start()]):
            return True
    return False


def _walk_extent(xml: bytes) -> tuple[int, int]:
    """Exact placement of every cell, as calamine does it (slow path: odd producers, hostile files)."""
    last_row = last_col = 0
    row = col = 0
    for m in _TAG_RE.finditer(xml):
        r = _R_ATTR_RE.search(m.group(2))
        value = (r.group(1) if r.group(1) is not None else r.group(2)) if r else None
        if m.group(1) == b"row":
            row = int(value) if value is not None and value.isdigit() else row + 1
            col = 0
            last_row = max(last_row, row)
        else:
            ref = _REF_RE.fullmatch(value) if value is not None else None
            if value is not None and ref is None:
                continue  # calamine refuses a cell with a malformed reference: nothing allocated
            if ref:
                col, cell_row = _letters_to_col(ref.group(1)), int(ref.group(2))
            else:
                col, cell_row = col + 1, max(row, 1)
            last_row, last_col = max(last_row, cell_row), max(last_col, col)
    return last_row, last_col
