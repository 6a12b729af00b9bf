"""Reading what clerks really produce: every unreadable file gets one clear Chinese message."""

from __future__ import annotations

import shutil

import openpyxl
import pytest

from jifen_xl import app
from jifen_xl.errors import WorkbookUnreadable

from .conftest import CORPUS, TODAY


def unreadable(path) -> str:
    with pytest.raises(WorkbookUnreadable) as info:
        app.check(app.open_backend(path), today=TODAY)
    assert info.value.exit_code == 2
    return str(info.value)


def test_encrypted_workbook_says_how_to_remove_the_password(tmp_path):
    book = shutil.copy(CORPUS / "pass_protected.xlsx", tmp_path / "加密.xlsx")
    msg = unreadable(book)
    assert msg.startswith("文件「加密.xlsx」设置了打开密码")
    assert "保护工作簿" in msg and "WPS" in msg


def test_truncated_file_is_reported_as_damaged(village_book, tmp_path):
    data = village_book.read_bytes()
    cut = tmp_path / "半截.xlsx"
    cut.write_bytes(data[: len(data) // 2])
    assert unreadable(cut).startswith("文件「半截.xlsx」已损坏")


def test_empty_file(tmp_path):
    empty = tmp_path / "空.xlsx"
    empty.write_bytes(b"")
    assert unreadable(empty) == "文件「空.xlsx」是空文件（0 字节），可能复制时中断。请重新复制原文件。"


def test_html_saved_as_xls_names_what_it_is(tmp_path):
    page = tmp_path / "导出.xls"
    page.write_text("<html><body><table><tr><td>户号</td></tr></table></body></html>", encoding="utf-8")
    msg = unreadable(page)
    assert "其实是网页（HTML）格式" in msg and "另存为" in msg


def test_xml_spreadsheet_2003_is_named_for_what_it_is(tmp_path):
    page = tmp_path / "系统导出.xls"
    page.write_text('<?xml version="1.0"?>\n<?mso-application progid="Excel.Sheet"?>\n'
                    '<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet" '
                    'xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet"><Worksheet ss:Name="住户名册">'
                    '<Table><Row><Cell><Data ss:Type="String">户号</Data></Cell></Row></Table>'
                    "</Worksheet></Workbook>", encoding="utf-8")
    msg = unreadable(page)
    assert msg.startswith("文件「系统导出.xls」是“XML 电子表格 2003”格式")
    assert "另存为" in msg and "HTML" not in msg


def test_csv_with_an_excel_name(tmp_path):
    text = tmp_path / "名册.xlsx"
    text.write_text("户号,户主姓名\n0001,张大山\n", encoding="gb18030")
    assert "其实是文本（CSV/TXT）格式" in unreadable(text)


def test_missing_file_and_folder(tmp_path):
    assert unreadable(tmp_path / "没有.xlsx").startswith("找不到文件")
    assert "是文件夹" in unreadable(tmp_path)


def test_missing_sheet_and_renamed_header_are_all_named_at_once(village_book):
    wb = openpyxl.load_workbook(village_book)
    wb["物资入库"].title = "入库登记"
    ws = wb["积分登记"]
    header = next(c for c in ws[1] if c.value == "户号")
    header.value = "户编号"
    wb.save(village_book)
    msg = unreadable(village_book)
    assert "文件「永宁寺村.xlsx」缺少工作表「物资入库」。最接近的是「入库登记」，如果就是它，请把工作表名改为「物资入库」。" in msg
    assert "工作表「积分登记」第 1 行缺少列：「户号」（最接近的是「户编号」，请改回「户号」）" in msg


def test_not_a_workbook_zip(tmp_path):
    import zipfile

    z = tmp_path / "照片.xlsx"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("photo.jpg", b"\xff\xd8\xff")
    assert "不是 Excel 工作簿" in unreadable(z)


def test_xlsm_is_read_like_xlsx(village_book, tmp_path):
    # The toolkit's reader goes by content, not by the name: a macro workbook reads the same.
    xlsm = shutil.copy(village_book, tmp_path / "永宁寺村.xlsm")
    loaded, report = app.check(app.open_backend(xlsm), today=TODAY)
    assert report.valid and len(loaded.village["entries"]) == 10


def test_clerks_text_starting_with_equals_is_data_not_a_formula(village_book):
    wb = openpyxl.load_workbook(village_book)
    ws = wb["积分登记"]
    note = [c.column for c in ws[1] if c.value == "备注"][0]
    ws.cell(2, note).value = "=自愿申报"
    ws.cell(2, note).data_type = "s"
    wb.save(village_book)
    loaded, report = app.check(app.open_backend(village_book), today=TODAY)
    assert loaded.village["entries"].loc[0, "note"] == "=自愿申报"
    assert report.valid


def _rewrite_part(book, part, fn):
    import zipfile

    tmp = book.with_suffix(".tmp")
    with zipfile.ZipFile(book) as zin, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            zout.writestr(info, fn(data) if info.filename == part else data)
    tmp.replace(book)


def test_one_far_away_cell_is_refused_quickly_not_allocated(village_book):
    import time

    from jifen_xl.io.package import Package

    with Package(village_book) as pkg:
        part = pkg.sheet_parts()["积分登记"]
    far = b'<row r="1048000"><c r="BZ1048000" t="inlineStr"><is><t>x</t></is></c></row></sheetData>'
    _rewrite_part(village_book, part, lambda d: d.replace(b"</sheetData>", far))
    start = time.perf_counter()
    msg = unreadable(village_book)
    assert time.perf_counter() - start < 5
    assert msg == ("文件「永宁寺村.xlsx」的工作表「积分登记」的数据范围延伸到 BZ1048000，远超村级工作簿的规模（可能是远处的单元格里有内容或格式）。"
                   "请在 Excel 中按 Ctrl+End 找到最后一个单元格，删除多余的行和列后保存，再重试。")


def _html_village(path, tables):
    """A web system's export: one captioned <table> per sheet (some named by a heading), saved as .xls."""
    import html as h

    from jifen_xl import schema as S

    from . import village_data as V

    parts = ["<html><head><meta charset='gb2312'></head><body>"]
    kv = "".join(f"<tr><td>{c.header}</td><td>{V.SETTINGS.get(c.field, '') or ''}</td></tr>" for c in S.SETTINGS.kv_rows)
    parts.append(f"<table><caption>{S.SETTINGS.name}</caption><tr><th>项目</th><th>内容</th></tr>{kv}</table>")
    for i, (key, df) in enumerate(tables.items()):
        spec = S.sheet(key)
        head = "".join(f"<th>{c}</th>" for c in spec.headers)
        body = "".join("<tr>" + "".join(f"<td>{'' if v is None or v != v else h.escape(str(v))}</td>" for v in row) + "</tr>"
                       for row in df[spec.fields].itertuples(index=False))
        title = f"<caption>{spec.name}</caption>" if i % 2 else ""
        before = "" if i % 2 else f"<h3>{spec.name}</h3>"
        parts.append(f"{before}<table border=1>{title}<tr><td colspan='{len(spec.headers)}'>{V.SETTINGS['village']}</td></tr>"
                     f"<tr>{head}</tr>{body}</table>")
    parts.append("</body></html>")
    path.write_bytes("".join(parts).encode("gb18030"))
    return path


def test_html_export_that_follows_the_contract_is_read(tmp_path, tables):
    from click.testing import CliRunner

    from jifen_xl.cli import cli

    from . import village_data as V
    from .test_ledger import as_expected

    book = _html_village(tmp_path / "网上导出.xls", tables)
    loaded, report = app.check(app.open_backend(book), today=TODAY)
    assert report.valid, report.problems
    assert as_expected(app.ledger_book(app.open_backend(book), month="2026-03", dry_run=True, today=TODAY).ledger) == V.EXPECTED
    refused = CliRunner().invoke(cli, ["validate", str(book)])
    assert refused.exit_code == 1
    assert refused.output.startswith("校验通过：没有发现问题。\n错误：上面的校验结果没有写入「校验结果」工作表。"
                                     "文件「网上导出.xls」只能读取，工具不能写入这种格式。请在 Excel 或 WPS 中打开它")


def test_cells_merged_over_several_rows_count_for_every_row(tmp_path, tables):
    from .conftest import build
    from .test_ledger import as_expected
    from . import village_data as V

    entries = tables["entries"].sort_values(["hh_id", "date"], kind="stable").reset_index(drop=True)
    book = build(tmp_path / "合并.xlsx", dict(tables, entries=entries))
    wb = openpyxl.load_workbook(book)
    ws = wb["积分登记"]
    col = [c.column for c in ws[1] if c.value == "户号"][0]
    rows = [r for r in range(2, ws.max_row + 1) if ws.cell(r, col).value == "0002"]
    assert len(rows) == 3 and rows == list(range(rows[0], rows[0] + 3))
    ws.merge_cells(start_row=rows[0], start_column=col, end_row=rows[-1], end_column=col)  # keeps the top value
    wb.save(book)
    loaded, report = app.check(app.open_backend(book), today=TODAY)
    assert report.valid, report.problems
    assert list(loaded.village["entries"].query("excel_row in @rows")["hh_id"]) == ["0002"] * 3
    assert as_expected(app.ledger_book(app.open_backend(book), month="2026-03", dry_run=True, today=TODAY).ledger) == V.EXPECTED


def test_uncalculated_formula_found_in_a_prefixed_sheet(village_book):
    """Some generators write <x:worksheet><x:sheetData><x:c r=.. ><x:f>: still reported."""
    import re as _re

    from jifen_xl.io.package import Package

    with Package(village_book) as pkg:
        part = pkg.sheet_parts()["积分登记"]

    def prefixed(xml: bytes) -> bytes:
        text = xml.decode()
        header = _re.search(r'<c r="([A-Z]+)1"[^>]*>(?:(?!</c>).)*积分</t>', text)
        assert header, "积分 header cell"
        col = header.group(1)
        text = _re.sub(rf'<c r="{col}2"[^>]*?(?:/>|>.*?</c>)', f'<c r="{col}2"><f>1+1</f><v></v></c>', text, count=1,
                       flags=_re.S)
        text = _re.sub(r"<(/?)([A-Za-z]\w*)(?=[\s/>])", r"<\1x:\2", text)
        return text.replace('xmlns="http://schemas', 'xmlns:x="http://schemas', 1).encode()

    _rewrite_part(village_book, part, prefixed)
    _, report = app.check(app.open_backend(village_book), today=TODAY)
    assert [(p.row, p.column, p.rule) for p in report.problems] == [(2, "积分", "E-FMT-NOCALC")]
