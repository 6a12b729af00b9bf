"""Hostile and broken files (issue 3): each gets a safe, correct reading or exactly one clear
Chinese WorkbookUnreadable message (exit code 2 through ``jifen-xl validate``), in bounded
time and memory, with nothing written.

Every hostile file is built here, in ``tmp_path``, from a real village workbook
(``conftest.build``) with the byte-level zip writer in ``tests/zipcraft.py``. Commands that
might inflate a bomb run in a child process under a 3 GB address-space limit
(``ulimit -v 3000000``); the child's own peak memory (``wait4``) and wall time are asserted.
"""

from __future__ import annotations

import hashlib
import os
import re
import resource
import shutil
import struct
import subprocess
import sys
import threading
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import python_calamine as pc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jifen_xl import app
from jifen_xl.errors import WorkbookUnreadable, WriteRefused
from jifen_xl.io import package
from jifen_xl.io.package import Package, prolog_verdict, sheet_extent

from .conftest import CORPUS, TODAY, build
from .zipcraft import Member, bomb, member, rewrite_members

ADDRESS_SPACE = 3_000_000 * 1024  # ulimit -v 3000000 (KiB)
SECONDS = 10  # per hostile file, child process start-up included
PEAK_MB = 400  # the child's peak resident memory (Python + pandas + calamine ~ 80 MB)

ENTRIES_SHEET = "积分登记"
MAIN_NS = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
SST_TYPE = b"application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
SST_REL = b"http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"
LAUGHS = (b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
          + b"".join(b' <!ENTITY lol%d "%s">\n' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                     for i in range(1, 10))
          + b"]>\n")


# --- helpers -------------------------------------------------------------------

@dataclass
class Run:
    code: int
    output: str
    seconds: float
    peak_mb: float


def _limit():
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def run_cli(*args, timeout: float = 60) -> Run:
    """``python -m jifen_xl ARGS`` in a child under the address-space limit; its own peak RSS via wait4."""
    out_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"jifen-hostile-{os.getpid()}-{threading.get_ident()}.out"
    with open(out_path, "w+b") as out:
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "jifen_xl", *map(str, args)], stdout=out,
                                stderr=subprocess.STDOUT, preexec_fn=_limit)
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - start
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
    out_path.unlink()
    return Run(proc.returncode, text, seconds, usage.ru_maxrss / 1024)


def digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def refused(book: Path, *, command: str = "validate") -> str:
    """Run the writing command on ``book``: exactly one Chinese message naming the file, exit 2,
    fast, small, nothing written. Returns the message (without ``错误：``)."""
    before = digest(book.parent)
    run = run_cli(command, book)
    lines = run.output.strip().splitlines()
    assert run.code == 2, run.output[-2000:]
    assert "Traceback" not in run.output and len(lines) == 1, run.output[-2000:]
    assert lines[0].startswith(f"错误：文件「{book.name}」"), lines[0]
    assert run.seconds < SECONDS, (run.seconds, lines[0])
    assert run.peak_mb < PEAK_MB, (run.peak_mb, lines[0])
    assert digest(book.parent) == before
    assert not (book.parent / "备份").exists()
    return lines[0][len("错误："):]


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("village") / "永宁寺村.xlsx")


@pytest.fixture
def book(template, tmp_path) -> Path:
    dest = tmp_path / "永宁寺村.xlsx"
    shutil.copyfile(template, dest)
    return dest


def part_of(book: Path, sheet: str = ENTRIES_SHEET) -> str:
    with Package(book) as pkg:
        return pkg.sheet_parts()[sheet]


def with_shared_strings(book: Path, sst: Member | bytes) -> Path:
    """Give ``book`` an ``xl/sharedStrings.xml`` part (the template writes inline strings)."""
    sst_member = sst if isinstance(sst, Member) else member("xl/sharedStrings.xml", sst)
    return rewrite_members(book, book, {
        "[Content_Types].xml": lambda d: d.replace(
            b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="' + SST_TYPE + b'"/></Types>'),
        "xl/_rels/workbook.xml.rels": lambda d: d.replace(
            b"</Relationships>",
            b'<Relationship Id="rIdSst" Type="' + SST_REL + b'" Target="sharedStrings.xml"/></Relationships>'),
    }, extra=[sst_member])


def sst_xml(strings: list[str]) -> bytes:
    body = "".join(f"<si><t>{s}</t></si>" for s in strings).encode()
    return (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="' + MAIN_NS
            + b'" count="%d" uniqueCount="%d">' % (len(strings), len(strings)) + body + b"</sst>")


# --- 1. zip bombs ----------------------------------------------------------------

def test_extreme_compression_ratio_is_refused_before_inflating(book):
    part = part_of(book)
    zeros = bomb("", b"", b"\0" * (1 << 20), 200)  # 200 MB of zeros from ~200 KB
    rewrite_members(book, book, {part: zeros})
    msg = refused(book)
    assert msg == (f"文件「永宁寺村.xlsx」中的「{part}」压缩比异常（疑似“压缩炸弹”），已拒绝读取。"
                   "请确认文件来源，或用 Excel 打开后另存。")


def test_total_inflated_size_over_the_limit_is_refused(book):
    # 1,600 parts of just under 1 MB each (below the per-part ratio check): 1.6 GB in ~2 MB.
    pad = bomb("", b"", b"\0" * 999_999, 1)
    extra = [Member(b"xl/media/pad%04d.bin" % i, pad.data, pad.crc, pad.size) for i in range(1600)]
    rewrite_members(book, book, {}, extra=extra)
    assert book.stat().st_size < 5_000_000
    assert refused(book) == ("文件「永宁寺村.xlsx」解压后超过 1500 MB，远超正常工作簿，已拒绝读取。请确认文件来源。")


def test_too_many_parts_is_refused(book):
    tiny = member("", b"<x/>")
    extra = [Member(b"xl/media/p%05d.xml" % i, tiny.data, tiny.crc, tiny.size) for i in range(20_001)]
    rewrite_members(book, book, {}, extra=extra)
    msg = refused(book)
    assert "个部件，远超正常工作簿，已拒绝读取" in msg


GIGA = dict(head=b'<?xml version="1.0"?><sst xmlns="' + MAIN_NS + b'">', chunk=b"<si><t>a</t></si>" * 60_000,
            copies=2000, tail=b"</sst>")  # 2 GB of shared strings from ~5 MB


@pytest.mark.parametrize("lie", ["local", "central", "both"])
def test_lying_sizes_are_refused_without_inflating(book, lie):
    sizes = {"local": dict(local_size=50_000), "central": dict(central_size=50_000),
             "both": dict(local_size=50_000, central_size=50_000)}[lie]
    sst = bomb("xl/sharedStrings.xml", **GIGA, **sizes)
    with_shared_strings(book, sst)
    msg = refused(book)
    if lie == "local":  # the directory is honest: its ratio gives the bomb away
        assert "「xl/sharedStrings.xml」压缩比异常（疑似“压缩炸弹”）" in msg
    elif lie == "central":  # the local header is honest: the two disagree
        assert msg == ("文件「永宁寺村.xlsx」中的「xl/sharedStrings.xml」前后声明的大小不一致（疑似“压缩炸弹”或文件已损坏），"
                       "已拒绝读取。请确认文件来源，或从原处重新复制；如果是自己的文件，请用 Excel 打开后另存。")
    else:  # both lie alike: every reader stops at the declared size and finds the data wrong
        assert "已损坏" in msg


def test_sheet_part_lying_in_both_headers_is_refused_without_inflating(book):
    part = part_of(book)
    row = b'<row><c t="inlineStr"><is><t>x</t></is></c></row>'
    sheet = bomb("", b'<worksheet xmlns="' + MAIN_NS + b'"><sheetData>', row * 20_000, 4000,
                 b"</sheetData></worksheet>", local_size=40_000, central_size=40_000)
    rewrite_members(book, book, {part: sheet})
    assert "已损坏" in refused(book)


def test_local_header_smaller_than_the_data_is_refused(book):
    part = part_of(book)
    with zipfile.ZipFile(book) as zf:
        honest = member(part, zf.read(part))
    rewrite_members(book, book, {part: Member(honest.name, honest.data, honest.crc, honest.size, local_size=100)})
    assert "前后声明的大小不一致" in refused(book)


# --- 2. XML entity tricks ----------------------------------------------------------

def _with_doctype(xml: bytes, doctype: bytes = LAUGHS) -> bytes:
    body = re.sub(rb"^\s*<\?xml[^>]*\?>\s*", b"", xml)
    return doctype + body


@pytest.mark.parametrize("where", ["sheet", "sharedStrings", "workbook"])
def test_billion_laughs_is_refused(book, where):
    if where == "sheet":
        part = part_of(book)
        rewrite_members(book, book, {part: lambda d: _with_doctype(d).replace(
            b"</sheetData>", b'<row r="90"><c r="A90" t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData>')})
    elif where == "sharedStrings":
        part = "xl/sharedStrings.xml"
        with_shared_strings(book, _with_doctype(sst_xml(["x"])).replace(b"<t>x", b"<t>&lol9;x"))
    else:
        part = "xl/workbook.xml"
        rewrite_members(book, book, {part: lambda d: _with_doctype(d).replace(b'name="', b'name="&lol9;', 1)})
    assert refused(book) == (
        f"文件「永宁寺村.xlsx」中的「{part}」含有 DTD 或实体声明（<!DOCTYPE / <!ENTITY>），"
        "Excel、WPS 和 LibreOffice 保存的工作簿里不会有这种内容，可能是恶意构造的文件，已拒绝读取。"
        "请确认文件来源，向对方要一份用 Excel 或 WPS 正常保存的工作簿。")


SECRET = "file:///etc/passwd"


@pytest.mark.parametrize("disguise", ["plain", "padded", "utf16", "rels"])
def test_external_entity_is_never_resolved(book, disguise):
    doctype = b'<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY x SYSTEM "' + SECRET.encode() + b'">]>'
    if disguise == "padded":  # 10 KB of comment before the DOCTYPE: past a naive 4 KB look
        doctype = b'<?xml version="1.0"?>\n<!--' + b" " * 10_000 + b"-->\n" + doctype[21:]
    part = part_of(book) if disguise != "rels" else "_rels/.rels"

    def evil(d: bytes) -> bytes:
        d = _with_doctype(d, doctype)
        if disguise == "rels":
            return d.replace(b'Target="', b'Target="&x;', 1)
        d = d.replace(b"</sheetData>", b'<row r="90"><c r="A90" t="inlineStr"><is><t>&x;</t></is></c></row></sheetData>')
        return d.decode().encode("utf-16") if disguise == "utf16" else d

    rewrite_members(book, book, {part: evil})
    msg = refused(book)
    assert f"「{part}」含有 DTD 或实体声明" in msg
    assert "root:" not in msg


def test_writer_refuses_a_dtd_itself_without_expanding(book):
    # The writer parses workbook.xml and .rels with defusedxml (forbid_dtd) and the owned sheet
    # with regular expressions after refusing any <!DOCTYPE / <!ENTITY: called directly, it refuses too.
    import pandas as pd

    from jifen_xl import schema as S
    from jifen_xl.io.xlsxwrite import write_owned

    rewrite_members(book, book, {"xl/workbook.xml": lambda d: _with_doctype(d).replace(b'name="', b'name="&lol9;', 1)})
    before = book.read_bytes()
    start = time.perf_counter()
    with pytest.raises(WorkbookUnreadable) as info:
        write_owned(book, {"findings": pd.DataFrame(columns=S.FINDINGS.fields)}, backup=False)
    assert time.perf_counter() - start < 2
    assert "已损坏或不是有效的 Excel 工作簿" in str(info.value) and "lol" not in str(info.value)
    assert book.read_bytes() == before


def test_billion_laughs_in_an_xml_file_named_xls_is_not_expanded(tmp_path):
    page = tmp_path / "导出.xls"
    page.write_bytes(LAUGHS + b"<lolz><table><tr><td>&lol9;</td></tr></table></lolz>")
    msg = refused(page)
    assert "其实是网页（HTML）格式" in msg and "lol" not in msg


@pytest.mark.parametrize("text, verdict", [
    ('<?xml version="1.0"?><worksheet/>', "ok"),
    ("\ufeff<worksheet>", "ok"),
    ("<worksheet>", "ok"),
    ('<?xml version="1.0"?>\n<!-- note --><?pi x?>\n<root>', "ok"),
    ('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "b">]><r/>', "dtd"),
    ('<?xml version="1.0"?><!ENTITY a "b"><r/>', "dtd"),
    ("<!doctype r><r/>", "dtd"),
    ("<!-- " + "x" * 5000 + " --><!DOCTYPE r><r/>", "dtd"),
    ('<?xml version="1.0"?><!-- unfinished', "more"),
    ('<?xml version="1.0"', "more"),
    ("   ", "more"),
])
def test_prolog_verdict(text, verdict):
    assert prolog_verdict(text) == verdict


# --- 3. extents ---------------------------------------------------------------------

def test_dimension_claiming_the_whole_grid_is_harmless(book, tmp_path):
    honest = shutil.copyfile(book, tmp_path / "原样.xlsx")
    rewrite_members(book, book, {part_of(book): lambda d: re.sub(rb'<dimension ref="[^"]*"',
                                                                  b'<dimension ref="A1:XFD1048576"', d)})
    run = run_cli("validate", "--dry-run", "--json", book)
    assert run.code == run_cli("validate", "--dry-run", "--json", honest).code
    assert run.seconds < SECONDS and run.peak_mb < PEAK_MB
    assert app.check(app.open_backend(book), today=TODAY)[1].records() == app.check(app.open_backend(honest), today=TODAY)[1].records()


CELL = b'<c t="inlineStr"><is><t>x</t></is></c>'


@pytest.mark.parametrize("shape, where", [
    # one row 16,384 cells wide and 20,000 rows below it, no r anywhere
    (b"<row>" + CELL * 16384 + b"</row>" + b"<row><c><v>1</v></c></row>" * 20_000, "XFD20012"),
    # rows numbered, cells not
    (b'<row r="12">' + CELL * 16384 + b"</row>"
     + b"".join(b'<row r="%d"><c><v>1</v></c></row>' % r for r in range(13, 20_000)), "XFD19999"),
    # a cell whose reference lies far outside its row
    (b'<row r="12"><c r="XFD1048576"><v>1</v></c></row>', "XFD1048576"),
    # lower-case references (calamine accepts them)
    (b'<row r="12"><c r="a12"><v>1</v></c><c r="xfd1048576"><v>1</v></c></row>', "XFD1048576"),
    # a namespace-prefixed cell
    (b'<row r="12"><x:c xmlns:x="' + MAIN_NS + b'" r="XFD1048576"><x:v>1</x:v></x:c></row>', "XFD1048576"),
    # single quotes and spaces around the reference
    (b"<row r='12'><c r = 'XFD1048576'><v>1</v></c></row>", "XFD1048576"),
], ids=["no-r", "cells-without-r", "cell-outside-its-row", "lower-case", "prefixed", "single-quotes"])
def test_far_cells_are_refused_whatever_the_spelling(book, shape, where):
    rewrite_members(book, book, {part_of(book): lambda d: d.replace(b"</sheetData>", shape + b"</sheetData>")})
    assert refused(book) == (
        f"文件「永宁寺村.xlsx」的工作表「积分登记」的数据范围延伸到 {where}，远超村级工作簿的规模（可能是远处的单元格里有内容或格式）。"
        "请在 Excel 中按 Ctrl+End 找到最后一个单元格，删除多余的行和列后保存，再重试。")


def test_a_far_cell_in_an_ods_gets_the_far_cell_answer(tmp_path):
    """calamine reads a whole .ods on opening and refuses one that would need more cells than it
    allows; the clerk gets the same answer as for a far cell in an .xlsx."""
    ns = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
          'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
          'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"')
    cell = '<table:table-cell office:value-type="string"><text:p>{}</text:p></table:table-cell>'
    content = (f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ns} office:version="1.2">'
               '<office:body><office:spreadsheet><table:table table:name="住户名册">'
               f'<table:table-row>{cell.format("户号")}{cell.format("户主姓名")}</table:table-row>'
               '<table:table-row table:number-rows-repeated="1048000"><table:table-cell/></table:table-row>'
               '<table:table-row><table:table-cell table:number-columns-repeated="16000"/>'
               '<table:table-cell office:value-type="float" office:value="1"/></table:table-row>'
               "</table:table></office:spreadsheet></office:body></office:document-content>")
    path = tmp_path / "远处.ods"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", content)
        z.writestr("META-INF/manifest.xml",
                   '<?xml version="1.0"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:'
                   'manifest:1.0"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/'
                   'vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" '
                   'manifest:media-type="text/xml"/></manifest:manifest>')
    run = run_cli("validate", "--dry-run", path)
    assert run.code == 2 and run.seconds < SECONDS and run.peak_mb < PEAK_MB
    assert run.output.strip() == (
        "错误：文件「远处.ods」中有工作表的数据范围远超村级工作簿的规模（可能是远处的单元格里有内容或格式）。"
        "请在 Excel、WPS 或 LibreOffice 中按 Ctrl+End 找到最后一个单元格，删除多余的行和列后保存，再重试。")


# Legal XML spellings of the workbook part and its relationships (issue 8): whatever a spreadsheet
# program accepts is read as the template's own spelling, or refused; the far-cell guard is never
# skipped (it once was: single quotes in workbook.xml hid the sheet's part and calamine aborted the
# process allocating 512 GB for one cell in XFD1048576).

FAR_CELL = b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>'
WB, WB_RELS = "xl/workbook.xml", "xl/_rels/workbook.xml.rels"


def _single_quotes(d: bytes) -> bytes:
    return re.sub(rb'(\s[\w:]+)="([^"]*)"', rb"\1='\2'", d)


def _spaced(d: bytes) -> bytes:
    return re.sub(rb'(\s[\w:]+)="', rb"\1 =\n\t'", d).replace(b'" ', b"' ").replace(b'"/>', b"'/>") \
        .replace(b'">', b"'>").replace(b'"?>', b"'?>")


def _prefixed(prefix: bytes, ns: bytes):
    def edit(d: bytes) -> bytes:
        d = re.sub(rb"<(/?)(?=[A-Za-z])", rb"<\1" + prefix + b":", d)
        return d.replace(b' xmlns="' + ns + b'"', b" xmlns:" + prefix + b'="' + ns + b'"')
    return edit


def _charref_names(d: bytes) -> bytes:
    return d.replace(ENTRIES_SHEET.encode(), "".join(f"&#{ord(c)};" for c in ENTRIES_SHEET).encode())


def _other_rel_prefix(d: bytes) -> bytes:
    return d.replace(b"xmlns:r=", b"xmlns:rel=").replace(b" r:id=", b" rel:id=")


RELS_NS = b"http://schemas.openxmlformats.org/package/2006/relationships"
SPELLINGS = {
    "workbook-single-quotes": {WB: _single_quotes},
    "rels-single-quotes": {WB_RELS: _single_quotes},
    "both-single-quotes": {WB: _single_quotes, WB_RELS: _single_quotes},
    "workbook-prefixed": {WB: _prefixed(b"x", MAIN_NS)},
    "rels-prefixed": {WB_RELS: _prefixed(b"p", RELS_NS)},
    "whitespace-around-equals": {WB: _spaced, WB_RELS: _spaced},
    "sheet-name-character-references": {WB: _charref_names},
    "relationship-prefix-not-r": {WB: _other_rel_prefix},
    "everything-at-once": {WB: lambda d: _spaced(_charref_names(_prefixed(b"x", MAIN_NS)(_other_rel_prefix(d)))),
                           WB_RELS: lambda d: _single_quotes(_prefixed(b"p", RELS_NS)(d))},
}


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_far_cell_is_refused_whatever_the_workbook_part_spelling(book, spelling):
    edits = dict(SPELLINGS[spelling])
    edits[part_of(book)] = lambda d: d.replace(b"</sheetData>", FAR_CELL)
    rewrite_members(book, book, edits)
    assert refused(book, command="validate") == (
        "文件「永宁寺村.xlsx」的工作表「积分登记」的数据范围延伸到 XFD1048576，远超村级工作簿的规模（可能是远处的单元格里有内容或格式）。"
        "请在 Excel 中按 Ctrl+End 找到最后一个单元格，删除多余的行和列后保存，再重试。")


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_every_workbook_part_spelling_reads_as_the_original(book, tmp_path, spelling):
    honest = shutil.copyfile(book, tmp_path / "原样.xlsx")
    rewrite_members(book, book, dict(SPELLINGS[spelling]))
    assert app.check(app.open_backend(book), today=TODAY)[1].records() == app.check(app.open_backend(honest), today=TODAY)[1].records()


def test_far_cell_in_the_part_calamine_reads_when_packaging_rules_name_another(book):
    """A character reference in a relationship's target: the packaging rules resolve it
    (``sheet&#54;.xml`` is ``sheet6.xml``), calamine takes it as written. A package holding both
    parts, the far cell in the one calamine reads, is refused all the same."""
    part = part_of(book)  # xl/worksheets/sheet6.xml
    literal = part[:-5] + "&#%d;" % ord(part[-5]) + ".xml"  # xl/worksheets/sheet&#54;.xml, as a name
    with zipfile.ZipFile(book) as zf:
        sheet = zf.read(part)
    rewrite_members(book, book, {WB_RELS: lambda d: d.replace(b'Target="/' + part.encode() + b'"',
                                                              b'Target="/' + literal.encode() + b'"')},
                    extra=[member(literal, sheet.replace(b"</sheetData>", FAR_CELL))])
    with zipfile.ZipFile(book) as zf:
        assert literal.encode() in zf.read(WB_RELS)
    assert "XFD1048576" in refused(book)


def test_a_sheet_whose_part_cannot_be_found_is_refused_not_read_unguarded(book):
    """A relationship id written with a character reference (``rId&#54;``): by the packaging
    rules it is ``rId6``, calamine does not resolve it. Either way the file gets one message."""
    rewrite_members(book, book, {WB: lambda d: d.replace(b'r:id="rId6"', b'r:id="rId&#54;"'),
                                 part_of(book): lambda d: d.replace(b"</sheetData>", FAR_CELL)})
    assert refused(book).startswith("文件「永宁寺村.xlsx」")


@pytest.mark.parametrize("xml, bound", [
    (b'<worksheet><cols><col min="1" max="3"/></cols><sheetData><row r="1"><c r="A1"/><c r="C1"/></row>'
     b'<row r="7"><c r="B7"/></row></sheetData><conditionalFormatting sqref="A1"/></worksheet>', (7, 26)),
    (b'<worksheet><sheetData><row r="2"><c r="AB2"/></row></sheetData></worksheet>', (2, 28)),
    (b"<worksheet><sheetData/></worksheet>", (0, 0)),
    # a fake end tag inside CDATA, and the real one missing (a truncated part)
    (b'<worksheet><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t><![CDATA[</sheetData>]]></t></is></c>'
     b'<c r="XFD1048576"><v>1</v></c></row>', (1048576, 16384)),
    # a decoy unprefixed sheetData in a comment, the real one prefixed
    (b'<worksheet><!-- <sheetData></sheetData> --><x:sheetData xmlns:x="m"><x:row><x:c r="XFD9"/></x:row>'
     b"</x:sheetData></worksheet>", (9, 16384)),
    # cells continue after an r-less run: calamine places them after the previous cell of the row
    (b'<worksheet><sheetData><row r="4"><c r="C4"/><c/><c/></row><row><c/></row></sheetData></worksheet>', (5, 5)),
])
def test_sheet_extent(xml, bound):
    assert sheet_extent(xml) == bound


def _plain_sheet(extra: bytes, row: int) -> bytes:
    """2,000 rows of three plain cells, ``extra`` appended to row ``row``."""
    rows = [b'<row r="%d"><c r="A%d" s="1"><v>1</v></c><c r="B%d" t="inlineStr"><is><t>x</t></is></c>'
            b'<c r="C%d"/></row>' % (r, r, r, r) for r in range(1, 2001)]
    rows[row - 1] = rows[row - 1].replace(b"</row>", extra + b"</row>")
    return b"<worksheet><sheetData>" + b"".join(rows) + b"</sheetData></worksheet>"


RICH_RUN = b'<is><r><rPr><color rgb="FFFF0000"/><charset val="134"/></rPr><t>x</t></r></is>'


@pytest.mark.parametrize("where", ["first", "middle", "last", "last, the span ending on it"])
@pytest.mark.parametrize("extra, bound", [
    (b"", (2000, 26)),
    (b'<c r="D1999"/>', (2000, 26)),
    (b'<c r="A2001x"/>', (2000, 26)),  # not a reference
    (b'<c r="AA7"/>', (2000, 27)),
    (b'<c r="a2001"/>', (2001, 3)),
    (b'<c r="B10000"/>', (10000, 3)),
    (b'<c r="C02000"/>', (2000, 3)),
    (b'<c r="D1" t="inlineStr">' + RICH_RUN + b"</c>", (2000, 4)),
    (b'<c t="inlineStr">' + RICH_RUN + b"</c>", (2000, 4)),
    (b"<c r='XFD1048576'/>", (1048576, 16384)),
])
def test_sheet_extent_finds_one_odd_cell_anywhere_in_a_plain_sheet(extra, bound, where):
    xml = _plain_sheet(extra, {"first": 1, "middle": 1000}.get(where, 2000))
    span = None
    if where.startswith("last,"):  # the odd cell (or row 2000's last cell) ends the span
        span = (package.plain_region(xml)[0], xml.rindex(b"</row>"))
    assert sheet_extent(xml, span) == bound


_refs = st.one_of(st.none(), st.tuples(st.sampled_from(["A", "b", "Z", "AA", "zz", "XF"]),
                                       st.integers(1, 400)))
_cell = st.tuples(_refs, st.sampled_from(['<c{r}><v>1</v></c>', '<c{r} t="n"/>', "<x:c{r}/>"]))
_row = st.tuples(st.one_of(st.none(), st.integers(1, 300)), st.lists(_cell, max_size=6))


def _sheet_data(rows) -> bytes:
    out = []
    for r, cells in rows:
        parts = []
        for ref, fmt in cells:
            attr = "" if ref is None else f' r="{ref[0]}{ref[1]}"'
            parts.append(fmt.format(r=attr))
        out.append(("<row>" if r is None else f'<row r="{r}">') + "".join(parts) + "</row>")
    return "".join(out).encode()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(_row, min_size=1, max_size=8))
def test_extent_bound_is_never_below_what_calamine_allocates(template, tmp_path, rows):
    path = tmp_path / "extent.xlsx"
    part = part_of(template)
    body = _sheet_data(rows)
    rewrite_members(template, path, {part: lambda d: re.sub(
        rb"<sheetData>.*</sheetData>", lambda _: b'<sheetData xmlns:x="' + MAIN_NS + b'">' + body + b"</sheetData>",
        d, flags=re.S)})
    with Package(path) as pkg:
        bound = sheet_extent(pkg.read(part))
    sheet = pc.CalamineWorkbook.from_path(str(path)).get_sheet_by_name(ENTRIES_SHEET)
    if sheet.height:
        (_r0, _c0), (r1, c1) = sheet.start, sheet.end
        assert bound[0] >= r1 + 1 and bound[1] >= c1 + 1, (body, bound, sheet.end)


# --- 4. paths inside the zip --------------------------------------------------------

@pytest.mark.parametrize("evil", ["../evil.xml", "/abs.xml", "C:\\evil.xml", "xl\\..\\..\\evil.xml"])
def test_entries_pointing_outside_the_package_are_refused(book, evil):
    rewrite_members(book, book, {}, extra=[member(evil, b"<x/>")])
    with pytest.raises(WorkbookUnreadable) as info:
        app.check(app.open_backend(book), today=TODAY)
    assert str(info.value) == f"文件「永宁寺村.xlsx」含有指向包外的路径「{evil}」，已拒绝读取。请确认文件来源。"


def test_path_traversal_through_the_cli(book):
    rewrite_members(book, book, {}, extra=[member("../evil.xml", b"<x/>")])
    assert "含有指向包外的路径「../evil.xml」" in refused(book)


# --- 5. not a workbook at all --------------------------------------------------------

@pytest.mark.parametrize("name, data", [
    ("名册.xlsx", "\ufeff户号,户主姓名\n0001,张大山\n".encode("utf-8")),
    ("名册.xls", "户号,户主姓名\n0001,张大山\n".encode("gb18030")),
    ("名册.xlsx", "户号\t户主姓名\n0001\t张大山\n".encode("gb18030")),
])
def test_csv_with_an_excel_name(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    assert refused(path) == (f"文件「{name}」其实是文本（CSV/TXT）格式，不是 Excel 工作簿。{package.SAVE_AS_XLSX}")


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
def test_html_table_named_xls_that_is_not_a_village(tmp_path, bom):
    page = tmp_path / "导出.xls"
    page.write_bytes(bom + "<html><body><table><tr><td>姓名</td><td>金额</td></tr></table></body></html>".encode())
    msg = refused(page)
    assert msg.startswith("文件「导出.xls」不是村级积分工作簿") and "其实是网页（HTML）格式" in msg


def _as_html(book: Path, encoding: str) -> bytes:
    """The village workbook as a web system would export it: one captioned <table> per sheet."""
    import html

    wb = pc.CalamineWorkbook.from_path(str(book))
    tables = []
    for name in wb.sheet_names:
        rows = wb.get_sheet_by_name(name).to_python()
        body = "".join("<tr>" + "".join(f"<td>{html.escape(_text(v))}</td>" for v in row) + "</tr>" for row in rows)
        tables.append(f"<table><caption>{html.escape(name)}</caption>{body}</table>")
    charset = "gb2312" if encoding == "gb18030" else encoding
    page = f'<html><head><meta charset="{charset}"></head><body>{"".join(tables)}</body></html>'
    return page.encode(encoding)


def _text(v) -> str:
    import datetime as dt

    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, dt.datetime):
        return v.date().isoformat()
    return "" if v is None else str(v)


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_html_export_of_a_village_reads_like_the_workbook(book, tmp_path, encoding):
    page = tmp_path / "永宁寺村导出.xls"
    page.write_bytes(_as_html(book, encoding))
    loaded, report = app.check(app.open_backend(page), today=TODAY)
    _, want = app.check(app.open_backend(book), today=TODAY)
    assert report.records() == want.records()
    assert len(loaded.village["entries"]) == 10
    run = run_cli("validate", page)  # writing is refused: a web page cannot take 校验结果
    assert run.code == 1 and "只能读取" in run.output and not (tmp_path / "备份").exists()


# --- 6. encrypted ---------------------------------------------------------------------

@pytest.mark.parametrize("name", ["pass_protected.xlsx", "pass_protected.xlsb"])
def test_encrypted_workbook_says_how_to_remove_the_password(tmp_path, name):
    if not (CORPUS / name).exists():
        pytest.skip(f"{CORPUS / name} not found")
    path = shutil.copyfile(CORPUS / name, tmp_path / ("加密" + Path(name).suffix))
    msg = refused(path)
    assert msg == (f"文件「{path.name}」设置了打开密码，工具无法读取。请在 Excel 中打开它，点“文件→信息→保护工作簿→用密码进行加密”，"
                   "清空密码后保存（WPS：“文件→文档加密→密码加密”，清空密码），然后重试。")


def _as_zip64(path: Path) -> None:
    """Rewrite the zip ``path`` as zip64 writers lay it out: every directory record's sizes and
    offset in a zip64 extra field (0xFFFFFFFF in the record), and a zip64 end record with its
    locator before the classic one. Same members, same data."""
    data = path.read_bytes()
    eocd = data.rindex(b"PK\x05\x06")
    _sig, _d, _cd, n, _n, cd_size, cd_offset, _c = struct.unpack_from("<4sHHHHIIH", data, eocd)
    records, pos = [], cd_offset
    for _ in range(n):
        head = list(struct.unpack_from("<4sHHHHHHIIIHHHHHII", data, pos))
        nlen, elen, clen = head[10], head[11], head[12]
        name = data[pos + 46: pos + 46 + nlen]
        extra = data[pos + 46 + nlen: pos + 46 + nlen + elen]
        comment = data[pos + 46 + nlen + elen: pos + 46 + nlen + elen + clen]
        csize, usize, offset = head[8], head[9], head[16]
        extra += struct.pack("<HHQQQ", 1, 24, usize, csize, offset)
        head[8] = head[9] = head[16] = 0xFFFFFFFF
        head[11] = len(extra)
        head[2] = 45
        records.append(struct.pack("<4sHHHHHHIIIHHHHHII", *head) + name + extra + comment)
        pos += 46 + nlen + elen + clen
    cd = b"".join(records)
    record_at = cd_offset + len(cd)
    zip64_end = struct.pack("<4sQHHIIQQQQ", b"PK\x06\x06", 44, 45, 45, 0, 0, n, n, len(cd), cd_offset)
    locator = struct.pack("<4sIQI", b"PK\x06\x07", 0, record_at, 1)
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    path.write_bytes(data[:cd_offset] + cd + zip64_end + locator + end)


def test_a_zip64_package_is_read_like_the_original(book, tmp_path):
    """Some writers lay out even small packages as zip64: the package layer reads the sizes and
    offsets from the zip64 fields, and every guard still applies; the writer refuses to rewrite it."""
    honest = shutil.copyfile(book, tmp_path / "原样.xlsx")
    _as_zip64(book)
    with zipfile.ZipFile(book) as zf, zipfile.ZipFile(honest) as zh:  # an independent reader agrees
        assert zf.testzip() is None and [i.filename for i in zf.infolist()] == [i.filename for i in zh.infolist()]
    with Package(book) as pkg, Package(honest) as original:
        assert pkg.zc.zip64 and not original.zc.zip64 and pkg.sheet_parts() == original.sheet_parts()
    assert app.check(app.open_backend(book), today=TODAY)[1].records() == app.check(app.open_backend(honest), today=TODAY)[1].records()
    before = book.read_bytes()
    result = app.validate_book(app.open_backend(book), today=TODAY)  # the writer never writes zip64
    assert isinstance(result.not_written, WriteRefused) and "ZIP64 格式" in result.not_written.message
    assert book.read_bytes() == before
