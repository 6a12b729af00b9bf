"""The zip container: one reader of a zip file's directory and local headers, and one writer.

Every package the toolkit opens (a workbook to read, a workbook to write, an archive of
workbooks) is located through here without inflating anything: the end-of-directory record
(zip64 too), the central directory, each entry's local header. Reading inflates in bounded
chunks and checks sizes and CRC; writing copies untouched entries as raw compressed bytes.
Limits (how many parts, how much inflated data) are the caller's policy: this module only
reports what the directory says. Which compression methods are inflated is the caller's too:
an OOXML package may hold only stored and deflated parts (the default), an archive of
workbooks also bzip2 and LZMA (``ARCHIVE_METHODS``, inflated with the standard library's
``bz2`` and ``lzma``).
"""

from __future__ import annotations

import bz2
import codecs
import lzma
import struct
import time
import zlib
from dataclasses import dataclass

from .markup import Corrupt
from .opc import key

EOCD = struct.Struct("<4sHHHHIIH")
ZIP64_LOCATOR = struct.Struct("<4sIQI")
ZIP64_EOCD = struct.Struct("<4sQHHIIQQQQ")
CDH = struct.Struct("<4sHHHHHHIIIHHHHHII")
LFH = struct.Struct("<4sHHHHHIIIHH")
U32 = 0xFFFFFFFF
#: inflate at most this much per decompressor call
READ_CHUNK = 1 << 20
#: compression methods: stored, deflated, bzip2, LZMA
STORED, DEFLATED, BZIP2, LZMA = 0, 8, 12, 14
#: the only methods an OOXML package may use (ECMA-376 Part 2, annex C): the reader's default
OOXML_METHODS = frozenset({STORED, DEFLATED})
#: what zip tools on Windows may also write into an archive of workbooks
ARCHIVE_METHODS = frozenset({STORED, DEFLATED, BZIP2, LZMA})


class Zip64(Exception):
    """The package needs zip64 to be written (larger than 4 GB or more than 65,535 parts, or
    entries already stored with zip64 fields)."""


class Encrypted(Exception):
    """An entry is encrypted (zip encryption, not how Excel protects a workbook)."""


class ChecksFailed(Corrupt):
    """An entry's data inflated to more or fewer bytes than declared, or failed its CRC."""


@dataclass
class Entry:
    """One entry as the central directory describes it, plus where its data lies."""

    name: str  # as decoded (UTF-8 flag, else CP437)
    cd_raw: bytes  # the whole central directory record
    flags: int
    method: int
    mtime: int
    mdate: int
    crc: int
    csize: int
    usize: int
    ver_made: int
    ver_need: int
    iattr: int
    eattr: int
    name_raw: bytes
    comment: bytes
    extra: bytes
    local_offset: int  # absolute position of the local header in the file
    zip64: bool = False
    data_offset: int = 0
    record_end: int = 0
    located: bool = False  # the local header was found and the data lies inside the file

    @property
    def is_dir(self) -> bool:
        return self.name.endswith("/")

    @property
    def create_system(self) -> int:
        return self.ver_made >> 8


def extra_fields(extra: bytes):
    """(tag, body) of each field of a zip record's extra data, in order."""
    pos = 0
    while pos + 4 <= len(extra):
        tag, size = struct.unpack_from("<HH", extra, pos)
        yield tag, extra[pos + 4: pos + 4 + size]
        pos += 4 + size


def _zip64_extra(extra: bytes, usize: int, csize: int, offset: int) -> tuple[int, int, int]:
    """The sizes and offset from a zip64 extra field (0x0001), for those the record left at 0xFFFFFFFF."""
    for tag, body in extra_fields(extra):
        if tag == 1:
            values, at = [], 0
            for v in (usize, csize, offset):
                if v == U32:
                    if at + 8 > len(body):
                        raise Corrupt("压缩包目录不完整")
                    values.append(struct.unpack_from("<Q", body, at)[0])
                    at += 8
                else:
                    values.append(v)
            return values[0], values[1], values[2]
    raise Corrupt("压缩包目录不完整")


def end_of_directory(fh, size: int) -> tuple[int, int, int, int, bytes, bool]:
    """(entries, directory size, directory offset as recorded, where the end record starts,
    archive comment, zip64) of the zip in ``fh``; Corrupt when there is no end record."""
    tail_len = min(size, EOCD.size + 0xFFFF)
    fh.seek(size - tail_len)
    tail = fh.read(tail_len)
    at = tail.rfind(b"PK\x05\x06")
    while at >= 0:
        if at + EOCD.size <= len(tail):
            comment_len = EOCD.unpack_from(tail, at)[7]
            if at + EOCD.size + comment_len <= len(tail):
                break
        at = tail.rfind(b"PK\x05\x06", 0, at)
    if at < 0:
        raise Corrupt("找不到压缩包目录")
    eocd_pos = size - tail_len + at
    _, disk, cd_disk, n_here, n_total, cd_size, cd_offset, comment_len = EOCD.unpack_from(tail, at)
    comment = tail[at + EOCD.size: at + EOCD.size + comment_len]
    if eocd_pos >= ZIP64_LOCATOR.size:
        fh.seek(eocd_pos - ZIP64_LOCATOR.size)
        loc = fh.read(ZIP64_LOCATOR.size)
        if loc[:4] == b"PK\x06\x07":
            _, _disk, record_at, _disks = ZIP64_LOCATOR.unpack(loc)
            fh.seek(record_at)
            rec = fh.read(ZIP64_EOCD.size)
            if len(rec) != ZIP64_EOCD.size or rec[:4] != b"PK\x06\x06":
                raise Corrupt("压缩包目录记录错误")
            (_, _rsize, _made, _need, disk, cd_disk, n_here, n_total, cd_size, cd_offset) = ZIP64_EOCD.unpack(rec)
            if disk != 0 or cd_disk != 0 or n_here != n_total:
                raise Corrupt("分卷压缩包")
            return n_total, cd_size, cd_offset, record_at, comment, True
    if disk != 0 or cd_disk != 0 or n_here != n_total:
        raise Corrupt("分卷压缩包")
    return n_total, cd_size, cd_offset, eocd_pos, comment, False


def local_header_verdict(fh, local_offset: int, method: int, csize: int, usize: int, crc: int) -> str:
    """Whether an entry's local header agrees with the directory: ``"ok"``, ``"damaged"`` (no
    readable local header there) or ``"mismatch"`` (method, sizes or CRC differ).

    A reader that trusts the local header (streaming readers do) would inflate whatever size it
    claims; one that trusts the directory, another. A well-formed package says the same in both
    places, except that sizes may be deferred to a data descriptor (flag bit 3) or zip64 fields.
    Costs one 30-byte read."""
    try:
        fh.seek(local_offset)
        head = fh.read(LFH.size)
    except (OSError, ValueError):
        return "damaged"
    if len(head) != LFH.size or head[:4] != b"PK\x03\x04":
        return "damaged"
    _sig, _ver, flags, l_method, _t, _d, l_crc, l_csize, l_usize, _nlen, _elen = LFH.unpack(head)
    if flags & 0x08 or U32 in (l_csize, l_usize) or usize >= U32 or csize >= U32:
        return "ok"  # sizes in a data descriptor or zip64 fields: the directory is authoritative
    if l_method != method or (l_csize, l_usize, l_crc) != (csize, usize, crc):
        return "mismatch"
    return "ok"


class _Inflater:
    """One decompressor behind one interface, bounded per call: ``feed`` new compressed bytes,
    take ``more`` while output is ``pending`` for input already fed, ``finish`` at the end of
    the input. Errors of any decompressor become Corrupt."""

    def __init__(self, e: Entry, lzma_props: bytes = b""):
        self.name = e.name
        self.method = e.method
        self.eof = False
        if e.method == DEFLATED:
            self.d = zlib.decompressobj(-15)
        elif e.method == BZIP2:
            self.d = bz2.BZ2Decompressor()
        elif e.method == LZMA:
            self.d = lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=[_lzma1_filter(lzma_props, e.usize, e.name)])
        else:
            self.d = None

    def _run(self, raw: bytes, limit: int) -> bytes:
        try:
            data = self.d.decompress(raw, limit)
        except (zlib.error, OSError, EOFError, lzma.LZMAError, ValueError, MemoryError) as exc:
            raise Corrupt(f"部件“{self.name}”无法解压") from exc
        self.eof = self.d.eof
        return data

    def feed(self, raw: bytes, limit: int) -> bytes:
        return raw if self.d is None else self._run(raw, limit)

    def pending(self) -> bool:
        if self.d is None or self.eof:
            return False
        if self.method == DEFLATED:
            return bool(self.d.unconsumed_tail)
        return not self.d.needs_input

    def more(self, limit: int) -> bytes:
        return self._run(self.d.unconsumed_tail if self.method == DEFLATED else b"", limit)

    def finish(self) -> bytes:
        """Output still held for input already consumed (deflate only keeps some back)."""
        if self.method != DEFLATED or self.eof:
            return b""
        try:
            return self.d.flush()
        except zlib.error as exc:
            raise Corrupt(f"部件“{self.name}”无法解压") from exc


def _lzma1_filter(props: bytes, usize: int, name: str) -> dict:
    """The raw LZMA1 filter of a zip entry's 5 property bytes (lc/lp/pb packed in one byte, then
    the dictionary size). The dictionary is never made larger than the entry's declared size
    (no back reference can reach further), so a forged header cannot make the decoder allocate
    gigabytes for a few bytes of data."""
    if len(props) != 5 or props[0] >= 9 * 5 * 5:
        raise Corrupt(f"部件“{name}”无法解压")
    lc, rest = props[0] % 9, props[0] // 9
    lp, pb = rest % 5, rest // 5
    dict_size = struct.unpack("<I", props[1:5])[0]
    return {"id": lzma.FILTER_LZMA1, "lc": lc, "lp": lp, "pb": pb,
            "dict_size": max(4096, min(dict_size, usize))}


class ZipContainer:
    """The entries of a zip file, located without reading their data.

    :param fh: the file, open for binary reading (kept open by the caller).
    :param size: its size in bytes.
    :param max_entries: refuse (TooManyEntries) a directory announcing more entries than this,
        before reading it.
    :param methods: the compression methods :meth:`chunks` inflates; an entry stored with
        another is Corrupt when read. The default is what an OOXML package may use.
    :param strict: refuse (Corrupt) the whole zip when two entries have the same name (as OPC
        compares names) or an entry's local header cannot be found. With ``strict=False`` (an
        archive of workbooks, judged member by member) both are the caller's to judge:
        ``by_key`` keeps the first of equal names, and an entry without a local header has
        ``located`` False and is Corrupt when read.
    """

    def __init__(self, fh, size: int, max_entries: int | None = None, *,
                 methods: frozenset[int] = OOXML_METHODS, strict: bool = True):
        self.fh = fh
        self.size = size
        self.methods = methods
        self.strict = strict
        self.entries: list[Entry] = []
        self.by_key: dict[str, Entry] = {}
        self.zip64 = False
        self._parse(max_entries)

    def _read_at(self, pos: int, n: int) -> bytes:
        self.fh.seek(pos)
        data = self.fh.read(n)
        if len(data) != n:
            raise Corrupt("文件被截断")
        return data

    def _parse(self, max_entries: int | None) -> None:
        n_total, cd_size, cd_offset, end_at, self.comment, self.zip64 = end_of_directory(self.fh, self.size)
        if max_entries is not None and n_total > max_entries:
            raise TooManyEntries(n_total)
        concat = end_at - cd_size - cd_offset  # bytes prepended to the archive, if any
        if concat < 0:
            raise Corrupt("压缩包目录位置错误")
        cd = self._read_at(cd_offset + concat, cd_size)
        pos = 0
        for _ in range(n_total):
            if pos + CDH.size > len(cd):
                raise Corrupt("压缩包目录不完整")
            (sig, ver_made, ver_need, flags, method, mtime, mdate, crc, csize, usize,
             nlen, elen, clen, _disk, iattr, eattr, lho) = CDH.unpack_from(cd, pos)
            if sig != b"PK\x01\x02":
                raise Corrupt("压缩包目录记录错误")
            end = pos + CDH.size + nlen + elen + clen
            if end > len(cd):
                raise Corrupt("压缩包目录不完整")
            name_raw = cd[pos + CDH.size: pos + CDH.size + nlen]
            extra = cd[pos + CDH.size + nlen: pos + CDH.size + nlen + elen]
            zip64 = U32 in (csize, usize, lho)
            if zip64:
                usize, csize, lho = _zip64_extra(extra, usize, csize, lho)
                self.zip64 = True
            name = name_raw.decode("utf-8" if flags & 0x800 else "cp437", "replace")
            entry = Entry(name, cd[pos:end], flags, method, mtime, mdate, crc, csize, usize, ver_made, ver_need,
                          iattr, eattr, name_raw, cd[end - clen: end], extra, lho + concat, zip64)
            self.entries.append(entry)
            k = key(name)
            if k in self.by_key:
                if self.strict:
                    raise Corrupt(f"部件“{name}”重复")
            else:
                self.by_key[k] = entry
            pos = end
        for entry in self.entries:
            try:
                self._locate(entry)
            except Corrupt:
                if self.strict:
                    raise

    def _locate(self, e: Entry) -> None:
        head = self._read_at(e.local_offset, LFH.size) if e.local_offset + LFH.size <= self.size else b""
        if len(head) != LFH.size or head[:4] != b"PK\x03\x04":
            raise Corrupt(f"部件“{e.name}”的位置错误")
        nlen, elen = LFH.unpack(head)[9:11]
        e.data_offset = e.local_offset + LFH.size + nlen + elen
        e.record_end = e.data_offset + e.csize
        if e.flags & 0x08:  # data descriptor follows the data (optionally signed)
            probe = self._read_at(e.record_end, 4) if e.record_end + 4 <= self.size else b""
            e.record_end += (16 if probe == b"PK\x07\x08" else 12) + (8 if e.zip64 else 0)
        if e.record_end > self.size:
            raise Corrupt(f"部件“{e.name}”被截断")
        e.located = True

    def get(self, name: str) -> Entry | None:
        """The entry of part ``name`` (compared as OPC names are: case-insensitive, ``\\`` = ``/``)."""
        return self.by_key.get(key(name))

    def local_header_verdict(self, e: Entry) -> str:
        """See the module function: whether ``e``'s local header agrees with the directory."""
        return local_header_verdict(self.fh, e.local_offset, e.method, e.csize, e.usize, e.crc)

    def chunks(self, e: Entry, chunk: int = READ_CHUNK):
        """The inflated bytes of ``e`` in pieces of at most ``chunk`` bytes, never more than its
        declared size in all; Corrupt when its method is not one of the container's ``methods``,
        or the data is damaged; ChecksFailed when it inflates to more or fewer bytes than
        declared or fails its CRC (checked once the end is reached). Closing the generator
        early stops inflating."""
        if e.flags & 0x01:
            raise Encrypted()
        if e.method not in self.methods:
            raise Corrupt(f"部件“{e.name}”使用了不支持的压缩方式")
        if not e.located:
            raise Corrupt(f"部件“{e.name}”的位置错误")
        pos, remaining = e.data_offset, e.csize
        if e.method == LZMA:  # a 4-byte header (version, size of the properties), then the properties
            if remaining < 4:
                raise Corrupt(f"部件“{e.name}”无法解压")
            props_len = struct.unpack("<H", self._read_at(pos + 2, 2))[0]
            if remaining < 4 + props_len:
                raise Corrupt(f"部件“{e.name}”无法解压")
            props = self._read_at(pos + 4, props_len)
            pos, remaining = pos + 4 + props_len, remaining - 4 - props_len
            inflater = _Inflater(e, props)
        else:
            inflater = _Inflater(e)
        produced, crc = 0, 0
        while True:
            if inflater.pending():
                data = inflater.more(chunk)
            elif remaining:
                raw = self._read_at(pos, min(chunk, remaining))
                pos += len(raw)
                remaining -= len(raw)
                data = inflater.feed(raw, chunk)
            else:
                data = inflater.finish()
                remaining = -1  # nothing more to read
            produced += len(data)
            if produced > e.usize:
                raise ChecksFailed(f"部件“{e.name}”校验失败")
            crc = zlib.crc32(data, crc)
            if data:
                yield data
            if inflater.eof or remaining < 0:
                break
        if produced != e.usize or crc != e.crc:
            raise ChecksFailed(f"部件“{e.name}”校验失败")

    def read(self, e: Entry) -> bytes:
        """The inflated bytes of one entry (CRC checked, size bounded, inflated in bounded chunks)."""
        return b"".join(self.chunks(e))

    def iter_text(self, e: Entry, chunk: int = 1 << 16):
        """Inflate an entry incrementally, yielding UTF-8 text (for large parts read partly)."""
        dec = codecs.getincrementaldecoder("utf-8")("replace")
        for data in self.chunks(e, chunk):
            yield dec.decode(data)
        yield dec.decode(b"", final=True)


class TooManyEntries(Exception):
    """The directory announces more entries than the caller allows (``args[0]``: how many)."""


# -- writing ----------------------------------------------------------------------------

#: zlib level for the parts the toolkit writes: 3 deflates a 12,000-row ledger (5 MB of XML)
#: in ~30 ms vs ~65 ms at 6, for a part ~15 % larger.
DEFLATE_LEVEL = 3


def deflate(data: bytes) -> bytes:
    c = zlib.compressobj(DEFLATE_LEVEL, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def _dos_now() -> tuple[int, int]:
    """(time, date) of now in the zip's MS-DOS format."""
    t = time.localtime()
    return (t.tm_hour << 11) | (t.tm_min << 5) | (t.tm_sec // 2), ((t.tm_year - 1980) << 9) | (t.tm_mon << 5) | t.tm_mday


def _copy_range(src, out, offset: int, length: int, name: str) -> None:
    """Append bytes ``[offset, offset + length)`` of ``src`` to ``out`` (1 MB blocks)."""
    src.seek(offset)
    remaining = length
    while remaining:
        block = src.read(min(remaining, 1 << 20))
        if not block:
            raise Corrupt(f"部件“{name}”被截断")
        out.write(block)
        remaining -= len(block)


def write_package(zc: ZipContainer, replace: dict[str, bytes | None], out) -> None:
    """Write the package to ``out``: raw copies of untouched entries, new data for ``replace``.

    ``replace`` maps part keys (``opc.key``) to new bytes, or None to drop the part; names that
    are not in the package are added after its entries. Entry order and each entry's
    timestamps, attributes and comment are kept. Zip64 is never written (``Zip64``).
    """
    if zc.zip64:
        raise Zip64()
    pos = 0
    central: list[bytes] = []
    src = zc.fh
    for e in zc.entries:
        k = key(e.name)
        if k in replace:
            data = replace[k]
            if data is None:
                continue
            comp = deflate(data)
            crc = zlib.crc32(data)
            flags = e.flags & 0x0800  # keep only the UTF-8 name flag; no descriptor
            ver_need = max(e.ver_need, 20)
            local = LFH.pack(b"PK\x03\x04", ver_need, flags, 8, e.mtime, e.mdate, crc,
                             len(comp), len(data), len(e.name_raw), 0) + e.name_raw
            central.append(CDH.pack(b"PK\x01\x02", e.ver_made, ver_need, flags, 8, e.mtime, e.mdate,
                                    crc, len(comp), len(data), len(e.name_raw), 0, len(e.comment),
                                    0, e.iattr, e.eattr, pos) + e.name_raw + e.comment)
            out.write(local)
            out.write(comp)
            pos += len(local) + len(comp)
        else:
            central.append(e.cd_raw[:42] + struct.pack("<I", pos) + e.cd_raw[46:])
            _copy_range(src, out, e.local_offset, e.record_end - e.local_offset, e.name)
            pos += e.record_end - e.local_offset
        if pos > U32:
            raise Zip64()
    known = {key(e.name) for e in zc.entries}
    mtime, mdate = _dos_now()
    for name, data in replace.items():  # parts that are new (a sheet the workbook lacked)
        if name in known or data is None:
            continue
        raw_name = name.encode("ascii")  # the toolkit's own part names
        comp, crc = deflate(data), zlib.crc32(data)
        local = LFH.pack(b"PK\x03\x04", 20, 0, 8, mtime, mdate, crc, len(comp), len(data), len(raw_name), 0)
        central.append(CDH.pack(b"PK\x01\x02", 20, 20, 0, 8, mtime, mdate, crc, len(comp), len(data),
                                len(raw_name), 0, 0, 0, 0, 0, pos) + raw_name)
        out.write(local + raw_name)
        out.write(comp)
        pos += len(local) + len(raw_name) + len(comp)
        if pos > U32:
            raise Zip64()
    cd = b"".join(central)
    if len(central) > 0xFFFF or pos + len(cd) > U32:
        raise Zip64()
    out.write(cd)
    out.write(EOCD.pack(b"PK\x05\x06", 0, 0, len(central), len(central), len(cd), pos, len(zc.comment)))
    out.write(zc.comment)
