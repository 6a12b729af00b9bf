"""The lossless writer of owned sheets (jifen_xl.io.xlsxwrite), on real files."""

from __future__ import annotations

import datetime as dt
import io
import math
import os
import re
import shutil
import struct
import subprocess
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
import python_calamine
from defusedxml import ElementTree as SafeET
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.worksheet.table import Table

from .fixtures_rich import (CORPUS, add_content_override, add_relationship, read_zip,
                           rewrite_zip, sheet_parts)
from jifen_xl import errors, schema
from jifen_xl.io.base import CellRef
from jifen_xl.io.xlsxwrite import BACKUP_DIR_NAME, WriteResult, check_writable, write_owned

NOW = dt.datetime(2025, 4, 1, 9, 30, 5)
TRICKY = ["=1+1", "+86 138", "-5", "@x", "<b>&", "=HYPERLINK(\"http://x\")"]


# --- helpers -------------------------------------------------------------------

def raw_members(path: Path) -> dict[str, bytes]:
    """Each entry's raw (still compressed) bytes, read through its local header."""
    out = {}
    with zipfile.ZipFile(path) as z, open(path, "rb") as fh:
        for info in z.infolist():
            fh.seek(info.header_offset)
            head = fh.read(30)
            nlen, elen = struct.unpack("<HH", head[26:30])
            fh.seek(info.header_offset + 30 + nlen + elen)
            out[info.filename] = fh.read(info.compress_size)
    return out


def owned_parts(path: Path, *sheet_names: str) -> set[str]:
    """The sheet XML and table parts of the given sheets."""
    parts, _ = read_zip(path)
    sheets = sheet_parts(parts)
    out = set()
    for name in sheet_names:
        part, _ = sheets[name]
        out.add(part)
        folder, base = part.rsplit("/", 1)
        rels = parts.get(f"{folder}/_rels/{base}.rels", b"").decode()
        for target in re.findall(r'Target="([^"]*tables/[^"]*)"', rels):
            out.add("xl/tables/" + target.rsplit("/", 1)[1])
    return out


def calamine_rows(path: Path, sheet: str) -> list[list]:
    return python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python()


def sheet_xml(path: Path, sheet: str) -> str:
    parts, _ = read_zip(path)
    return parts[sheet_parts(parts)[sheet][0]].decode()


def table_xml(path: Path, name: str) -> str:
    parts, _ = read_zip(path)
    for n, data in parts.items():
        if n.startswith("xl/tables/") and f'name="{name}"' in data.decode():
            return data.decode()
    raise AssertionError(name)


def by_header(rows: list[list], header_row: int) -> list[dict]:
    """calamine rows below the header (1-based row number) as dicts keyed by header."""
    header = rows[header_row - 1]
    return [{h: v for h, v in zip(header, r) if h} for r in rows[header_row:]]


def ledger_frame(n: int = 3) -> pd.DataFrame:
    rows = []
    for i in range(n):
        rows.append({
            "month": "2025-03", "hh_id": f"{101 + i}", "head": TRICKY[i % len(TRICKY)],
            "basic": 5.5 * i, "contrib": float(i % 2), "deduct": -1.0 * (i % 3), "month_total": 5.5 * i,
            "cumulative": 100 + i, "spent": 0, "available": 100 + i, "rank": i + 1,
        })
    return pd.DataFrame(rows, columns=schema.LEDGER.fields)


def findings_frame() -> pd.DataFrame:
    return pd.DataFrame([
        ["错误", "积分登记", 3, "积分", "=1+1", "+86 138", "@x"],
        ["警告", "住户名册", 4, "状态", "<b>&", "-5", "W-HH-01"],
        ["错误", "积分登记", 4, "数量", "数量不是数字", "请填写数字", "E-ENT-02"],
    ], columns=schema.FINDINGS.fields)


FINDING_LINKS = [CellRef("积分登记", 3, 8), None, CellRef("积分登记", 4, 7)]


# --- 1. the rich workbook: nothing lost, values right -------------------------

@pytest.fixture
def written(rich):
    before = rich.read_bytes()
    result = write_owned(rich, {"ledger": ledger_frame(), "findings": findings_frame()},
                         links={"findings": FINDING_LINKS}, now=NOW)
    return rich, before, result


def test_untouched_parts_are_byte_identical(written, tmp_path):
    path, before, _ = written
    original = tmp_path / "original.xlsm"
    original.write_bytes(before)
    touched = owned_parts(original, schema.LEDGER.name, schema.FINDINGS.name) | {"xl/calcChain.xml"}
    old_parts, old_order = read_zip(original)
    new_parts, new_order = read_zip(path)
    assert new_order == old_order  # same entries, same order
    old_raw, new_raw = raw_members(original), raw_members(path)
    changed = {n for n in old_parts if old_parts[n] != new_parts[n]}
    assert changed <= touched
    assert {"xl/calcChain.xml", sheet_parts(old_parts)[schema.LEDGER.name][0]} <= changed
    for name in set(old_parts) - touched:
        assert new_parts[name] == old_parts[name], name
        assert new_raw[name] == old_raw[name], name  # not recompressed
    with zipfile.ZipFile(path) as z:
        assert z.testzip() is None
        old_infos = {i.filename: i for i in zipfile.ZipFile(original).infolist()}
        for info in z.infolist():  # timestamps and attributes kept, even for the replaced parts
            assert info.date_time == old_infos[info.filename].date_time
            assert info.external_attr == old_infos[info.filename].external_attr
    # The macro, the button and the picture are among the untouched parts.
    for name in ("xl/vbaProject.bin", "xl/drawings/vmlDrawingButtons.vml", "xl/ctrlProps/ctrlProp1.xml",
                 "xl/media/image1.png", "xl/charts/chart1.xml", "xl/comments/comment2.xml"):
        assert name in old_parts and name not in touched


def test_parts_stay_well_formed(written):
    path, _, _ = written
    parts, _ = read_zip(path)
    for name, data in parts.items():
        if name.endswith((".xml", ".rels", ".vml")):
            SafeET.fromstring(data, forbid_dtd=True)


def test_values_read_back_with_calamine(written):
    path, _, _ = written
    rows = calamine_rows(path, schema.LEDGER.name)
    assert rows[0] == schema.LEDGER.headers
    got = by_header(rows, 1)
    want = ledger_frame()
    assert len(got) == len(want)
    for g, (_, w) in zip(got, want.iterrows()):
        assert g["户号"] == w["hh_id"]  # codes stay text
        assert g["户主姓名"] == w["head"]  # formula-like text stays text
        assert g["基础积分"] == pytest.approx(w["basic"])
        assert g["村内排名"] == w["rank"]
    fin = by_header(calamine_rows(path, schema.FINDINGS.name), 1)
    assert [f["问题说明"] for f in fin] == ["=1+1", "<b>&", "数量不是数字"]
    assert [f["修改建议"] for f in fin] == ["+86 138", "-5", "请填写数字"]
    assert fin[0]["规则编号"] == "@x"
    assert fin[0]["行号"] == 3


def test_values_read_back_with_openpyxl_as_text_not_formulas(written):
    path, _, _ = written
    wb = openpyxl.load_workbook(path, keep_vba=True)
    led = wb[schema.LEDGER.name]
    for r in range(2, 5):
        assert led.cell(r, 3).data_type == "s"
        assert led.cell(r, 1).value == "2025-03"
    assert led["C2"].value == "=1+1" and led["C3"].value == "+86 138" and led["C4"].value == "-5"
    fin = wb[schema.FINDINGS.name]
    assert fin["E2"].value == "=1+1" and fin["E2"].data_type == "s"
    assert fin["E3"].value == "<b>&"
    assert wb.vba_archive is not None and "xl/vbaProject.bin" in wb.vba_archive.namelist()
    assert set(wb.defined_names) >= {"村名", "年度"}


def test_table_refs_dimension_and_styles(written):
    path, _, _ = written
    led_table = table_xml(path, schema.LEDGER.table)
    assert ' ref="A1:K4"' in led_table and '<autoFilter ref="A1:K4"' in led_table
    fin_table = table_xml(path, schema.FINDINGS.table)
    assert ' ref="A1:G4"' in fin_table and '<autoFilter ref="A1:G4"' in fin_table
    xml = sheet_xml(path, schema.LEDGER.name)
    assert '<dimension ref="A1:K4"' in xml
    # D has a column style (<col style="2">): used for new cells; K took the old data cells' style.
    assert re.search(r'<c r="D3" s="2"><v>5.5</v></c>', xml)
    assert re.search(r'<c r="K4" s="\d+"><v>3</v></c>', xml)
    # Kept around sheetData: comment's legacy drawing, chart drawing, CF, DV, table part.
    for tag in ("<legacyDrawing", "<drawing", "<conditionalFormatting", "<dataValidations", "<tableParts"):
        assert tag in xml
    assert "<f>" not in xml  # the old formula cells went with the old rows


def test_hyperlinks_point_at_the_right_cells(written):
    path, _, _ = written
    xml = sheet_xml(path, schema.FINDINGS.name)
    links = re.findall(r"<hyperlink\b[^>]*/>", xml)
    assert links == [
        '<hyperlink ref="E2" location="\'积分登记\'!H3" display="=1+1"/>',
        '<hyperlink ref="E4" location="\'积分登记\'!G4" display="数量不是数字"/>',
    ]
    # <hyperlinks> sits in CT_Worksheet order: after sheetData, before pageMargins / tableParts.
    assert xml.index("</sheetData>") < xml.index("<hyperlinks>") < xml.index("<pageMargins")
    wb = openpyxl.load_workbook(path, keep_vba=True)
    fin = wb[schema.FINDINGS.name]
    assert fin["E2"].hyperlink.location == "'积分登记'!H3"
    assert fin["E3"].hyperlink is None  # the old link on row 3 went with the old row
    assert fin["E4"].hyperlink.location == "'积分登记'!G4"


def test_calc_chain_loses_only_the_removed_cells(written):
    path, _, _ = written
    parts, _ = read_zip(path)
    sheets = sheet_parts(parts)
    ent_id = sheets[schema.ENTRIES.name][1]
    chain = parts["xl/calcChain.xml"].decode()
    assert re.findall(r"<c [^>]*/>", chain) == [f'<c r="H2" i="{ent_id}"/>', f'<c r="H3" i="{ent_id}"/>']


def test_conditional_format_and_validation_grow_with_the_data(rich):
    write_owned(rich, {"ledger": ledger_frame(8)}, backup=False)
    xml = sheet_xml(rich, schema.LEDGER.name)
    assert '<conditionalFormatting sqref="K2:K9">' in xml
    assert 'sqref="K2:K9"' in xml.split("<dataValidations")[1]


def test_backup_is_the_original(written):
    path, before, result = written
    assert isinstance(result, WriteResult)
    assert result.path == path
    assert result.backup == path.parent / BACKUP_DIR_NAME / "永宁寺村2025-20250401-093005.xlsm"
    assert result.backup.read_bytes() == before
    assert not [p for p in path.parent.iterdir() if "jifen-tmp" in p.name]


def test_backups_are_never_overwritten(rich):
    first = write_owned(rich, {"findings": findings_frame()}, now=NOW).backup
    second = write_owned(rich, {"findings": findings_frame()}, now=NOW).backup
    assert first != second and first.exists() and second.exists()
    assert second.name == "永宁寺村2025-20250401-093005-2.xlsm"


def test_no_backup_when_disabled(rich):
    assert write_owned(rich, {"findings": findings_frame()}, backup=False).backup is None
    assert not (rich.parent / BACKUP_DIR_NAME).exists()


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_converts_the_result(written, tmp_path):
    path, _, _ = written
    out = tmp_path / "lo-out"
    proc = subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}", "--headless",
         "--convert-to", "xlsx", "--outdir", str(out), str(path)],
        capture_output=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    converted = out / (path.stem + ".xlsx")
    assert converted.exists()
    for sheet in (schema.LEDGER.name, schema.FINDINGS.name):
        assert calamine_rows(converted, sheet) == calamine_rows(path, sheet)
    # (LibreOffice computes the clerk's formulas, so compare the typed columns of 积分登记)
    assert [r[:7] for r in calamine_rows(converted, schema.ENTRIES.name)] == \
        [r[:7] for r in calamine_rows(path, schema.ENTRIES.name)]


# --- 2. refusals leave the file alone ------------------------------------------

@pytest.mark.parametrize("lock_name, who", [("~${}", "Excel"), (".~lock.{}#", "LibreOffice")])
def test_lock_file_refuses(rich, lock_name, who):
    before = rich.read_bytes()
    lock = rich.parent / lock_name.format(rich.name)
    lock.write_bytes(b"owner")
    with pytest.raises(errors.WorkbookLocked) as exc:
        write_owned(rich, {"findings": findings_frame()}, now=NOW)
    assert who in exc.value.message and lock.name in exc.value.message and "关闭" in exc.value.message
    assert rich.read_bytes() == before
    assert not (rich.parent / BACKUP_DIR_NAME).exists()
    with pytest.raises(errors.WorkbookLocked):
        check_writable(rich)


@pytest.mark.parametrize("suffix", [".xls", ".ods", ".xlsb"])
def test_other_formats_refused(tmp_path, suffix):
    src = CORPUS / f"any_sheets{suffix}"
    path = tmp_path / f"台账{suffix}"
    shutil.copyfile(src, path)
    with pytest.raises(errors.WriteRefused) as exc:
        write_owned(path, {"findings": findings_frame()})
    msg = exc.value.message
    assert path.name in msg and "另存为" in msg and "Excel 工作簿(*.xlsx)" in msg
    assert path.read_bytes() == src.read_bytes()


def test_encrypted_workbook_refused(tmp_path):
    path = tmp_path / "加密.xlsx"
    shutil.copyfile(CORPUS / "pass_protected.xlsx", path)
    with pytest.raises(errors.WriteRefused, match="密码"):
        write_owned(path, {"findings": findings_frame()})


def test_corrupt_workbook_refused(rich):
    data = rich.read_bytes()
    rich.write_bytes(data[: len(data) // 2])
    with pytest.raises(errors.WorkbookUnreadable) as exc:
        write_owned(rich, {"findings": findings_frame()})
    assert rich.name in exc.value.message and "另存为" in exc.value.message
    assert rich.read_bytes() == data[: len(data) // 2]
    assert not (rich.parent / BACKUP_DIR_NAME).exists()


def test_missing_file_refused(tmp_path):
    with pytest.raises(errors.WriteRefused, match="找不到"):
        write_owned(tmp_path / "没有.xlsx", {"findings": findings_frame()})


def _make_readonly(target: Path):
    """Make ``target`` unwritable for real; return the undo, or skip."""
    if os.geteuid() != 0:
        mode = target.stat().st_mode
        os.chmod(target, 0o555 if target.is_dir() else 0o444)
        return lambda: os.chmod(target, mode)
    chattr = shutil.which("chattr")
    if chattr and subprocess.run([chattr, "+i", str(target)], capture_output=True).returncode == 0:
        return lambda: subprocess.run([chattr, "-i", str(target)], check=True)
    pytest.skip("running as root without chattr +i: cannot make a folder or file that root cannot write")


def test_read_only_folder_refused(rich):
    before = rich.read_bytes()
    undo = _make_readonly(rich.parent)
    try:
        with pytest.raises(errors.WriteRefused) as exc:
            write_owned(rich, {"findings": findings_frame()}, now=NOW)
        assert "文件夹" in exc.value.message and "可写" in exc.value.message
        assert "没有生成备份" in exc.value.message
        assert rich.read_bytes() == before
        assert sorted(p.name for p in rich.parent.iterdir()) == [rich.name]
    finally:
        undo()


def test_read_only_file_refused(rich):
    before = rich.read_bytes()
    undo = _make_readonly(rich)
    try:
        with pytest.raises(errors.WriteRefused, match="只读"):
            write_owned(rich, {"findings": findings_frame()}, now=NOW)
        assert rich.read_bytes() == before
        assert not (rich.parent / BACKUP_DIR_NAME).exists()
    finally:
        undo()


def test_backup_impossible_refuses(rich):
    before = rich.read_bytes()
    (rich.parent / BACKUP_DIR_NAME).write_text("a file where the backup folder should be")
    with pytest.raises(errors.WriteRefused) as exc:
        write_owned(rich, {"findings": findings_frame()}, now=NOW)
    assert "备份" in exc.value.message and "没有写入" in exc.value.message
    assert rich.read_bytes() == before
    assert not [p for p in rich.parent.iterdir() if "jifen-tmp" in p.name]


def test_not_owned_sheet_refused(rich):
    before = rich.read_bytes()
    frame = pd.DataFrame(columns=schema.ENTRIES.fields)
    with pytest.raises(errors.WriteRefused, match=schema.ENTRIES.name):
        write_owned(rich, {"entries": frame})
    assert rich.read_bytes() == before


def test_missing_owned_sheet_refused(tmp_path):
    path = tmp_path / "缺表.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = schema.ENTRIES.name
    wb.save(path)
    before = path.read_bytes()
    with pytest.raises(errors.WriteRefused) as exc:
        write_owned(path, {"findings": findings_frame()})
    assert schema.FINDINGS.name in exc.value.message and "模板" in exc.value.message
    assert path.read_bytes() == before
    assert not (tmp_path / BACKUP_DIR_NAME).exists()


def test_missing_header_refused(tmp_path):
    path = tmp_path / "少列.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = schema.FINDINGS.name
    ws.append([h for h in schema.FINDINGS.headers if h != "修改建议"])
    wb.save(path)
    with pytest.raises(errors.WriteRefused) as exc:
        write_owned(path, {"findings": findings_frame()})
    assert "修改建议" in exc.value.message and "第 1 行" in exc.value.message


# --- 3. header under a title row, reordered columns, an extra clerk column -------

REORDERED = ["户号", "户主姓名", "月份", "村内排名", "备注（村里填）", "累计积分", "当月积分",
             "基础积分", "贡献积分", "扣分", "累计兑换", "可用积分"]


def _titled_ledger(path: Path, with_table: bool, clerk_note: str | None = None) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = schema.LEDGER.name
    ws["A1"] = "永宁寺村 2025 年月度积分台账"
    ws.merge_cells("A1:L1")
    ws.append(REORDERED)
    ws.append(["101", "张三", "2025-01", 1, clerk_note, 5, 5, 5, 0, 0, 0, 5])
    ws.append(["102", "李四", "2025-01", 2, None, 3, 3, 3, 0, 0, 0, 3])
    ws.merge_cells("E3:E4")  # a merge in the data area goes with the old rows
    if with_table:
        ws.add_table(Table(displayName=schema.LEDGER.table, ref="A2:L4"))
    else:
        ws.auto_filter.ref = "A2:L4"  # a clerk's plain filter instead of a table
    wb.create_sheet(schema.ENTRIES.name).append(schema.ENTRIES.headers)
    wb.save(path)
    return path


def _check_reordered(path: Path, frame: pd.DataFrame) -> None:
    rows = calamine_rows(path, schema.LEDGER.name)
    assert rows[0][0] == "永宁寺村 2025 年月度积分台账"
    assert rows[1] == REORDERED
    got = by_header(rows, 2)
    assert len(got) == len(frame)
    for g, (_, w) in zip(got, frame.iterrows()):
        for col in schema.LEDGER.columns:
            value = w[col.field]
            assert g[col.header] == (value if isinstance(value, str) else pytest.approx(value)), col.header
        assert g["备注（村里填）"] == ""  # the clerk's extra column is blank on new rows
    xml = sheet_xml(path, schema.LEDGER.name)
    assert re.search(r"<mergeCell ref=\"A1:L1\" ?/>", xml) and "E3:E4" not in xml


def test_clerk_text_in_an_extra_column_of_an_owned_sheet_is_never_overwritten(tmp_path):
    path = _titled_ledger(tmp_path / "台账.xlsx", True, clerk_note="村里自己的备注")
    before = path.read_bytes()
    with pytest.raises(errors.WriteRefused) as info:
        write_owned(path, {"ledger": ledger_frame(5)}, backup=False)
    assert str(info.value) == ("「月度台账」工作表的第 E 列不是工具生成的列，但下面的行里有手工填写的内容；"
                               "工具重写「月度台账」时会覆盖它。请把这一列移到别的工作表（或删除）后再试。")
    assert path.read_bytes() == before


@pytest.mark.parametrize("with_table", [True, False], ids=["table", "no-table"])
def test_header_below_title_reordered_extra_column(tmp_path, with_table):
    path = _titled_ledger(tmp_path / "台账.xlsx", with_table)
    before_xml = sheet_xml(path, schema.LEDGER.name)
    frame = ledger_frame(5)
    write_owned(path, {"ledger": frame}, backup=False)
    _check_reordered(path, frame)
    after_xml = sheet_xml(path, schema.LEDGER.name)
    def rows_to_header(xml):
        start = xml.index("<sheetData>")
        return xml[start:xml.index("</row>", xml.index('<row r="2"')) + len("</row>")]

    assert rows_to_header(after_xml) == rows_to_header(before_xml)  # title and header rows byte for byte
    assert '<dimension ref="A1:L7"' in after_xml
    if with_table:
        assert ' ref="A2:L7"' in table_xml(path, schema.LEDGER.table)
    else:
        assert re.search(r'<autoFilter ref="A2:L7" ?/>', after_xml)


def test_header_in_shared_inline_and_formula_strings(tmp_path):
    """No table: the header row is found from sharedStrings, inline strings and formula results;
    a formula kept in the title row keeps its calcChain entry, the data formulas lose theirs."""
    path = _titled_ledger(tmp_path / "台账.xlsx", with_table=False)
    parts, order = read_zip(path)
    sheets = sheet_parts(parts)
    part, led_id = sheets[schema.LEDGER.name]
    _, ent_id = sheets[schema.ENTRIES.name]
    sst = ["无关的字符串"] * 3 + REORDERED[:6]
    cells = []
    for i, header in enumerate(REORDERED):
        ref = f"{chr(65 + i)}2"
        if i < 6:
            cells.append(f'<c r="{ref}" t="s"><v>{3 + i}</v></c>')
        elif i < 9:
            cells.append(f'<c r="{ref}" t="inlineStr"><is><r><t>{header[:1]}</t></r><r><t>{header[1:]}</t>'
                         f"</r></is></c>")
        else:
            cells.append(f'<c r="{ref}" t="str"><f>"{header}"</f><v>{header}</v></c>')
    xml = parts[part].decode()
    sheet_data = (
        '<sheetData><row r="1" spans="1:12" ht="30" customHeight="1"><c r="A1" t="str"><f>"永宁寺村"&amp;"台账"</f>'
        f'<v>永宁寺村台账</v></c></row><row r="2">{"".join(cells)}</row>'
        '<row r="3" ht="18" customHeight="1"><c r="A3" t="inlineStr"><is><t>101</t></is></c>'
        '<c r="G3"><f>H3+I3</f><v>5</v></c></row>'
        '<row r="4"><c r="A4" t="inlineStr"><is><t>102</t></is></c><c r="G4"><f>H4+I4</f><v>3</v></c></row>'
        "</sheetData>")
    xml = re.sub(r"<sheetData>.*</sheetData>", lambda m: sheet_data, xml, flags=re.S)
    xml = xml.replace("</worksheet>", '<ignoredErrors><ignoredError sqref="A3:A4 C1" numberStoredAsText="1"/>'
                                      "</ignoredErrors></worksheet>")
    parts[part] = xml.encode()
    parts["xl/sharedStrings.xml"] = (
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="9" uniqueCount="9">'
        + "".join(f"<si><t>{s}</t></si>" if i % 2 else f'<si><r><t>{s}</t></r><rPh sb="0" eb="1"><t>ピ</t></rPh></si>'
                  for i, s in enumerate(sst)) + "</sst>").encode()
    parts["xl/calcChain.xml"] = (
        '<calcChain xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<c r="G3" i="{led_id}"/><c r="A1"/><c r="G4"/><c r="B2" i="{ent_id}"/></calcChain>').encode()
    ct = parts["[Content_Types].xml"].decode()
    ct = add_content_override(ct, "xl/sharedStrings.xml",
                              "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml")
    ct = add_content_override(ct, "xl/calcChain.xml",
                              "application/vnd.openxmlformats-officedocument.spreadsheetml.calcChain+xml")
    parts["[Content_Types].xml"] = ct.encode()
    rels = parts["xl/_rels/workbook.xml.rels"].decode()
    rels = add_relationship(rels, "rIdSst", "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
                            "sharedStrings", "sharedStrings.xml")
    rels = add_relationship(rels, "rIdCalc", "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
                            "calcChain", "calcChain.xml")
    parts["xl/_rels/workbook.xml.rels"] = rels.encode()
    rewrite_zip(path, parts, order + ["xl/sharedStrings.xml", "xl/calcChain.xml"])

    frame = ledger_frame(4)
    write_owned(path, {"ledger": frame}, backup=False)
    rows = calamine_rows(path, schema.LEDGER.name)
    assert rows[1] == REORDERED
    got = by_header(rows, 2)
    assert [g["户号"] for g in got] == list(frame["hh_id"])
    assert [g["村内排名"] for g in got] == list(frame["rank"])
    new_parts, _ = read_zip(path)
    xml = new_parts[part].decode()
    assert '<row r="3" ht="18" customHeight="1">' in xml  # the first data row's height carries over
    assert '<ignoredError sqref="A3:A6 C1" numberStoredAsText="1"/>' in xml
    assert re.search(r'<autoFilter ref="A2:L6" ?/>', xml)
    assert '<row r="1" spans="1:12" ht="30" customHeight="1">' in xml
    chain = new_parts["xl/calcChain.xml"].decode()
    assert re.findall(r"<c [^>]*/>", chain) == [f'<c i="{led_id}" r="A1"/>', f'<c r="B2" i="{ent_id}"/>']


def test_calc_chain_dropped_when_empty(rich):
    parts, order = read_zip(rich)
    led_id = sheet_parts(parts)[schema.LEDGER.name][1]
    parts["xl/calcChain.xml"] = (
        '<calcChain xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<c r="G2" i="{led_id}"/><c r="G3"/></calcChain>').encode()
    rewrite_zip(rich, parts, order)
    write_owned(rich, {"ledger": ledger_frame()}, backup=False)
    new_parts, new_order = read_zip(rich)
    assert "xl/calcChain.xml" not in new_parts
    assert new_order == [n for n in order if n != "xl/calcChain.xml"]
    assert b"calcChain" not in new_parts["[Content_Types].xml"]
    assert b"calcChain" not in new_parts["xl/_rels/workbook.xml.rels"]
    openpyxl.load_workbook(rich, keep_vba=True)


# --- 4. idempotent ---------------------------------------------------------------

def test_writing_twice_gives_identical_bytes(rich, tmp_path):
    original = rich.read_bytes()
    frames = {"ledger": ledger_frame(7), "findings": findings_frame(), "stock": pd.DataFrame(
        [["2025-03", "G01", "洗衣粉", 12, 0, 2, 10]], columns=schema.STOCK.fields)}
    links = {"findings": FINDING_LINKS}
    write_owned(rich, frames, links=links, now=NOW)
    once = rich.read_bytes()
    write_owned(rich, frames, links=links, now=NOW)
    assert rich.read_bytes() == once
    first = tmp_path / "first.xlsm"
    first.write_bytes(original)
    touched = owned_parts(first, schema.LEDGER.name, schema.FINDINGS.name, schema.STOCK.name)
    touched.add("xl/calcChain.xml")
    old_raw, new_raw = raw_members(first), raw_members(rich)
    assert {n for n in old_raw if old_raw[n] != new_raw[n]} <= touched


def test_empty_frame_keeps_one_empty_table_row(rich):
    write_owned(rich, {"ledger": pd.DataFrame(columns=schema.LEDGER.fields)}, backup=False)
    assert ' ref="A1:K2"' in table_xml(rich, schema.LEDGER.table)
    rows = calamine_rows(rich, schema.LEDGER.name)
    assert rows[0] == schema.LEDGER.headers
    assert all(v == "" for r in rows[1:] for v in r)
    once = rich.read_bytes()
    write_owned(rich, {"ledger": pd.DataFrame(columns=schema.LEDGER.fields)}, backup=False)
    assert rich.read_bytes() == once
    # and the styles the template row carried survive for the next real write
    write_owned(rich, {"ledger": ledger_frame(2)}, backup=False)
    assert re.search(r'<c r="K3" s="[1-9]\d*"><v>2</v></c>', sheet_xml(rich, schema.LEDGER.name))


# --- values, zip layout ------------------------------------------------------------

def test_value_types(rich):
    frame = pd.DataFrame({
        "level": ["错误", None, "警告", "x\x00y\x1f", "", "line1\nline2\r\nend", "_x000D_ literal"],
        "sheet": ["a", "b", "c", "d", "e", "f", "g"],
        "row": pd.array([1, None, 3, 4, 5, 6, 7], dtype="Int64"),
        "column": [True, False, np.True_, 1.5, np.int64(7), dt.date(2025, 4, 1), dt.datetime(2025, 4, 1, 12)],
        "message": [float("nan"), math.inf, 1e20, 0.1, -0.0, 123456789012, pd.NaT],
        "fix": ["  前后空格  ", "a" * 40000, "全角１２３", "😀", "&amp;", "]]>", "<![CDATA[x]]>"],
        "rule": [np.float64(2.5), np.nan, None, pd.NA, "R", "R", "R"],
    })
    write_owned(rich, {"findings": frame}, backup=False)
    got = by_header(calamine_rows(rich, schema.FINDINGS.name), 1)
    assert [g["级别"] for g in got] == ["错误", "", "警告", "xy", "", "line1\nline2\r\nend", "_x000D_ literal"]
    assert [g["行号"] for g in got] == [1, "", 3, 4, 5, 6, 7]
    assert [g["列名"] for g in got][:5] == [True, False, True, 1.5, 7]
    assert got[5]["列名"] == 45748 and got[6]["列名"] == pytest.approx(45748.5)
    assert [g["问题说明"] for g in got] == ["", "", 1e20, 0.1, 0, 123456789012, ""]
    assert got[0]["修改建议"] == "  前后空格  " and len(got[1]["修改建议"]) == 32767
    assert [g["修改建议"] for g in got][2:] == ["全角１２３", "😀", "&amp;", "]]>", "<![CDATA[x]]>"]
    assert got[0]["规则编号"] == 2.5 and got[1]["规则编号"] == "" and got[3]["规则编号"] == ""


def test_zip_with_data_descriptors(rich, tmp_path):
    """Entries streamed with data descriptors (bit 3) are copied raw, descriptor included."""
    parts, order = read_zip(rich)

    class Unseekable(io.RawIOBase):
        def __init__(self, fh):
            self.fh = fh

        def writable(self):
            return True

        def write(self, b):
            return self.fh.write(b)

        def tell(self):
            raise OSError("unseekable")

    with open(rich, "wb") as fh, zipfile.ZipFile(Unseekable(fh), "w", zipfile.ZIP_DEFLATED) as z:
        for name in order:
            z.writestr(name, parts[name])
    assert all(i.flag_bits & 0x08 for i in zipfile.ZipFile(rich).infolist())
    before = tmp_path / "before.xlsm"
    shutil.copyfile(rich, before)
    write_owned(rich, {"findings": findings_frame()}, backup=False)
    with zipfile.ZipFile(rich) as z:
        assert z.testzip() is None
    touched = owned_parts(before, schema.FINDINGS.name)
    old_raw, new_raw = raw_members(before), raw_members(rich)
    assert {n for n in old_raw if old_raw[n] != new_raw[n]} == touched  # findings: 2 old rows -> 3 new
    assert by_header(calamine_rows(rich, schema.FINDINGS.name), 1)[0]["问题说明"] == "=1+1"


def test_symlinked_workbook_written_through_the_link(rich, tmp_path):
    link = tmp_path / "快捷方式.xlsm"
    link.symlink_to(rich)
    write_owned(link, {"findings": findings_frame()}, backup=False)
    assert link.is_symlink()
    assert by_header(calamine_rows(rich, schema.FINDINGS.name), 1)[1]["问题说明"] == "<b>&"


@pytest.fixture(scope="module")
def small_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("small") / "small.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = schema.FINDINGS.name
    ws.append(schema.FINDINGS.headers)
    ws.add_table(Table(displayName=schema.FINDINGS.table, ref="A1:G2"))
    wb.save(path)
    return path


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(min_size=1, max_size=60))
def test_any_text_round_trips(small_template, text):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.xlsx"
        shutil.copyfile(small_template, path)
        frame = pd.DataFrame([["错误", "s", 1, "c", text, "f", "r"]], columns=schema.FINDINGS.fields)
        write_owned(path, {"findings": frame}, backup=False)
        got = by_header(calamine_rows(path, schema.FINDINGS.name), 1)
    expected = re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]", "", text)
    assert got[0]["问题说明"] == expected


def test_side_table_with_clerk_data_beside_an_owned_table_is_never_overwritten(tmp_path):
    path = tmp_path / "旁表.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = schema.FINDINGS.name
    ws.append(schema.FINDINGS.headers + [None, "村里的统计", "数量"])
    ws.append([None] * 8 + ["错误", 3])
    ws.add_table(Table(displayName=schema.FINDINGS.table, ref="A1:G2"))
    ws.add_table(Table(displayName="tblClerkSide", ref="I1:J2"))
    wb.save(path)
    before = path.read_bytes()
    # rewriting the owned rows would wipe the clerk's cells I2:J2: refused, file untouched
    with pytest.raises(errors.WriteRefused, match="第 I 列不是工具生成的列"):
        write_owned(path, {"findings": findings_frame()}, backup=False)
    assert path.read_bytes() == before


def test_prefixed_main_namespace(tmp_path):
    """Some generators write <x:worksheet xmlns:x=...>; new rows use the same prefix."""
    path = tmp_path / "前缀.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = schema.FINDINGS.name
    ws.append(schema.FINDINGS.headers)
    wb.save(path)
    parts, order = read_zip(path)
    part = sheet_parts(parts)[schema.FINDINGS.name][0]
    xml = parts[part].decode()
    xml = re.sub(r"<(/?)([A-Za-z]\w*)(?=[\s/>])", r"<\1x:\2", xml)
    xml = xml.replace('xmlns="http://schemas', 'xmlns:x="http://schemas', 1)
    parts[part] = xml.encode()
    rewrite_zip(path, parts, order)
    write_owned(path, {"findings": findings_frame()}, links={"findings": FINDING_LINKS}, backup=False)
    out = read_zip(path)[0][part]
    root = SafeET.fromstring(out, forbid_dtd=True)
    ns = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    texts = {c.get("r"): "".join(t.text or "" for t in c.iter(f"{ns}t")) for c in root.iter(f"{ns}c")}
    assert texts["E2"] == "=1+1" and texts["F3"] == "-5"
    assert [h.get("ref") for h in root.iter(f"{ns}hyperlink")] == ["E2", "E4"]
    assert b"<x:hyperlinks>" in out and b"<hyperlink " not in out


def test_more_than_65535_parts_refused_cleanly(tmp_path):
    path = tmp_path / "巨大.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        for i in range(65536):
            z.writestr(f"x/{i}", b"")
    before = path.read_bytes()
    with pytest.raises(errors.WriteRefused, match="4GB"):
        write_owned(path, {"findings": findings_frame()})
    assert path.read_bytes() == before


CORPUS_FILES = sorted(p for p in CORPUS.iterdir() if p.is_file() and p.suffix != ".md") if CORPUS.is_dir() else []


@pytest.mark.parametrize("src", CORPUS_FILES, ids=lambda p: p.name)
def test_corpus_files_get_a_clear_answer(src, tmp_path):
    """None of the corpus files is a village workbook: each gets a JifenError (Chinese message
    naming the file), never a traceback, quickly, with nothing written."""
    path = tmp_path / src.name
    shutil.copyfile(src, path)
    with pytest.raises(errors.JifenError) as exc:
        write_owned(path, {"findings": findings_frame()}, now=NOW)
    assert src.name in exc.value.message or str(path) in exc.value.message
    assert re.search(r"[\u4e00-\u9fff]", exc.value.message)
    assert path.read_bytes() == src.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == [src.name]


def test_header_found_deep_in_a_large_shared_string_table(tmp_path):
    """No table; the headers are shared strings at the end of a 50,000-entry table (as Excel
    orders them when a big 积分登记 comes first): the streamed lookup reaches them."""
    path = tmp_path / "大表.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = schema.STOCK.name
    wb.save(path)
    parts, order = read_zip(path)
    part = sheet_parts(parts)[schema.STOCK.name][0]
    filler = [f"登记{i:05d} & <备注>" for i in range(50_000)]
    sst = filler + schema.STOCK.headers
    cells = "".join(f'<c r="{chr(66 + i)}3" t="s"><v>{len(filler) + i}</v></c>'
                    for i in range(len(schema.STOCK.headers)))
    xml = parts[part].decode()
    xml = re.sub(r"<sheetData\s*/>|<sheetData>.*</sheetData>",
                 lambda m: f'<sheetData><row r="3">{cells}</row></sheetData>', xml, flags=re.S)
    parts[part] = xml.encode()
    parts["xl/sharedStrings.xml"] = (
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        + "".join(f"<si><t>{t.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')}</t></si>"
                  for t in sst) + "</sst>").encode()
    parts["[Content_Types].xml"] = add_content_override(
        parts["[Content_Types].xml"].decode(), "xl/sharedStrings.xml",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml").encode()
    parts["xl/_rels/workbook.xml.rels"] = add_relationship(
        parts["xl/_rels/workbook.xml.rels"].decode(), "rIdSst",
        "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings",
        "sharedStrings.xml").encode()
    rewrite_zip(path, parts, order + ["xl/sharedStrings.xml"])
    stock = pd.DataFrame([["2025-03", "G01", "洗衣粉", 12, 0, 2, 10]], columns=schema.STOCK.fields)
    write_owned(path, {"stock": stock}, backup=False)
    rows = calamine_rows(path, schema.STOCK.name)
    assert rows == [schema.STOCK.headers, ["2025-03", "G01", "洗衣粉", 12, 0, 2, 10]]  # calamine starts at B3
    assert '<dimension ref="B3:H4"' in sheet_xml(path, schema.STOCK.name)


# --- 5. printing: long findings get rows tall enough to show them ----------------------

def test_long_findings_get_rows_tall_enough_to_print(village_book, tmp_path):
    """Excel keeps a row's height and LibreOffice does not grow it when printing: a long 问题说明
    would print as one cut-off line. Rows whose wrapped text needs more lines get that height,
    and an independent application (LibreOffice) keeps it."""
    long_message = "户号「0001」的指标「JC-01」累计 12 分后超过每月上限 10 分（从本行起超出），" * 2
    frame = pd.DataFrame([
        ["错误", "积分登记", 3, "积分", "数量不是数字", "请填写数字", "E-ENT-06"],
        ["错误", "积分登记", 4, "积分", long_message, "请核对", "E-ENT-12"],
        ["警告", "积分登记", 5, "备注", "第一行\n第二行\n第三行", "短", "W-ENT-15"],
    ], columns=schema.FINDINGS.fields)
    write_owned(village_book, {"findings": frame}, backup=False)
    ws = openpyxl.load_workbook(village_book)[schema.FINDINGS.name]
    width = ws.column_dimensions["E"].width  # 问题说明
    lines = math.ceil(sum(2 if ord(ch) > 0x2E80 else 1 for ch in long_message) / (width - 1))
    assert lines >= 3
    assert ws.row_dimensions[2].height in (None, 15)  # one line: left to the application
    # 16 points a line and 2 below (look.py): LibreOffice's CJK lines need more than Excel's 15
    assert ws.row_dimensions[3].height == 16 * lines + 2 and ws.row_dimensions[3].customHeight
    assert ws.row_dimensions[4].height == 16 * 3 + 2
    out = tmp_path / "lo-out"
    proc = subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}", "--headless",
         "--convert-to", "xlsx", "--outdir", str(out), str(village_book)], capture_output=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    resaved = openpyxl.load_workbook(out / village_book.name)[schema.FINDINGS.name]
    assert resaved.row_dimensions[3].height == pytest.approx(16 * lines + 2, abs=1)


# --- recalculation on opening (SPEC "Meanings": after any write) ----------------------

#: CT_Workbook's children in schema order (ECMA-376 Part 1, 18.2.27).
WORKBOOK_ORDER = ("fileVersion", "fileSharing", "workbookPr", "workbookProtection", "bookViews", "sheets",
                  "functionGroups", "externalReferences", "definedNames", "calcPr", "oleSize",
                  "customWorkbookViews", "pivotCaches", "smartTagPr", "smartTagTypes", "webPublishing",
                  "fileRecoveryPr", "webPublishObjects", "extLst")
WB_PART = "xl/workbook.xml"


def workbook_children(wb: bytes) -> list[tuple[str, dict]]:
    return [(child.tag.rpartition("}")[2], dict(child.attrib)) for child in SafeET.fromstring(wb)]


def assert_full_calc_on_load(wb: bytes) -> dict:
    """The workbook part asks for a full recalculation on opening, in schema order; the calcPr's attributes."""
    children = workbook_children(wb)
    names = [n for n, _ in children]
    assert names == sorted(names, key=WORKBOOK_ORDER.index), names
    calc = [a for n, a in children if n == "calcPr"]
    assert len(calc) == 1 and calc[0].get("fullCalcOnLoad") == "1", calc
    return calc[0]


def set_workbook(path: Path, edit) -> bytes:
    parts, order = read_zip(path)
    parts[WB_PART] = edit(parts[WB_PART].decode()).encode()
    rewrite_zip(path, parts, order)
    return parts[WB_PART]


NO_CALC = lambda wb: re.sub(r"<calcPr\b[^>]*/>", "", wb)  # noqa: E731


@pytest.mark.parametrize("before, kept", [
    # no calcPr (LibreOffice writes one, some generators none): added after definedNames
    (NO_CALC, {}),
    # LibreOffice's own calcPr: its attributes kept, the request added
    (lambda wb: re.sub(r"<calcPr\b[^>]*/>", '<calcPr iterateCount="100" refMode="A1" iterate="false" '
                                            'iterateDelta="0.0001"/>', wb), {"iterateCount": "100", "refMode": "A1"}),
    # Excel's, with the request turned off, single-quoted
    (lambda wb: re.sub(r"<calcPr\b[^>]*/>", "<calcPr calcId='191029' fullCalcOnLoad='0'/>", wb),
     {"calcId": "191029"}),
    # no calcPr, and elements that must stay after it
    (lambda wb: NO_CALC(wb).replace("</workbook>", '<fileRecoveryPr repairLoad="1"/><extLst/></workbook>'), {}),
    # no calcPr and no definedNames
    (lambda wb: re.sub(r"<definedNames>.*</definedNames>", "", NO_CALC(wb)), {}),
], ids=["none", "libreoffice", "excel-off", "before-extLst", "no-defined-names"])
def test_every_write_asks_for_recalculation_on_opening(rich, before, kept):
    old = set_workbook(rich, before)
    write_owned(rich, {"ledger": ledger_frame()}, backup=False)
    new = read_zip(rich)[0][WB_PART]
    calc = assert_full_calc_on_load(new)
    assert kept.items() <= calc.items()
    # nothing else in the workbook part changes
    undone = re.sub(r"""\s*fullCalcOnLoad\s*=\s*["']1["']|<calcPr fullCalcOnLoad="1"/>""", "", new.decode(), count=1)
    assert undone == re.sub(r"""\s*fullCalcOnLoad\s*=\s*["']0["']""", "", old.decode())


def test_a_patch_alone_asks_for_recalculation_too(rich):
    from jifen_xl.io.base import ColumnPatch

    set_workbook(rich, NO_CALC)
    write_owned(rich, patches=[ColumnPatch("entries", "status", {"E0002": "已确认"})], backup=False)
    assert_full_calc_on_load(read_zip(rich)[0][WB_PART])


def test_recalculation_request_in_a_prefixed_workbook_part(rich):
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"

    def prefixed(wb: str) -> str:
        wb = re.sub(r"<(/?)(?=[A-Za-z])", r"<\1x:", NO_CALC(wb))
        return wb.replace(f'xmlns="{main}"', f'xmlns:x="{main}"')

    set_workbook(rich, prefixed)
    write_owned(rich, {"ledger": ledger_frame()}, backup=False)
    new = read_zip(rich)[0][WB_PART]
    assert_full_calc_on_load(new)
    assert b'<x:calcPr fullCalcOnLoad="1"/></x:workbook>' in new


def _lo_convert_recalculating(src: Path, outdir: Path) -> Path:
    """``lo.lo_convert`` to xlsx with LibreOffice set to recalculate every formula when it loads an
    Excel 2007+ file (Tools > Options > Calc > Formula > "Recalculation on file load": Always)."""
    from .lo import SOFFICE

    profile = Path(tempfile.mkdtemp(prefix="lo-recalc-"))
    (profile / "user").mkdir()
    (profile / "user" / "registrymodifications.xcu").write_text(
        '<?xml version="1.0" encoding="UTF-8"?><oor:items xmlns:oor="http://openoffice.org/2001/registry" '
        'xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        '<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse">'
        "<value>0</value></prop></item></oor:items>", encoding="utf-8")
    try:
        subprocess.run([SOFFICE, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore", "--calc",
                        "--convert-to", "xlsx", "--outdir", str(outdir), str(src)],
                       capture_output=True, timeout=120, check=True)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    return outdir / f"{src.stem}.xlsx"


@pytest.mark.skipif(shutil.which("soffice") is None and shutil.which("libreoffice") is None,
                    reason="LibreOffice (soffice) not installed")
def test_clerks_sumifs_over_the_ledger_is_not_left_stale(tmp_path):
    """A clerk's SUMIFS over 月度台账 in a workbook last saved by LibreOffice: after ``ledger``
    writes 月度台账, the workbook asks for a full recalculation on opening.

    What each program does with that (investigated with LibreOffice 7.4 headless):
    * Excel honours ``<calcPr fullCalcOnLoad="1">`` (ECMA-376 18.2.2): every formula is
      recalculated when the file opens. Asserted here: the attribute, LibreOffice's other calcPr
      attributes kept, CT_Workbook's element order.
    * LibreOffice ignores the attribute. It recalculates on load according to the user's setting
      (Tools > Options > Calc > Formula > Recalculation on file load; "Prompt user" by default,
      which asks when a window is open and never recalculates headless). With it set to "Always"
      the clerk's SUMIFS shows the new figures: asserted here, so the written ledger and the
      clerk's formula agree once recalculated. (Without the setting, LibreOffice headless keeps
      the cached 0 whatever the file says; the toolkit cannot change that without rewriting the
      clerk's own formula cells, which it never does.)
    """
    from jifen_xl import app

    from .conftest import TODAY, build
    from .lo import lo_convert

    source = build(tmp_path / "源.xlsx")
    wb = openpyxl.load_workbook(source)
    ws = wb.create_sheet("汇总")
    ws["A1"], ws["B1"] = "1月当月积分合计", '=SUMIFS(月度台账!G:G,月度台账!A:A,"2026-01")'
    ws["A2"], ws["B2"] = "累计积分合计", "=SUM(月度台账!H:H)"
    wb.save(tmp_path / "永宁寺村.xlsx")
    book = lo_convert(tmp_path / "永宁寺村.xlsx", "xlsx", tmp_path / "lo")  # last saved by LibreOffice
    assert b"LibreOffice" in zipfile.ZipFile(book).read("docProps/app.xml")
    old_calc = dict(workbook_children(zipfile.ZipFile(book).read(WB_PART)))["calcPr"]
    assert "fullCalcOnLoad" not in old_calc
    assert [c.value for c in openpyxl.load_workbook(book, data_only=True)["汇总"]["B"]] == [0, 0]

    result = app.ledger_book(app.open_backend(book), today=TODAY)
    ledger = result.ledger
    assert_full_calc_on_load(zipfile.ZipFile(book).read(WB_PART)).items() >= old_calc.items()

    opened = _lo_convert_recalculating(book, tmp_path / "opened")
    figures = [c.value for c in openpyxl.load_workbook(opened, data_only=True)["汇总"]["B"]]
    expected = [ledger.loc[ledger["month"] == "2026-01", "month_total"].sum(), ledger["cumulative"].sum()]
    assert expected[0] > 0 and figures == expected


def test_calc_chain_dropped_when_its_entries_are_written_with_end_tags(rich):
    """A producer may write ``<Relationship ...></Relationship>`` (legal XML): dropping the
    emptied calcChain removes the whole element, never leaving a stray end tag behind."""
    parts, order = read_zip(rich)
    led_id = sheet_parts(parts)[schema.LEDGER.name][1]
    parts["xl/calcChain.xml"] = (
        '<calcChain xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<c r="G2" i="{led_id}"/></calcChain>').encode()
    for name, tag in (("xl/_rels/workbook.xml.rels", "Relationship"), ("[Content_Types].xml", "Override")):
        text = parts[name].decode()
        text, n = re.subn(r'(<%s\b[^>]*calcChain[^>]*?)\s*/>' % tag, r"\1></%s>" % tag, text)
        assert n == 1
        parts[name] = text.encode()
    rewrite_zip(rich, parts, order)
    write_owned(rich, {"ledger": ledger_frame()}, backup=False)
    new_parts, _ = read_zip(rich)
    assert "xl/calcChain.xml" not in new_parts
    for name in ("xl/_rels/workbook.xml.rels", "[Content_Types].xml"):
        assert b"calcChain" not in new_parts[name]
        SafeET.fromstring(new_parts[name])
    openpyxl.load_workbook(rich, keep_vba=True)
