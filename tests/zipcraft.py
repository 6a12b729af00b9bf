"""Zip files written byte by byte, so tests can build what no honest zip library would:
sizes that lie (in the local header, the directory, or both), members that inflate to
gigabytes from a few kilobytes, names in GBK without the UTF-8 flag, symlink attributes,
encrypted flags. Nothing here inflates a bomb: repeated data is deflated once and the
compressed segment repeated.
"""

from __future__ import annotations

import shutil
import struct
import zipfile
import zlib
from dataclasses import dataclass, replace
from pathlib import Path

__all__ = ["Member", "member", "bomb", "write_zip", "members_of", "rewrite_members"]


@dataclass(frozen=True)
class Member:
    """One entry as stored: ``data`` is what lies in the file (compressed when ``method`` is 8)."""

    name: bytes
    data: bytes
    crc: int
    size: int  # the true inflated size
    method: int = 8
    flags: int = 0
    local_size: int | None = None  # what the local header claims (default: the truth)
    central_size: int | None = None  # what the central directory claims (default: the truth)
    external_attr: int = 0
    create_system: int = 0  # 0 = MS-DOS, 3 = Unix (external_attr then holds st_mode << 16)
    extra: bytes = b""


def _deflate(data: bytes) -> bytes:
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def _name(name: str | bytes) -> bytes:
    return name if isinstance(name, bytes) else name.encode("utf-8")


def member(name: str | bytes, data: bytes, *, stored: bool = False, **kw) -> Member:
    """An honest member (flag 0x800 is set for non-ASCII str names unless ``flags`` is given)."""
    raw = _name(name)
    flags = kw.pop("flags", 0x800 if isinstance(name, str) and not name.isascii() else 0)
    return Member(raw, data if stored else _deflate(data), zlib.crc32(data), len(data),
                  method=0 if stored else 8, flags=flags, **kw)


def bomb(name: str | bytes, head: bytes, chunk: bytes, copies: int, tail: bytes = b"", **kw) -> Member:
    """A member inflating to ``head + chunk * copies + tail``, built without inflating it.

    Each ``chunk`` is deflated once, ending on a full flush (byte-aligned, no back references),
    and the compressed segment is repeated ``copies`` times.
    """
    def segment(b: bytes) -> bytes:
        c = zlib.compressobj(9, zlib.DEFLATED, -15)
        return c.compress(b) + c.flush(zlib.Z_FULL_FLUSH)

    last = zlib.compressobj(9, zlib.DEFLATED, -15)
    data = segment(head) + segment(chunk) * copies + last.compress(tail) + last.flush()
    crc = zlib.crc32(head)
    for _ in range(copies):
        crc = zlib.crc32(chunk, crc)
    crc = zlib.crc32(tail, crc)
    return Member(_name(name), data, crc, len(head) + len(chunk) * copies + len(tail), **kw)


def write_zip(path: Path, members: list[Member], comment: bytes = b"") -> Path:
    """Write ``members`` as a zip file, each header saying exactly what the member says."""
    out = bytearray()
    central = bytearray()
    for m in members:
        offset = len(out)
        lsize = m.size if m.local_size is None else m.local_size
        csize = m.size if m.central_size is None else m.central_size
        out += struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, m.flags, m.method, 0, 0x21, m.crc,
                           len(m.data), lsize, len(m.name), len(m.extra)) + m.name + m.extra + m.data
        central += struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", (m.create_system << 8) | 20, 20,
                               m.flags, m.method, 0, 0x21, m.crc, len(m.data), csize, len(m.name),
                               len(m.extra), 0, 0, 0, m.external_attr, offset) + m.name + m.extra
    cd_offset = len(out)
    out += central
    out += struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(members), len(members), len(central),
                       cd_offset, len(comment)) + comment
    Path(path).write_bytes(bytes(out))
    return Path(path)


def members_of(path: Path) -> list[Member]:
    """The members of an honest zip file, re-deflated (names as stored, order kept)."""
    with zipfile.ZipFile(path) as zf:
        return [member(info.filename, zf.read(info)) for info in zf.infolist()]


def rewrite_members(src: Path, dest: Path, edits: dict[str, object], extra: list[Member] = ()) -> Path:
    """Copy zip ``src`` to ``dest`` with some members changed.

    ``edits`` maps a member name to new bytes, to a function of the old bytes, to a ready
    ``Member`` (written as is, e.g. a bomb), or to None (dropped). ``extra`` members are appended.
    """
    if Path(src) != Path(dest):
        shutil.copyfile(src, dest)
    out = []
    with zipfile.ZipFile(dest) as zf:
        infos = zf.infolist()
        old = {info.filename: zf.read(info) for info in infos}
    for info in infos:
        edit = edits.get(info.filename, old[info.filename])
        if edit is None:
            continue
        if isinstance(edit, Member):
            out.append(replace(edit, name=_name(info.filename)) if not edit.name else edit)
            continue
        data = edit(old[info.filename]) if callable(edit) else edit
        out.append(member(info.filename, data))
    return write_zip(dest, out + list(extra))
