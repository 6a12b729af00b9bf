"""Build ``templates/公示模板.xlsx``, the Excel notice template (issue 9).

Deterministic: the same cells, styles and page setup every run (tests/test_notice.py checks the
committed file equals a fresh build). Run from the repository root:

    python scripts/make_notice_template.py [OUT]

A village may then edit the wording and layout in Excel; see templates/README.md for the
placeholders and the repeated-row markers.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.worksheet.properties import PageSetupProperties

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's jifen_xl, whatever else is installed

from jifen_xl.schema import NOTICE_SHEET_NAME  # noqa: E402

OUT = ROOT / "templates" / "公示模板.xlsx"

#: Noto Sans CJK SC where it is installed (LibreOffice on Linux); charset 134 (GB2312) makes
#: Excel and WPS substitute 宋体 where it is not.
FONT = "Noto Sans CJK SC"
GB2312 = 134
#: Fixed document dates, so a rebuild gives the same file.
STAMP = dt.datetime(2026, 1, 1)

#: Columns: (header, width, placeholder, horizontal alignment, wraps).
COLUMNS = [
    ("户号", 8, "{{ h.hh_id }}", "center", False),
    ("户主", 10, "{{ h.head }}", "center", False),
    ("当月加分", 9, "{{ h.plus }}", "center", False),
    ("当月扣分", 9, "{{ h.minus }}", "center", False),
    ("当月积分", 9, "{{ h.total }}", "center", False),
    ("累计积分", 9, "{{ h.cumulative }}", "center", False),
    ("排名", 6, "{{ h.rank }}", "center", False),
    ("积分事由", 34, "{{ h.reasons }}", "left", True),
]
LAST = "H"
HEADER_ROW = 3
THIN = Side(style="thin", color="000000")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)


def font(size=11, bold=False) -> Font:
    return Font(name=FONT, charset=GB2312, size=size, bold=bold)


def merged(ws, row: int, first: str, text: str, *, size=11, bold=False, align="left", wrap=False, height=None):
    ws.merge_cells(f"{first}{row}:{LAST}{row}")
    cell = ws[f"{first}{row}"]
    cell.value = text
    cell.font = font(size, bold)
    cell.alignment = Alignment(horizontal=align, vertical="center", wrap_text=wrap)
    if height:
        ws.row_dimensions[row].height = height


def build(out: Path = OUT) -> Path:
    wb = Workbook()
    wb.properties.creator = "jifen-xl"
    wb.properties.created = wb.properties.modified = STAMP
    ws = wb.active
    ws.title = NOTICE_SHEET_NAME
    ws.sheet_view.showGridLines = False
    for i, (_, width, _, _, _) in enumerate(COLUMNS):
        ws.column_dimensions[chr(ord("A") + i)].width = width

    merged(ws, 1, "A", "{{ title }}", size=18, bold=True, align="center", height=40)
    # two ideographic spaces: the paragraph's first-line indent of a Chinese notice
    merged(ws, 2, "A", "\u3000\u3000{{ period_sentence }}", size=12, wrap=True, height=52)
    ws.row_dimensions[HEADER_ROW].height = 22
    for i, (header, *_rest) in enumerate(COLUMNS, start=1):
        cell = ws.cell(HEADER_ROW, i, header)
        cell.font = font(11, bold=True)
        cell.fill = PatternFill("solid", fgColor="E7E6E6")
        cell.border = BOX
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    # The repeated rows: marker row, one row per household, end marker.
    ws["A4"] = "{% for h in households %}"
    ws["A4"].font = font(9)
    ws.row_dimensions[5].height = 20
    for i, (_, _, placeholder, align, wrap) in enumerate(COLUMNS, start=1):
        cell = ws.cell(5, i, placeholder)
        cell.font = font(11)
        cell.border = BOX
        cell.alignment = Alignment(horizontal=align, vertical="center", wrap_text=wrap, indent=1 if wrap else 0)
    ws["A6"] = "{% endfor %}"
    ws["A6"].font = font(9)
    # Totals.
    ws.merge_cells("A7:B7")
    totals = {"A": "合计（{{ totals.households }}户）", "C": "{{ totals.plus }}", "D": "{{ totals.minus }}",
              "E": "{{ totals.total }}", "F": None, "G": None,
              "H": "本月{{ totals.scored }}户有积分变动，共{{ totals.entries }}条登记"}
    for col in "ABCDEFGH":
        cell = ws[f"{col}7"]
        if col != "B":  # B7 is inside the merged A7:B7
            cell.value = totals.get(col)
        cell.font = font(11, bold=True)
        cell.border = BOX
        cell.alignment = Alignment(horizontal="left" if col == "H" else "center", vertical="center",
                                   wrap_text=col == "H")
    ws.row_dimensions[7].height = 20
    merged(ws, 8, "A", "{{ note }}", size=10, wrap=True, height=30)
    merged(ws, 9, "A", "{% if code %}封账校验码：{{ code }}{% endif %}", size=10)
    ws.row_dimensions[10].height = 12
    for row, text in ((11, "{{ signature.review }}"), (12, "{{ signature.supervise }}"),
                      (13, "{{ signature.committee }}"), (14, "{{ date_text }}")):
        merged(ws, row, "F", text, size=12, align="center", height=22)

    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
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
        "这个文件是本村公示的模板：第一个工作表「公示」按村里的格式排版，工具按它生成每月的公示。",
        "可以改字体、字号、列宽、行高、边框、文字，也可以增删行和列；改好后保存，工具下次生成公示就用新的样式。",
        "{{ 名称 }} 是占位符，生成时换成本月的内容，例如 {{ title }} 换成「永宁寺村2026年3月乡村治理积分公示」。",
        "第 4 行的 {% for h in households %} 和第 6 行的 {% endfor %} 是标记行：它们之间的行每户重复一次，标记行本身不打印。",
        "标记行里只能有这一个单元格；重复的行里用 {{ h.名称 }} 取本户的内容。",
        "可用的名称：title 标题，district 区县，township 镇街，village 村，month_text 月份，period_text 公示期，",
        "period_sentence 公示说明（公示期和异议受理人、电话），objection_contact 异议受理人，objection_phone 联系电话，",
        "note 注释，code 封账校验码（封账后才有），date_text 落款日期，",
        "signature.review / signature.supervise / signature.committee 落款单位，",
        "totals.households 户数，totals.scored 有积分变动的户数，totals.entries 登记条数，totals.plus / totals.minus / totals.total 合计。",
        "每户（h.）：hh_id 户号，head 户主，plus 当月加分，minus 当月扣分，total 当月积分，cumulative 累计积分，",
        "rank 排名，reasons 积分事由，items 加分项目，deductions 扣分类别，loop.index 序号。",
        "公示不会出现身份证号和联系电话（户的联系电话）；占位符写错时，工具会指出是哪个单元格。",
    ]
    for i, line in enumerate(lines, start=1):
        help_.cell(i, 1, line).font = font(11)
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return out


if __name__ == "__main__":
    print(build(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT))
