"""Opening a zip of village workbooks (jifen_xl.io.archive), with hostile zips built here."""

from __future__ import annotations

import os
import shutil
import stat
import struct
import time
import zipfile
import zlib
from pathlib import Path

import pytest

from jifen_xl import app
from jifen_xl.errors import WorkbookUnreadable
from jifen_xl.io.archive import ArchiveLimits, decode_member_name, open_archive
from jifen_xl.ooxml.zip import ZipContainer

from . import village_data as V
from .conftest import TODAY, build
from .zipcraft import Member, bomb, member, write_zip

VILLAGES = ["永宁寺村", "石井坡村", "凤凰村"]


@pytest.fixture(scope="module")
def workbooks(tmp_path_factory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("villages")
    out = {}
    for village in VILLAGES:
        path = build(folder / f"{village}.xlsx", settings=dict(V.SETTINGS, village=village))
        out[village] = path.read_bytes()
    return out


def by_name(results) -> dict[str, object]:
    return {r.name: r for r in results}


def files_under(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


def unicode_path_extra(raw: bytes, text: str) -> bytes:
    body = b"\x01" + struct.pack("<I", zlib.crc32(raw)) + text.encode("utf-8")
    return struct.pack("<HH", 0x7075, len(body)) + body


# --- the happy path -----------------------------------------------------------------

def test_three_village_workbooks_come_out_readable(tmp_path, workbooks):
    a, b, c = (workbooks[v] for v in VILLAGES)
    zpath = write_zip(tmp_path / "中梁镇2026.zip", [
        Member(b"2026\xc4\xea/", b"", 0, 0),  # a folder entry, GBK "2026年/"
        member("2026年/永宁寺村.xlsx".encode("gbk"), a),  # Chinese Windows: GBK, no UTF-8 flag
        member("石井坡村/石井坡村.xlsx", b),  # UTF-8 flag set
        member("2026年\\凤凰村.xlsx".encode("gbk"), c),  # PowerShell 5: backslash separators
        member("说明.txt".encode("gbk"), "请于月底前上报".encode("gbk")),
        member("__MACOSX/2026年/._永宁寺村.xlsx", b"\x00\x05\x16\x07"),
        member("2026年/~$永宁寺村.xlsx".encode("gbk"), b"\x06WPS"),
    ])
    dest = tmp_path / "导入"
    results = by_name(open_archive(zpath, dest))
    assert list(results) == ["2026年/永宁寺村.xlsx", "石井坡村/石井坡村.xlsx", "2026年\\凤凰村.xlsx", "说明.txt",
                             "__MACOSX/2026年/._永宁寺村.xlsx", "2026年/~$永宁寺村.xlsx"]
    ok = {n: r for n, r in results.items() if r.status == "ok"}
    assert set(ok) == {"2026年/永宁寺村.xlsx", "石井坡村/石井坡村.xlsx", "2026年\\凤凰村.xlsx"}
    assert files_under(dest) == {"2026年/永宁寺村.xlsx", "石井坡村/石井坡村.xlsx", "2026年/凤凰村.xlsx"}
    for name, data in zip(ok, (a, b, c)):
        assert ok[name].reason == "" and ok[name].path.read_bytes() == data
        loaded, report = app.check(app.open_backend(ok[name].path), today=TODAY)
        assert report.valid and loaded.village.settings["village"] in VILLAGES
    assert results["说明.txt"].reason == (
        "压缩包「中梁镇2026.zip」中的「说明.txt」不是工作簿（只解压 .xlsx、.xlsm、.xls、.xlsb、.ods 文件），已跳过。")
    assert results["__MACOSX/2026年/._永宁寺村.xlsx"].reason.endswith("是苹果电脑打包时附带的资源文件，不是工作簿，已跳过。")
    assert "临时锁定文件" in results["2026年/~$永宁寺村.xlsx"].reason
    assert all(r.status == "refused" and r.path is None for n, r in results.items() if n not in ok)


@pytest.mark.parametrize("raw, flags, extra, want", [
    ("永宁寺村.xlsx".encode("gbk"), 0, b"", "永宁寺村.xlsx"),
    ("歌乐山镇·二〇二六（汇总）.xlsx".encode("gb18030"), 0, b"", "歌乐山镇·二〇二六（汇总）.xlsx"),
    ("永宁寺村.xlsx".encode("utf-8"), 0, b"", "永宁寺村.xlsx"),  # macOS / 7-Zip: UTF-8 without the flag
    ("永宁寺村.xlsx".encode("utf-8"), 0x800, b"", "永宁寺村.xlsx"),
    ("café.xlsx".encode("cp437"), 0, b"", "café.xlsx"),  # a real CP437 name stays (not GBK text)
    (b"ABC.xlsx", 0, b"", "ABC.xlsx"),
    ("永宁寺村.xlsx".encode("gbk"), 0, unicode_path_extra("永宁寺村.xlsx".encode("gbk"), "永宁寺村.xlsx"), "永宁寺村.xlsx"),
])
def test_member_names_are_decoded(tmp_path, raw, flags, extra, want):
    path = write_zip(tmp_path / "n.zip", [member(raw, b"x", flags=flags, extra=extra)])
    with open(path, "rb") as fh:
        assert decode_member_name(ZipContainer(fh, path.stat().st_size).entries[0]) == want


# --- hostile members: each refused with a reason, the others still extracted ---------------

def test_every_hostile_member_is_refused_and_the_good_one_extracted(tmp_path, workbooks):
    good = workbooks["永宁寺村"]
    link = Member(b"link.xlsx", b"/etc/passwd", zlib.crc32(b"/etc/passwd"), 11, method=0,
                  create_system=3, external_attr=(stat.S_IFLNK | 0o777) << 16)
    fifo = Member(b"fifo.xlsx", b"", 0, 0, method=0, create_system=3, external_attr=(stat.S_IFIFO | 0o644) << 16)
    zeros = bomb("bomb.xlsx", b"", b"\0" * (1 << 20), 200)  # 200 MB from ~200 KB
    liar = bomb("liar.xlsx", b"", b"\0" * (1 << 20), 50, local_size=4096, central_size=4096)
    local_liar = bomb("local_liar.xlsx", b"PK", b"x" * 1000, 50, local_size=10)
    enc = member("enc.xlsx", good, flags=0x01)
    deflate64 = Member(b"d64.xlsx", b"\x00" * 10, 0, 10, method=9)
    zpath = write_zip(tmp_path / "hostile.zip", [
        member("../evil.xlsx", good), member("/abs.xlsx", good), member("C:\\evil.xlsx", good),
        member("xl\\..\\..\\evil.xlsx", good), member("a/./../../evil.xlsx", good),
        link, fifo, member("村A/永宁寺村.xlsx", good), member("村a/永宁寺村.XLSX", good),
        member("con.xlsx", good), member("名册?.xlsx", good), member("村委 /名册.xlsx", good),
        zeros, liar, local_liar, enc, deflate64,
        member("好/永宁寺村.xlsx", good),
    ])
    dest = tmp_path / "导入"
    start = time.perf_counter()
    results = by_name(open_archive(zpath, dest))
    assert time.perf_counter() - start < 5
    ok = [n for n, r in results.items() if r.status == "ok"]
    assert ok == ["村A/永宁寺村.xlsx", "好/永宁寺村.xlsx"]
    assert files_under(dest) == {"村A/永宁寺村.xlsx", "好/永宁寺村.xlsx"}
    assert not (tmp_path / "evil.xlsx").exists() and not Path("/abs.xlsx").exists()

    def reason(name):
        r = results[name]
        assert r.status == "refused" and r.path is None and r.reason.startswith(f"压缩包「hostile.zip」中的「{name}」")
        return r.reason[len(f"压缩包「hostile.zip」中的「{name}」"):]

    for name in ("../evil.xlsx", "xl\\..\\..\\evil.xlsx", "a/./../../evil.xlsx"):
        assert reason(name) == "指向压缩包以外的位置（路径中含有“..”），已拒绝解压。请确认压缩包来源。"
    for name in ("/abs.xlsx", "C:\\evil.xlsx"):
        assert reason(name) == "指向压缩包以外的位置（绝对路径或盘符），已拒绝解压。请确认压缩包来源。"
    assert reason("link.xlsx") == "是符号链接（快捷方式），不是工作簿，已拒绝解压。请把真正的工作簿放进压缩包。"
    assert reason("fifo.xlsx").startswith("不是普通文件")
    assert reason("村a/永宁寺村.XLSX") == (
        "与前面的「村A/永宁寺村.xlsx」重名（不区分大小写），已拒绝解压，以免覆盖。请把其中一个改名后重新打包。")
    for name in ("con.xlsx", "名册?.xlsx", "村委 /名册.xlsx"):
        assert "含有 Windows 不允许的字符、保留名或过长" in reason(name)
    assert reason("bomb.xlsx") == "压缩比异常（疑似“压缩炸弹”），已拒绝解压。请确认文件来源。"
    assert reason("liar.xlsx") == "已损坏（校验失败），未解压。请重新打包后重试。"
    assert reason("local_liar.xlsx") == "前后声明的大小不一致（疑似“压缩炸弹”或文件已损坏），已拒绝解压。请确认文件来源。"
    assert reason("enc.xlsx").startswith("设置了解压密码，工具无法解压。")
    assert reason("d64.xlsx").startswith("使用了工具不支持的压缩方式。")
    assert not list(dest.rglob("*.jifen-part")) and not list(dest.rglob("*.jifen-tmp"))


def test_size_total_and_count_limits(tmp_path):
    blob = os.urandom(400_000)  # incompressible
    zpath = write_zip(tmp_path / "大.zip", [member(f"{i}.xlsx", blob) for i in range(6)])
    limits = ArchiveLimits(member_bytes=500_000, total_bytes=1_000_000, members=4)
    results = open_archive(zpath, tmp_path / "out", limits=limits)
    assert [r.status for r in results] == ["ok", "ok", "refused", "refused", "refused", "refused"]
    assert "将超过 1.0 MB 的上限" in results[2].reason
    assert results[4].reason.endswith("未处理：压缩包中的文件超过 4 个。请分成几个压缩包后重试。")
    small = ArchiveLimits(member_bytes=100_000)
    one = open_archive(zpath, tmp_path / "out2", limits=small)[0]
    assert one.reason == "压缩包「大.zip」中的「0.xlsx」解压后有 0.4 MB，超过单个文件 0.1 MB 的上限，已拒绝解压。请确认文件来源。"


def test_nested_zips_one_level_deep(tmp_path, workbooks):
    good = workbooks["石井坡村"]
    deepest = write_zip(tmp_path / "c.zip", [member("深.xlsx", good)]).read_bytes()
    inner = write_zip(tmp_path / "b.zip", [member("石井坡村.xlsx", good), member("再套.zip", deepest),
                                           member("../逃.xlsx", good)]).read_bytes()
    zpath = write_zip(tmp_path / "a.zip", [member("村委/石井坡村.zip".encode("gbk"), inner),
                                          member("坏.zip", b"PK\x03\x04 not really")])
    dest = tmp_path / "out"
    results = by_name(open_archive(zpath, dest))
    assert results["村委/石井坡村.zip/石井坡村.xlsx"].status == "ok"
    assert results["村委/石井坡村.zip/石井坡村.xlsx"].path == dest / "村委" / "石井坡村" / "石井坡村.xlsx"
    assert results["村委/石井坡村.zip/再套.zip"].reason == (
        "压缩包「村委/石井坡村.zip」中的「再套.zip」是压缩包里又套的压缩包（超过一层），未解压。请把工作簿直接放进压缩包后重试。")
    assert "指向压缩包以外的位置" in results["村委/石井坡村.zip/../逃.xlsx"].reason
    assert results["坏.zip"].status == "refused" and "不是可以打开的 zip 压缩包" in results["坏.zip"].reason
    assert files_under(dest) == {"村委/石井坡村/石井坡村.xlsx"}  # the nested zips themselves are gone


def test_nested_bombs_share_the_total_budget(tmp_path):
    blob = os.urandom(300_000)
    inner = write_zip(tmp_path / "in.zip", [member(f"{i}.xlsx", blob) for i in range(5)]).read_bytes()
    zpath = write_zip(tmp_path / "out.zip", [member(f"{i}.zip", inner) for i in range(3)])
    results = open_archive(zpath, tmp_path / "x", limits=ArchiveLimits(total_bytes=3_000_000))
    written = sum(r.path.stat().st_size for r in results if r.path)
    assert written <= 3_000_000
    assert any("上限" in r.reason for r in results)


def test_never_overwrites_and_never_follows_a_link_out(tmp_path, workbooks):
    good = workbooks["凤凰村"]
    dest = tmp_path / "out"
    (dest / "已有").mkdir(parents=True)
    (dest / "已有" / "凤凰村.xlsx").write_bytes(b"clerk's own")
    outside = tmp_path / "outside"
    outside.mkdir()
    (dest / "链接").symlink_to(outside, target_is_directory=True)
    zpath = write_zip(tmp_path / "z.zip", [member("已有/凤凰村.xlsx", good), member("链接/凤凰村.xlsx", good)])
    results = by_name(open_archive(zpath, dest))
    assert "目标位置已有同名文件" in results["已有/凤凰村.xlsx"].reason
    assert (dest / "已有" / "凤凰村.xlsx").read_bytes() == b"clerk's own"
    assert "经由已有的链接" in results["链接/凤凰村.xlsx"].reason
    assert list(outside.iterdir()) == []


# --- whole-archive refusals ---------------------------------------------------------------

@pytest.mark.parametrize("name, data, start", [
    ("汇总.zip", "户号,户主姓名\n".encode("gbk"), "文件「汇总.zip」不是 zip 压缩包"),
    ("汇总.zip", b"Rar!\x1a\x07\x01\x00" + b"\0" * 40, "压缩包「汇总.zip」是 RAR 格式，工具只接受 zip 压缩包。"),
    ("汇总.zip", b"7z\xbc\xaf\x27\x1c" + b"\0" * 40, "压缩包「汇总.zip」是 7z 格式，工具只接受 zip 压缩包。"),
])
def test_not_a_zip(tmp_path, name, data, start):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(WorkbookUnreadable) as info:
        open_archive(path, tmp_path / "out")
    assert str(info.value).startswith(start) and "重新打包" in str(info.value)


def test_truncated_and_absurd_directories(tmp_path, workbooks):
    whole = write_zip(tmp_path / "z.zip", [member("a.xlsx", workbooks["永宁寺村"])]).read_bytes()
    cut = tmp_path / "半截.zip"
    cut.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(WorkbookUnreadable) as info:
        open_archive(cut, tmp_path / "out")
    assert str(info.value).startswith("压缩包「半截.zip」已损坏（目录不完整）")
    # An end record announcing 300,000 entries is refused before any of them is listed.
    liar = tmp_path / "很多.zip"
    eocd = whole.rfind(b"PK\x05\x06")
    liar.write_bytes(whole[:eocd] + b"PK\x05\x06" + struct.pack("<HHHH", 0, 0, 0xFFFF, 0xFFFF) + whole[eocd + 12:])
    zip64 = struct.pack("<4sQHHIIQQQQ", b"PK\x06\x06", 44, 45, 45, 0, 0, 300_000, 300_000, 0, 0)
    locator = struct.pack("<4sIQI", b"PK\x06\x07", 0, eocd, 1)
    data = liar.read_bytes()
    liar.write_bytes(data[:eocd] + zip64 + locator + data[eocd:])
    with pytest.raises(WorkbookUnreadable) as info:
        open_archive(liar, tmp_path / "out")
    assert "声称含有 300000 个文件" in str(info.value)


def test_missing_archive(tmp_path):
    with pytest.raises(WorkbookUnreadable) as info:
        open_archive(tmp_path / "没有.zip", tmp_path / "out")
    assert str(info.value).startswith("找不到压缩包")


def test_empty_archive(tmp_path):
    assert open_archive(write_zip(tmp_path / "空.zip", []), tmp_path / "out") == []


def test_destination_full_leaves_no_partial_file(tmp_path, workbooks):
    """A member that cannot be written completely (here: a folder we cannot create) is refused
    and leaves nothing behind; the others still come out."""
    good = workbooks["永宁寺村"]
    dest = tmp_path / "out"
    dest.mkdir()
    (dest / "占用").write_bytes(b"a file where a folder should go")
    zpath = write_zip(tmp_path / "z.zip", [member("占用/甲.xlsx", good), member("乙.xlsx", good)])
    results = by_name(open_archive(zpath, dest))
    assert results["占用/甲.xlsx"].status == "refused" and "无法创建文件夹" in results["占用/甲.xlsx"].reason
    assert results["乙.xlsx"].status == "ok"
    assert files_under(dest) == {"占用", "乙.xlsx"}


def test_extraction_is_streamed_not_held(tmp_path):
    # An honest 150 MB member (ratio ~100, under the bomb limit) streams through 1 MB blocks.
    import resource

    chunk = os.urandom(5_000) + b"\0" * 995_000  # ~1 MB that deflates ~100:1
    big = bomb("大.xlsx", b"", chunk, 150)
    zpath = write_zip(tmp_path / "z.zip", [big])
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    [result] = open_archive(zpath, tmp_path / "out")
    assert result.status == "ok" and result.path.stat().st_size == big.size
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100_000  # KiB
    shutil.rmtree(tmp_path / "out")


# --- bzip2 and LZMA members (Windows zip tools write them), through the package layer's container ---

METHODS = [zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA]


def stdlib_zip(path: Path, members: dict[str, bytes], method: int) -> Path:
    """A zip written by the standard library's own writer (not by zipcraft)."""
    with zipfile.ZipFile(path, "w", compression=method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def single_member_offsets(path: Path) -> tuple[int, int]:
    """(local header, central directory record) offsets of a one-member zip without a comment."""
    data = path.read_bytes()
    (cd_offset,) = struct.unpack_from("<I", data, len(data) - 22 + 16)
    assert data[:4] == b"PK\x03\x04" and data[cd_offset:cd_offset + 4] == b"PK\x01\x02"
    return 0, cd_offset


@pytest.mark.parametrize("method", METHODS, ids=["deflated", "bzip2", "lzma"])
def test_bzip2_and_lzma_members_are_extracted_and_imported_like_deflated_ones(tmp_path, workbooks, method):
    a, b = workbooks["永宁寺村"], workbooks["凤凰村"]
    zpath = stdlib_zip(tmp_path / "乡镇.zip", {"2026年/永宁寺村.xlsx": a, "凤凰村.xlsx": b, "说明.txt": b"x"}, method)
    with zipfile.ZipFile(zpath) as zf:
        assert {i.compress_type for i in zf.infolist()} == {method}
    results = by_name(open_archive(zpath, tmp_path / "导入"))
    assert [r.status for r in results.values()] == ["ok", "ok", "refused"]
    for name, data in (("2026年/永宁寺村.xlsx", a), ("凤凰村.xlsx", b)):
        assert results[name].reason == "" and results[name].path.read_bytes() == data
        loaded, report = app.check(app.open_backend(results[name].path), today=TODAY)
        assert report.valid and loaded.village.settings["village"] in VILLAGES


@pytest.mark.parametrize("method", METHODS[1:], ids=["bzip2", "lzma"])
def test_a_zip_inside_the_zip_may_use_bzip2_or_lzma(tmp_path, workbooks, method):
    inner = stdlib_zip(tmp_path / "in.zip", {"石井坡村.xlsx": workbooks["石井坡村"]}, method).read_bytes()
    zpath = stdlib_zip(tmp_path / "out.zip", {"村委.zip": inner}, method)
    [result] = open_archive(zpath, tmp_path / "导入")
    assert result.name == "村委.zip/石井坡村.xlsx" and result.status == "ok"
    assert result.path.read_bytes() == workbooks["石井坡村"]


def test_a_bzip2_bomb_is_refused_by_its_ratio(tmp_path, workbooks):
    zpath = tmp_path / "炸弹.zip"
    with zipfile.ZipFile(zpath, "w", compression=zipfile.ZIP_BZIP2) as zf:
        with zf.open("bomb.xlsx", "w") as out:  # 20 MB of zeros, ~100 bytes compressed
            for _ in range(20):
                out.write(b"\0" * 1_000_000)
        zf.writestr("好.xlsx", workbooks["永宁寺村"])
    results = by_name(open_archive(zpath, tmp_path / "导入"))
    assert results["bomb.xlsx"].reason == (
        "压缩包「炸弹.zip」中的「bomb.xlsx」压缩比异常（疑似“压缩炸弹”），已拒绝解压。请确认文件来源。")
    assert results["好.xlsx"].status == "ok"
    assert files_under(tmp_path / "导入") == {"好.xlsx"}


def test_a_bzip2_member_inflating_past_its_declared_size_is_stopped(tmp_path):
    """Both headers claim 4 KB; the data inflates to 20 MB. Inflating stops after the first
    bounded chunk instead of producing 20 MB, and nothing is left behind."""
    import bz2

    zeros = b"\0" * 20_000_000
    liar = Member(b"liar.xlsx", bz2.compress(zeros), zlib.crc32(zeros), len(zeros), method=12,
                  local_size=4096, central_size=4096)
    zpath = write_zip(tmp_path / "z.zip", [liar])
    start = time.perf_counter()
    [result] = open_archive(zpath, tmp_path / "导入")
    assert time.perf_counter() - start < 2
    assert result.reason == "压缩包「z.zip」中的「liar.xlsx」已损坏（校验失败），未解压。请重新打包后重试。"
    assert files_under(tmp_path / "导入") == set()


@pytest.mark.parametrize("method", [zipfile.ZIP_STORED] + METHODS, ids=["stored", "deflated", "bzip2", "lzma"])
def test_a_corrupted_crc_is_refused(tmp_path, workbooks, method):
    zpath = stdlib_zip(tmp_path / "坏.zip", {"永宁寺村.xlsx": workbooks["永宁寺村"]}, method)
    local, central = single_member_offsets(zpath)
    data = bytearray(zpath.read_bytes())
    (crc,) = struct.unpack_from("<I", data, local + 14)
    for at in (local + 14, central + 16):  # both headers agree on the wrong CRC
        struct.pack_into("<I", data, at, crc ^ 0x5A5A5A5A)
    zpath.write_bytes(bytes(data))
    [result] = open_archive(zpath, tmp_path / "导入")
    assert result.status == "refused" and result.path is None
    assert result.reason == "压缩包「坏.zip」中的「永宁寺村.xlsx」已损坏（校验失败），未解压。请重新打包后重试。"
    assert files_under(tmp_path / "导入") == set()


def test_damaged_bzip2_and_lzma_data_is_refused(tmp_path, workbooks):
    zpaths = []
    for method, name in ((zipfile.ZIP_BZIP2, "b.zip"), (zipfile.ZIP_LZMA, "l.zip")):
        zpath = stdlib_zip(tmp_path / name, {"永宁寺村.xlsx": workbooks["永宁寺村"]}, method)
        data = bytearray(zpath.read_bytes())
        start = 30 + len("永宁寺村.xlsx".encode("utf-8")) + 20  # inside the compressed stream
        for i in range(start, start + 64):
            data[i] ^= 0xFF
        zpath.write_bytes(bytes(data))
        zpaths.append(zpath)
    for zpath in zpaths:
        [result] = open_archive(zpath, tmp_path / "导入")
        assert result.status == "refused" and result.reason in (
            f"压缩包「{zpath.name}」中的「永宁寺村.xlsx」已损坏（{why}），未解压。请重新打包后重试。"
            for why in ("数据不完整", "校验失败"))
    assert files_under(tmp_path / "导入") == set()


def test_an_lzma_member_with_a_forged_dictionary_size_still_comes_out(tmp_path, workbooks):
    """The LZMA properties claim a 4 GB dictionary; the decoder's is never larger than the member."""
    good = workbooks["凤凰村"]
    zpath = stdlib_zip(tmp_path / "l.zip", {"凤凰村.xlsx": good}, zipfile.ZIP_LZMA)
    data = bytearray(zpath.read_bytes())
    props = 30 + len("凤凰村.xlsx".encode("utf-8")) + 4  # after the local header and LZMA's 4-byte header
    struct.pack_into("<I", data, props + 1, 0xFFFFFFFF)
    zpath.write_bytes(bytes(data))
    [result] = open_archive(zpath, tmp_path / "导入")
    assert result.status == "ok" and result.path.read_bytes() == good


def test_the_workbook_reader_still_refuses_bzip2_parts(tmp_path, workbooks):
    """Inside an OOXML package only stored and deflated parts are legal: a workbook whose parts
    are bzip2 comes out of an archive but is refused by the reader as damaged."""
    src = tmp_path / "src.xlsx"
    src.write_bytes(workbooks["永宁寺村"])
    with zipfile.ZipFile(src) as zf:
        parts = {i.filename: zf.read(i) for i in zf.infolist()}
    inner = stdlib_zip(tmp_path / "永宁寺村.xlsx", parts, zipfile.ZIP_BZIP2)
    zpath = stdlib_zip(tmp_path / "z.zip", {"永宁寺村.xlsx": inner.read_bytes()}, zipfile.ZIP_DEFLATED)
    [result] = open_archive(zpath, tmp_path / "导入")
    assert result.status == "ok"
    with pytest.raises(WorkbookUnreadable) as info:
        app.check(app.open_backend(result.path), today=TODAY)
    assert str(info.value) == ("文件「永宁寺村.xlsx」已损坏（压缩包结构不完整），可能是复制或下载时中断。"
                               "请从原处重新复制，或用 Excel 打开后另存。")
