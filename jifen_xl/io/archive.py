"""Opening a zip of village workbooks safely (the township import takes such zips).

A township officer collects the villages' workbooks as a zip made on Windows (names in GBK
without the UTF-8 flag), on a Mac (``__MACOSX`` resource files), by WeChat or a web portal,
sometimes a zip of zips. :func:`open_archive` extracts only the workbooks and answers every
other member with a Chinese reason, member by member, without stopping at the first problem:

* entries pointing outside the destination (``..``, absolute paths, drive letters, through a
  backslash), symlinks and other special files, names Windows cannot hold;
* duplicates after normalisation (case, Unicode form, ``\\`` versus ``/``);
* encrypted members and compression methods other than stored, deflated, bzip2 and LZMA;
* bombs: a member larger than a workbook can be, an extreme compression ratio, more
  inflated bytes in total than the archive may yield, more members than it may hold, zips
  nested deeper than one level, headers whose sizes disagree;
* extraction streams through a hard cap on the bytes actually written (the declared size is
  not trusted), into a temporary file renamed into place only when complete (``safefile``).

Whole-archive problems (not a zip, a damaged or absurd directory) raise
:class:`~jifen_xl.errors.WorkbookUnreadable`. The zip is read by the package layer's container
(:class:`jifen_xl.ooxml.zip.ZipContainer`), the same one the workbook reader and writer use.
"""

from __future__ import annotations

import os
import re
import stat
import struct
import unicodedata
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ..errors import WorkbookUnreadable
from .. import safefile
from ..ooxml import zip as ooxzip
from ..ooxml.markup import Corrupt
from .package import MAX_RATIO, SPREADSHEET_SUFFIXES, os_reason

__all__ = ["ArchiveMember", "ArchiveLimits", "open_archive", "decode_member_name"]

OK = "ok"
REFUSED = "refused"


@dataclass(frozen=True)
class ArchiveMember:
    """What became of one member of the archive.

    :param name: the member's name as decoded (GBK names of Chinese Windows zips included);
        members of a nested zip are named ``outer.zip/inner.xlsx``.
    :param path: the extracted workbook, or None.
    :param status: ``"ok"`` (extracted) or ``"refused"`` (skipped or refused; see ``reason``).
    :param reason: why it was refused, in Chinese, naming the archive and the member; empty when ok.
    """

    name: str
    path: Path | None
    status: str
    reason: str = ""


@dataclass(frozen=True)
class ArchiveLimits:
    """What one archive may yield. The defaults fit a district's villages with room to spare."""

    #: inflated bytes of one workbook (a village-year is ~10 MB; photos can add some)
    member_bytes: int = 300_000_000
    #: bytes written for the whole archive, nested zips included
    total_bytes: int = 3_000_000_000
    #: members looked at (the rest are refused one by one)
    members: int = 10_000
    #: a directory announcing more entries than this is not even listed
    entries: int = 200_000
    #: inflated / compressed, for members larger than ``ratio_from`` bytes
    ratio: int = MAX_RATIO
    ratio_from: int = 1_000_000
    #: zips inside the zip are opened; zips inside those are not
    depth: int = 1


_CHUNK = 1 << 20
_WINDOWS_BAD = re.compile(r'[<>:"|?*\x00-\x1f]')
_WINDOWS_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$", re.I)
#: What a Chinese file name is made of besides ASCII: ideographs, CJK and full-width punctuation, "·", "—".
_CJK = re.compile(r"[\u00b7\u2010-\u2027\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]")


def decode_member_name(entry: ooxzip.Entry) -> str:
    """The member's real name.

    Zips made by Chinese Windows (Explorer, WinRAR, 360压缩, WeChat) store names in GBK (CP936)
    without the UTF-8 flag (bit 0x800), which a zip reader then decodes as CP437 (``ÓÀÄþËÂ``).
    The name is re-decoded: from the Info-ZIP Unicode Path extra field when present and
    matching; else as UTF-8 when the bytes are valid UTF-8 (macOS, 7-Zip without the flag); else
    as GBK / GB18030 when that yields Chinese text; else left as CP437. (A CP437 name whose
    bytes happen to spell Chinese, like ``Übersicht`` -> ``歜ersicht``, is read as Chinese: these
    are Chinese townships' zips.)

    :param entry: a directory entry of :class:`~jifen_xl.ooxml.zip.ZipContainer`.
    """
    raw, flags, extra = entry.name_raw, entry.flags, entry.extra
    if flags & 0x800:
        return raw.decode("utf-8", "replace")
    unicode_path = _unicode_path_field(extra, raw)
    if unicode_path is not None:
        return unicode_path
    if raw.isascii():
        return raw.decode("ascii")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    for encoding in ("gbk", "gb18030"):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        non_ascii = [ch for ch in text if not ch.isascii()]
        if non_ascii and all(_CJK.match(ch) for ch in non_ascii):
            return text
    return raw.decode("cp437")


def _unicode_path_field(extra: bytes, raw: bytes) -> str | None:
    """The Info-ZIP Unicode Path extra field (0x7075), if it belongs to these name bytes."""
    for tag, body in ooxzip.extra_fields(extra):
        if tag == 0x7075 and len(body) >= 5 and body[0] == 1:
            (crc,) = struct.unpack_from("<I", body, 1)
            if crc == zlib.crc32(raw):
                try:
                    return body[5:].decode("utf-8")
                except UnicodeDecodeError:
                    return None
    return None


@dataclass
class _Run:
    """State shared by an archive and the zips nested in it."""

    dest: Path  # real path of the destination folder
    limits: ArchiveLimits
    written: int = 0
    looked_at: int = 0
    seen: dict[str, str] = field(default_factory=dict)  # normalised relative path -> member name
    results: list[ArchiveMember] = field(default_factory=list)


def open_archive(zip_path: str | Path, dest_dir: str | Path, *, limits: ArchiveLimits | None = None
                 ) -> list[ArchiveMember]:
    """Extract the workbooks of zip ``zip_path`` into ``dest_dir``; say what became of every member.

    Members keep their folders (two villages may both send ``积分台账.xlsx``). Only
    ``.xlsx/.xlsm/.xls/.xlsb/.ods`` members are extracted, zips inside the zip are opened one
    level deep, and an existing file in ``dest_dir`` is never overwritten. Directories are not
    listed.

    :param zip_path: the archive.
    :param dest_dir: where the workbooks go (created if missing).
    :param limits: sizes and counts the archive may reach (default :class:`ArchiveLimits`).
    :raises WorkbookUnreadable: the archive is missing, not a zip, or its directory is damaged
        or absurd (more than ``limits.entries`` entries).
    """
    zip_path = Path(zip_path)
    limits = limits or ArchiveLimits()
    dest = Path(dest_dir)
    dest.mkdir(parents=True, exist_ok=True)
    run = _Run(Path(os.path.realpath(dest)), limits)
    zc = _open_zip(zip_path, zip_path.name, limits)
    with zc.fh:
        _extract_all(zc, zip_path.name, "", PurePosixPath(), 0, run)
    return run.results


# -- the whole archive ----------------------------------------------------------------

def _open_zip(path: Path, label: str, limits: ArchiveLimits) -> ooxzip.ZipContainer:
    """The archive's directory, read by the package layer (the caller closes ``.fh``)."""
    if not path.exists():
        raise WorkbookUnreadable(f"找不到压缩包「{path}」。请检查文件名和所在文件夹。")
    if not path.is_file():
        raise WorkbookUnreadable(f"「{path}」不是文件。请选择 .zip 压缩包。")
    with path.open("rb") as fh:
        head = fh.read(8)
    if head.startswith(b"Rar!\x1a\x07"):
        raise WorkbookUnreadable(f"压缩包「{label}」是 RAR 格式，工具只接受 zip 压缩包。{_REPACK}")
    if head.startswith(b"7z\xbc\xaf\x27\x1c"):
        raise WorkbookUnreadable(f"压缩包「{label}」是 7z 格式，工具只接受 zip 压缩包。{_REPACK}")
    if not head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        raise WorkbookUnreadable(f"文件「{label}」不是 zip 压缩包（可能已损坏或被改了扩展名）。{_REPACK}")
    fh = path.open("rb")
    try:
        # The end record's entry count is checked before one object per entry is built;
        # members are judged one by one (duplicates, missing local headers: see _extract_all).
        return ooxzip.ZipContainer(fh, os.fstat(fh.fileno()).st_size, limits.entries,
                                   methods=ooxzip.ARCHIVE_METHODS, strict=False)
    except ooxzip.TooManyEntries as exc:
        fh.close()
        raise WorkbookUnreadable(
            f"压缩包「{label}」声称含有 {exc.args[0]} 个文件，远超村级工作簿汇总的规模，已拒绝打开。请确认压缩包来源。"
        ) from exc
    except (Corrupt, OSError, ValueError, struct.error) as exc:
        fh.close()
        raise WorkbookUnreadable(_ARCHIVE_DAMAGED.format(label=label)) from exc
    except BaseException:
        fh.close()
        raise


_REPACK = "请在电脑上解压后，选中工作簿，右键→“发送到→压缩(zipped)文件夹”重新打包，再重试。"
_ARCHIVE_DAMAGED = "压缩包「{label}」已损坏（目录不完整），可能是复制或下载时中断。请从原处重新复制，或重新打包后再试。"


# -- members ----------------------------------------------------------------------------

def _extract_all(zc: ooxzip.ZipContainer, label: str, prefix: str, base: PurePosixPath, depth: int,
                 run: _Run) -> None:
    """Handle every member of ``zc`` (``label`` names the archive in messages; ``prefix`` and
    ``base`` place a nested zip's members)."""
    for entry in zc.entries:
        name = decode_member_name(entry)
        if entry.is_dir or name.endswith(("/", "\\")):
            continue
        shown = prefix + name
        where = f"压缩包「{label}」中的「{name}」"

        def refuse(reason: str) -> None:
            run.results.append(ArchiveMember(shown, None, REFUSED, where + reason))

        run.looked_at += 1
        if run.looked_at > run.limits.members:
            refuse(f"未处理：压缩包中的文件超过 {run.limits.members} 个。请分成几个压缩包后重试。")
            continue
        rel, problem = _safe_relative(name)
        if rel is None:
            refuse(problem)
            continue
        kind = _file_type(entry)
        if kind == "symlink":
            refuse("是符号链接（快捷方式），不是工作簿，已拒绝解压。请把真正的工作簿放进压缩包。")
            continue
        if kind == "special":
            refuse("不是普通文件（设备、管道等），已拒绝解压。请确认压缩包来源。")
            continue
        leaf = rel.name
        if rel.parts[0] == "__MACOSX" or leaf.startswith("._") or leaf == ".DS_Store":
            refuse("是苹果电脑打包时附带的资源文件，不是工作簿，已跳过。")
            continue
        if leaf.startswith(("~$", ".~lock.")):
            refuse("是 Excel、WPS 或 LibreOffice 打开工作簿时留下的临时锁定文件，不是工作簿，已跳过。")
            continue
        suffix = rel.suffix.lower()
        nested = suffix == ".zip"
        if not nested and suffix not in SPREADSHEET_SUFFIXES:
            refuse("不是工作簿（只解压 .xlsx、.xlsm、.xls、.xlsb、.ods 文件），已跳过。")
            continue
        if nested and depth >= run.limits.depth:
            refuse("是压缩包里又套的压缩包（超过一层），未解压。请把工作簿直接放进压缩包后重试。")
            continue
        target = base / (rel.with_suffix("") if nested else rel)
        key = unicodedata.normalize("NFC", str(target)).casefold()
        if key in run.seen:
            refuse(f"与前面的「{run.seen[key]}」重名（不区分大小写），已拒绝解压，以免覆盖。请把其中一个改名后重新打包。")
            continue
        run.seen[key] = shown
        problem = _check_declared(zc, entry, run)
        if problem:
            refuse(problem)
            continue
        if nested:
            _extract_nested(zc, entry, name, shown, target, depth, run, refuse)
            continue
        path, problem = _extract_one(zc, entry, target, run)
        if problem:
            refuse(problem)
        else:
            run.results.append(ArchiveMember(shown, path, OK))


def _safe_relative(name: str) -> tuple[PurePosixPath | None, str]:
    """The member's path below the destination, or None and the reason it has none."""
    text = unicodedata.normalize("NFC", name).replace("\\", "/")
    if "\x00" in text:
        return None, "的文件名含有空字符，已拒绝解压。请确认压缩包来源。"
    if text.startswith("/") or re.match(r"^[A-Za-z]:", text):
        return None, "指向压缩包以外的位置（绝对路径或盘符），已拒绝解压。请确认压缩包来源。"
    parts = [p for p in text.split("/") if p not in ("", ".")]
    if ".." in parts:
        return None, "指向压缩包以外的位置（路径中含有“..”），已拒绝解压。请确认压缩包来源。"
    if not parts:
        return None, "没有文件名，已跳过。"
    for part in parts:
        if _WINDOWS_BAD.search(part) or _WINDOWS_RESERVED.match(part) or part.endswith((" ", ".")) \
                or len(part.encode("utf-8")) > 255:
            return None, (f"的名称中「{part}」含有 Windows 不允许的字符、保留名或过长，已拒绝解压。"
                          "请把文件或文件夹改名后重新打包。")
    return PurePosixPath(*parts), ""


def _file_type(entry: ooxzip.Entry) -> str:
    """``regular``, ``symlink`` or ``special`` from the Unix mode in the external attributes."""
    if entry.create_system != 3:  # MS-DOS / NTFS attributes carry no file type
        return "regular"
    mode = entry.eattr >> 16
    kind = stat.S_IFMT(mode)
    if kind == stat.S_IFLNK:
        return "symlink"
    if kind in (0, stat.S_IFREG, stat.S_IFDIR):
        return "regular"
    return "special"


def _check_declared(zc: ooxzip.ZipContainer, entry: ooxzip.Entry, run: _Run) -> str:
    """Why the member must not be inflated, judged from its headers alone ("" if it may be)."""
    limits = run.limits
    if entry.flags & 0x01:
        return "设置了解压密码，工具无法解压。请先解压出来，再不设密码重新打包（工作簿的打开密码也请取消）后重试。"
    if entry.method not in zc.methods:
        return "使用了工具不支持的压缩方式。" + _REPACK
    if entry.usize > limits.member_bytes:
        return (f"解压后有 {_mb(entry.usize)}，超过单个文件 {_mb(limits.member_bytes)} 的上限，"
                "已拒绝解压。请确认文件来源。")
    if entry.usize > limits.ratio_from and entry.usize > limits.ratio * max(entry.csize, 1):
        return "压缩比异常（疑似“压缩炸弹”），已拒绝解压。请确认文件来源。"
    if run.written + entry.usize > limits.total_bytes:
        return (f"未解压：整个压缩包解压后将超过 {_mb(limits.total_bytes)} 的上限（疑似“压缩炸弹”）。"
                "请分成几个压缩包后重试。")
    verdict = zc.local_header_verdict(entry)
    if verdict == "damaged":
        return "已损坏（找不到文件头），未解压。请重新打包后重试。"
    if verdict == "mismatch":
        return "前后声明的大小不一致（疑似“压缩炸弹”或文件已损坏），已拒绝解压。请确认文件来源。"
    return ""


def _extract_one(zc: ooxzip.ZipContainer, entry: ooxzip.Entry, target: PurePosixPath, run: _Run
                 ) -> tuple[Path | None, str]:
    """Stream one member to ``dest/target`` through a hard cap; (path, "") or (None, reason)."""
    final = run.dest.joinpath(*target.parts)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return None, f"未解压：无法创建文件夹「{final.parent}」（{os_reason(exc)}）。"
    real_parent = Path(os.path.realpath(final.parent))
    if real_parent != run.dest and run.dest not in real_parent.parents:
        return None, "指向目标文件夹以外的位置（经由已有的链接），已拒绝解压。请换一个空文件夹重试。"
    if final.exists() or final.is_symlink():
        return None, f"未解压：目标位置已有同名文件「{final}」，工具不会覆盖它。请换一个空文件夹重试。"
    cap = min(entry.usize, run.limits.member_bytes, run.limits.total_bytes - run.written)
    written = 0

    def stream(out) -> None:
        # The container never yields more than the declared size and checks size and CRC at
        # the end; the cap also holds the member and total limits. Closing stops inflating.
        nonlocal written
        blocks = zc.chunks(entry, _CHUNK)
        try:
            for block in blocks:
                written += len(block)
                if written > cap:
                    raise _TooMuch
                out.write(block)
        finally:
            blocks.close()

    try:  # a temporary file beside it, fsynced, renamed into place only when complete (safefile)
        temp = safefile.write_temp(final, stream)
        if not safefile.rename_no_clobber(Path(temp), final):
            Path(temp).unlink(missing_ok=True)
            return None, f"未解压：目标位置已有同名文件「{final}」，工具不会覆盖它。请换一个空文件夹重试。"
        safefile.fsync_dir(final.parent)
    except _TooMuch:
        return None, "实际解压出的数据比声明的多（疑似“压缩炸弹”），已停止解压并删除。请确认文件来源。"
    except (Corrupt, ooxzip.Encrypted, ValueError) as exc:
        return None, f"已损坏（{_zip_reason(exc)}），未解压。请重新打包后重试。"
    except OSError as exc:
        return None, f"写入「{final}」失败（{os_reason(exc)}），已删除未写完的文件。"
    finally:
        run.written += written
    return final, ""


def _extract_nested(zc, entry, name, shown, target, depth, run, refuse) -> None:
    """A zip inside the zip: extract it to a temporary file, open its workbooks, delete it."""
    holder = target.with_name(f".{target.name}.jifen-nested.zip")
    path, problem = _extract_one(zc, entry, holder, run)
    if problem:
        refuse(problem)
        return
    try:
        try:
            inner = _open_zip(path, name, run.limits)
        except WorkbookUnreadable as exc:
            refuse(f"不是可以打开的 zip 压缩包：{exc}")
            return
        with inner.fh:
            _extract_all(inner, name, shown + "/", target, depth + 1, run)
    finally:
        path.unlink(missing_ok=True)


def _mb(n: int) -> str:
    return f"{n / 1e6:.0f} MB" if n >= 10_000_000 else f"{n / 1e6:.1f} MB"


class _TooMuch(Exception):
    """Internal: a member inflated past its cap."""


def _zip_reason(exc: Exception) -> str:
    """What the container found wrong with a member's data, in a few Chinese words."""
    if isinstance(exc, ooxzip.ChecksFailed):
        return "校验失败"
    if isinstance(exc, ooxzip.Encrypted):
        return "已加密"
    return "数据不完整"
