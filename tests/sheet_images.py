"""One-sheet notice images (what ``io/xlsxfill`` makes from the notice template) built with
openpyxl for the writer's tests: a title merged over the columns, wrapped text, borders, fills,
bold and large fonts, number formats, row heights, column widths, A4 portrait fitting the width,
print titles, a print area, header and footer with page numbers, margins, two pages of rows."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.worksheet.page import PageMargins

TITLE = "永宁寺村2026年3月乡村治理积分公示"
HEADERS = ["户号", "户主", "当月加分", "当月扣分", "当月积分", "累计积分", "排名", "加扣分事由"]
WIDTHS = [8, 10, 9, 9, 9, 10, 6, 40]


def household_rows(n: int, month: int = 3) -> list[list]:
    """``n`` notice lines: 户号, 户主, 加分, 扣分, 当月积分, 累计积分, 排名, 事由."""
    out = []
    for i in range(n):
        plus, minus = 5 + i % 4 * 2.5, -(i % 3) * 2
        out.append([f"H{i + 1:03d}", f"村民{i + 1}号", plus, minus, plus + minus, 100 + i * 1.5 + month,
                    i + 1, "房前屋后干净整洁；参加志愿服务" + ("，邻里纠纷扣分" if minus else "")])
    return out


def build_notice_image(path: Path, *, title: str = TITLE, households: int = 60, sheet_title: str = "公示",
                       month: int = 3) -> Path:
    """Write a one-sheet notice image to ``path`` and return it."""
    wb = Workbook()
    ws = wb.active
    ws.title = sheet_title
    last = len(HEADERS)
    thin = Side(style="thin", color="FF000000")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    ws.cell(1, 1, title).font = Font(name="宋体", size=18, bold=True)
    ws.cell(1, 1).alignment = Alignment(horizontal="center", vertical="center")
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=last)
    ws.row_dimensions[1].height = 36
    ws.cell(2, 1, f"公示期：2026年4月1日至2026年4月7日。对公示内容有异议的，请在公示期内向村委会张主任（电话 13800000000）"
                  f"实名反映。（{month}月）")
    ws.cell(2, 1).alignment = Alignment(wrap_text=True, vertical="top")
    ws.cell(2, 1).font = Font(name="宋体", size=11)
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=last)
    ws.row_dimensions[2].height = 32
    ws.cell(3, 1, "一、本月积分情况").font = Font(name="黑体", size=12, bold=True)
    for c, h in enumerate(HEADERS, start=1):
        cell = ws.cell(4, c, h)
        cell.font = Font(name="宋体", size=11, bold=True)
        cell.fill = PatternFill("solid", fgColor="FFD9E1F2")
        cell.border = box
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    ws.row_dimensions[4].height = 22
    for r, line in enumerate(household_rows(households, month), start=5):
        for c, v in enumerate(line, start=1):
            cell = ws.cell(r, c, v)
            cell.border = box
            cell.font = Font(name="宋体", size=10.5)
            if c in (3, 4, 5, 6):
                cell.number_format = "0.0;[Red]-0.0" if c == 4 else "0.##"
            if c == 8:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    end = 5 + households
    ws.cell(end + 1, 1, "积分评议小组：").font = Font(name="宋体", size=11)
    ws.cell(end + 1, 5, "监督管理小组：").font = Font(name="宋体", size=11)
    ws.cell(end + 2, 5, "永宁寺村村民委员会").font = Font(name="宋体", size=11, bold=True)
    ws.cell(end + 3, 5, "2026年4月1日").font = Font(name="宋体", size=11, italic=True, color="FF1F4E79")
    for c, w in enumerate(WIDTHS, start=1):
        ws.column_dimensions[chr(64 + c)].width = w
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = ws.ORIENTATION_PORTRAIT
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "3:4"
    ws.print_area = f"A1:H{end + 3}"
    ws.print_options.horizontalCentered = True
    ws.page_margins = PageMargins(left=0.5, right=0.5, top=0.75, bottom=0.75, header=0.3, footer=0.3)
    ws.oddHeader.center.text = "&A"
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"
    wb.save(path)
    return path
