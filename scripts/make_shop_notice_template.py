"""Build ``templates/超市公示模板.xlsx``, the Excel template of the love supermarket's monthly
posting (物资接收与兑换公示, issue 10).

Deterministic: the same cells, styles and page setup every run (tests/test_shop_notice.py checks
the committed file equals a fresh build). Run from the repository root:

    python scripts/make_shop_notice_template.py [OUT]

Four tables, each with its own header row right above its ``{% for %}`` marker row: when the
posting is printed, a table that runs onto the next page gets that header again there, and
pages break at the blank rows between the tables (see templates/README.md).
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.worksheet.properties import PageSetupProperties

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "templates" / "超市公示模板.xlsx"
SHEET = "超市公示"

#: Noto Sans CJK SC where it is installed (LibreOffice on Linux); charset 134 (GB2312) makes
#: Excel and WPS substitute 宋体 where it is not.
FONT = "Noto Sans CJK SC"
GB2312 = 134
#: Fixed document dates, so a rebuild gives the same file.
STAMP = dt.datetime(2026, 1, 1)
#: Column widths A..H, shared by the four tables (merged cells make the wider columns).
WIDTHS = {"A": 11, "B": 10, "C": 13, "D": 15, "E": 12, "F": 9, "G": 9, "H": 13}
LAST = "H"
THIN = Side(style="thin", color="000000")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
GREY = PatternFill("solid", fgColor="E7E6E6")
MONEY = "#,##0.00"


def font(size=11, bold=False) -> Font:
    return Font(name=FONT, charset=GB2312, size=size, bold=bold)


def line(ws, row: int, text: str, *, size=11, bold=False, align="left", wrap=False, height=None, first="A"):
    """One text spanning the columns ``first``..H."""
    ws.merge_cells(f"{first}{row}:{LAST}{row}")
    cell = ws[f"{first}{row}"]
    cell.value = text
    cell.font = font(size, bold)
    cell.alignment = Alignment(horizontal=align, vertical="center", wrap_text=wrap)
    if height:
        ws.row_dimensions[row].height = height


def table_row(ws, row: int, cells: list[tuple], *, header=False, bold=False, height=20):
    """A boxed row: ``cells`` = (first column, last column, value, alignment[, number format])."""
    ws.row_dimensions[row].height = height
    for first, last, value, align, *fmt in cells:
        if first != last:
            ws.merge_cells(f"{first}{row}:{last}{row}")
        for col in range(ord(first), ord(last) + 1):
            cell = ws[f"{chr(col)}{row}"]
            cell.border = BOX
            cell.font = font(11, bold=header or bold)
            if header:
                cell.fill = GREY
            cell.alignment = Alignment(horizontal="center" if header else align, vertical="center", wrap_text=True)
            if fmt:
                cell.number_format = fmt[0]
        ws[f"{first}{row}"].value = value


def marker(ws, row: int, text: str):
    ws[f"A{row}"] = text
    ws[f"A{row}"].font = font(9)


def block(ws, row: int, loop: str, cells: list[tuple]) -> int:
    """Marker row, the repeated row, end marker; returns the next free row."""
    marker(ws, row, loop)
    table_row(ws, row + 1, cells)
    marker(ws, row + 2, "{% endfor %}")
    return row + 3


def empty_block(ws, row: int, loop: str) -> int:
    """「本月无…」 once when a list is empty (the list ``no_…`` holds that one sentence)."""
    marker(ws, row, loop)
    table_row(ws, row + 1, [("A", LAST, "{{ x }}", "center")])
    marker(ws, row + 2, "{% endfor %}")
    return row + 3


def spacer(ws, row: int) -> int:
    ws.row_dimensions[row].height = 10
    return row + 1


def build(out: Path = OUT) -> Path:
    wb = Workbook()
    wb.properties.creator = "jifen-xl"
    wb.properties.created = wb.properties.modified = STAMP
    ws = wb.active
    ws.title = SHEET
    ws.sheet_view.showGridLines = False
    for col, width in WIDTHS.items():
        ws.column_dimensions[col].width = width

    line(ws, 1, "{{ title }}", size=17, bold=True, align="center", height=36, wrap=True)
    line(ws, 2, "{{ district }}{{ township }}{{ village }}", size=11, align="center", height=18)
    # two ideographic spaces: the paragraph's first-line indent of a Chinese notice
    line(ws, 3, "\u3000\u3000{{ period_sentence }}", size=11, wrap=True, height=50)
    r = spacer(ws, 4)

    line(ws, r, "一、本月物资接收明细（{{ totals.receipts }}笔）", size=12, bold=True, height=24)
    table_row(ws, r + 1, [("A", "A", "日期", ""), ("B", "B", "入库编号", ""), ("C", "C", "来源类型", ""),
                          ("D", "D", "捐赠方", ""), ("E", "F", "物资名称（规格/单位）", ""), ("G", "G", "数量", ""),
                          ("H", "H", "折合金额（元）", "")], header=True, height=22)
    r = block(ws, r + 2, "{% for r in receipts %}", [
        ("A", "A", "{{ r.date_text }}", "center"), ("B", "B", "{{ r.receipt_id }}", "center"),
        ("C", "C", "{{ r.source }}", "center"), ("D", "D", "{{ r.donor }}", "left"),
        ("E", "F", "{{ r.item }}", "left"), ("G", "G", "{{ r.qty }}", "center", "0"),
        ("H", "H", "{{ r.amount if r.amount is not none else r.amount_text }}", "right", MONEY)])
    r = empty_block(ws, r, "{% for x in no_receipts %}")
    r = spacer(ws, r)

    line(ws, r, "二、按来源汇总", size=12, bold=True, height=24)
    table_row(ws, r + 1, [("A", "B", "来源类型", ""), ("C", "E", "捐赠方", ""), ("F", "F", "笔数", ""),
                          ("G", "G", "数量", ""), ("H", "H", "折合金额（元）", "")], header=True, height=22)
    r = block(ws, r + 2, "{% for s in sources %}", [
        ("A", "B", "{{ s.source }}", "center"), ("C", "E", "{{ s.donors }}", "left"),
        ("F", "F", "{{ s.count }}", "center", "0"), ("G", "G", "{{ s.qty }}", "center", "0"),
        ("H", "H", "{{ s.amount }}", "right", MONEY)])
    table_row(ws, r, [("A", "B", "合计", "center"), ("C", "E", "{{ totals.sources }}类来源", "left"),
                      ("F", "F", "{{ totals.receipts }}", "center", "0"), ("G", "G", "{{ totals.qty }}", "center", "0"),
                      ("H", "H", "{{ totals.amount }}", "right", MONEY)], bold=True)
    r = spacer(ws, r + 1)

    line(ws, r, "三、积分兑换（按户）", size=12, bold=True, height=24)
    table_row(ws, r + 1, [("A", "A", "户号", ""), ("B", "B", "户主", ""), ("C", "E", "兑换物品（数量）", ""),
                          ("F", "F", "兑换笔数", ""), ("G", "G", "消耗积分", ""), ("H", "H", "兑换后可用积分", "")],
              header=True, height=22)
    r = block(ws, r + 2, "{% for h in households %}", [
        ("A", "A", "{{ h.hh_id }}", "center"), ("B", "B", "{{ h.head }}", "center"),
        ("C", "E", "{{ h.goods }}", "left"), ("F", "F", "{{ h.count }}", "center", "0"),
        ("G", "G", "{{ h.points }}", "center", "0.##"), ("H", "H", "{{ h.available }}", "center", "0.##")])
    r = empty_block(ws, r, "{% for x in no_exchanges %}")
    table_row(ws, r, [("A", "B", "合计（{{ totals.households }}户）", "center"), ("C", "E", "", "left"),
                      ("F", "F", "{{ totals.exchanges }}", "center", "0"),
                      ("G", "G", "{{ totals.points }}", "center", "0.##"), ("H", "H", "", "center")], bold=True)
    r = spacer(ws, r + 1)

    line(ws, r, "四、月末库存", size=12, bold=True, height=24)
    table_row(ws, r + 1, [("A", "A", "商品编码", ""), ("B", "C", "商品名称（规格/单位）", ""), ("D", "D", "期初库存", ""),
                          ("E", "E", "本月入库", ""), ("F", "F", "本月出库", ""), ("G", "G", "期末库存", ""),
                          ("H", "H", "备注", "")], header=True, height=22)
    r = block(ws, r + 2, "{% for g in stock %}", [
        ("A", "A", "{{ g.goods_id }}", "center"), ("B", "C", "{{ g.item }}", "left"),
        ("D", "D", "{{ g.opening }}", "center", "0"), ("E", "E", "{{ g.received }}", "center", "0"),
        ("F", "F", "{{ g.issued }}", "center", "0"), ("G", "G", "{{ g.closing }}", "center", "0"),
        ("H", "H", "{{ g.mark }}", "center")])
    # the note and the signature stay with the last rows of the stock table (no blank row between)
    line(ws, r, "{{ note }}", size=10, wrap=True, height=44)
    line(ws, r + 1, "{{ signature.shop }}", size=12, align="center", height=34, first="E")
    line(ws, r + 2, "{{ signature.committee }}", size=12, align="center", height=22, first="E")
    line(ws, r + 3, "{{ date_text }}", size=12, align="center", height=22, first="E")

    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.6
    ws.page_margins.top, ws.page_margins.bottom = 0.7, 0.8
    ws.page_margins.header, ws.page_margins.footer = 0.3, 0.35
    ws.oddFooter.center.text = "第 &P 页 共 &N 页"
    ws.oddFooter.center.font = FONT
    ws.oddFooter.center.size = 10

    help_ = wb.create_sheet("填写说明")
    help_.column_dimensions["A"].width = 100
    lines = [
        "这个文件是爱心超市每月“物资接收与兑换公示”的模板：第一个工作表按村里的格式排版，工具按它生成公示。",
        "可以改字体、字号、列宽、行高、边框、文字，也可以增删行和列；改好后保存，工具下次生成公示就用新的样式。",
        "{{ 名称 }} 是占位符，生成时换成本月的内容；{% for … %} 和 {% endfor %} 所在的是标记行，它们之间的行每项重复一次，标记行本身不打印。",
        "每个 {% for %} 标记行正上方的一行是这张表的表头：表格跨页时，工具在下一页顶端再印一次表头；各表之间的空行处可以分页。",
        "可用的名称：title 标题，district 区县，township 镇街，village 村，month_text 月份，period_text 公示期，",
        "period_sentence 公示说明（公示期和异议受理人、电话），note 注释，date_text 落款日期，signature.shop / signature.committee 落款单位，",
        "receipts 入库（r.date_text 日期，r.receipt_id 入库编号，r.source 来源类型，r.donor 捐赠方，r.item 物资，r.qty 数量，r.amount 折合金额），",
        "sources 按来源汇总（s.source，s.donors，s.count 笔数，s.qty 数量，s.amount 金额），",
        "households 兑换的户（h.hh_id 户号，h.head 户主，h.goods 兑换物品，h.count 笔数，h.points 消耗积分，h.available 兑换后可用积分），",
        "stock 月末库存（g.goods_id 商品编码，g.item 商品名称，g.opening 期初，g.received 入库，g.issued 出库，g.closing 期末，g.mark 备注），",
        "totals.receipts 入库笔数，totals.sources 来源类数，totals.qty 入库数量，totals.amount 金额合计，",
        "totals.households 兑换户数，totals.exchanges 兑换笔数，totals.points 消耗积分合计。",
        "公示不会出现身份证号和户的联系电话；占位符写错时，工具会指出是哪个单元格。",
    ]
    for i, text in enumerate(lines, start=1):
        help_.cell(i, 1, text).font = font(11)
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return out


if __name__ == "__main__":
    print(build(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT))
