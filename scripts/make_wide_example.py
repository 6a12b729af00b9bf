"""Build ``templates/宽表映射示例.xlsx``: a wide-layout (宽表) points table as many townships keep
it (one row per household, one column per item and period) with its 「导入映射」 sheet, so that
``jifen-xl township import`` reads it (issue 11; README "宽表导入").

Deterministic: the same cells every run (tests/test_wide.py checks the committed file equals a
fresh build). Run from the repository root:

    python scripts/make_wide_example.py [OUT]

The mapping sheet's headers come from ``jifen_xl.schema.WIDE_MAPPING`` (declared once).
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from jifen_xl import schema as S  # noqa: E402

OUT = ROOT / "templates" / "宽表映射示例.xlsx"
DATA_SHEET = "积分汇总表"
STAMP = dt.datetime(2026, 1, 1)  # fixed document dates, so a rebuild gives the same file
PLACE = {"区县": "沙坪坝区", "镇街": "中梁镇", "村": "玉溪村", "年度": "2026"}
HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")

#: The points columns: (header, 指标编码, 指标名称, 积分类型, 指标类别, 期间).
COLUMNS = [
    ("人居环境第1季度", "JC-RJ", "庭院整洁、垃圾分类", S.KIND_BASIC, "人居环境", "第1季度"),
    ("人居环境第2季度", "JC-RJ", "庭院整洁、垃圾分类", S.KIND_BASIC, "人居环境", "第2季度"),
    ("人居环境第3季度", "JC-RJ", "庭院整洁、垃圾分类", S.KIND_BASIC, "人居环境", "第3季度"),
    ("人居环境第4季度", "JC-RJ", "庭院整洁、垃圾分类", S.KIND_BASIC, "人居环境", "第4季度"),
    ("公益事业全年", "JC-GY", "参加义务劳动、志愿服务", S.KIND_BASIC, "公益事业", "全年"),
    ("表彰奖励全年", "GX-BZ", "受到镇级以上表彰", S.KIND_CONTRIB, "表彰奖励", "全年"),
    ("乱搭乱建扣分", "KF-LD", "乱搭乱建", S.KIND_DEDUCT, "乱搭乱建", "全年"),
]
#: The households: 户号, 户主姓名, 户籍类型, 村民小组, then one value per points column.
HOUSEHOLDS = [
    ("0001", "王德明", "本村户籍", "一组", 8, 9, 10, 9, 12, None, None),
    ("0002", "李秀英", "本村户籍", "一组", 6, 7, 7, 8, 6, 20, None),
    ("0003", "张国强", "本村户籍", "二组", 5, None, 6, 6, None, None, 5),
    ("0004", "刘春梅", "非本村户籍常住", "二组", 7, 8, 8, 9, 10, None, None),
    ("0005", "陈建华", "本村户籍", "三组", 4, 5, 5, 4.5, 3, None, 10),
    ("0006", "杨玉兰", "本村户籍", "三组", 9, 10, 10, 10, 15, 10, None),
    ("0007", "赵永福", "本村户籍", "四组", None, None, 3, 4, None, None, None),
    ("0008", "黄桂芳", "非本村户籍常住", "四组", 6, 6, 7, 7, 8, None, None),
]
NOTES = {
    S.WIDE_HH_ID: "宽表中写户号的列（必填）",
    S.WIDE_HEAD: "宽表中写户主姓名的列（必填）",
    S.WIDE_HUKOU: "可省略：省略时都按本村户籍",
    S.WIDE_GROUP: "可省略",
    S.WIDE_SHEET: "宽表所在的工作表；省略时取第一个其他工作表",
}


def _header(ws, row: int, values: list) -> None:
    ws.append(values)
    for cell in ws[row]:
        cell.font = Font(bold=True)
        cell.fill = HEAD_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)


def build(out: Path) -> Path:
    wb = Workbook()
    wb.properties.created = wb.properties.modified = STAMP
    wb.properties.creator = "jifen-xl"

    ws = wb.active
    ws.title = DATA_SHEET
    ws.append([f"{PLACE['镇街']}{PLACE['村']}{PLACE['年度']}年积分汇总表（宽表示例）"])
    ws["A1"].font = Font(bold=True, size=14)
    headers = ["户号", "户主姓名", "户籍类型", "村民小组"] + [c[0] for c in COLUMNS] + ["全年合计"]
    _header(ws, 2, headers)
    for hh in HOUSEHOLDS:
        values = list(hh[4:])
        signs = [-1 if c[3] == S.KIND_DEDUCT else 1 for c in COLUMNS]
        total = sum(s * v for s, v in zip(signs, values) if v is not None)
        ws.append(list(hh[:4]) + values + [total])
    for col, width in zip("ABCDEFGHIJKL", (8, 10, 14, 9, 10, 10, 10, 10, 10, 10, 10, 10)):
        ws.column_dimensions[col].width = width
    ws.row_dimensions[2].height = 32
    for row in ws.iter_rows(min_row=3, max_col=1):
        row[0].number_format = "@"
    ws.freeze_panes = "C3"

    m = wb.create_sheet(S.WIDE_MAPPING.name)
    # A title row above the header (allowed, as in every sheet of the contract) explains the rest.
    m.append(["宽表中没有映射的列（例如「全年合计」）不导入；每个非空、非零的积分单元格成为一条已确认的积分登记，"
              "日期为期间的最后一天（第1季度 = 3月31日，全年 = 12月31日）。"])
    m["A1"].font = Font(italic=True)
    _header(m, 2, S.WIDE_MAPPING.headers)
    blank = {f: None for f in S.WIDE_MAPPING.fields}

    def row(**values) -> None:
        m.append([{**blank, **values}[f] for f in S.WIDE_MAPPING.fields])

    row(use=S.WIDE_SHEET, value=DATA_SHEET, note=NOTES[S.WIDE_SHEET])
    for use, value in PLACE.items():
        row(use=use, value=value, note="直接填写；也可在「列名」填宽表中写有它的列")
    for use in (S.WIDE_HH_ID, S.WIDE_HEAD, S.WIDE_HUKOU, S.WIDE_GROUP):
        row(use=use, header=use, note=NOTES[use])
    for header, code, name, kind, category, period in COLUMNS:
        note = "扣分填正数或负数都按扣分计" if kind == S.KIND_DEDUCT else None
        row(use=S.WIDE_POINTS, header=header, code=code, name=name, kind=kind, category=category, period=period,
            note=note)
    for spec_col, letter in zip(S.WIDE_MAPPING.columns, "ABCDEFGHI"):
        m.column_dimensions[letter].width = spec_col.width
    uses = DataValidation(type="list", formula1='"' + ",".join(S.WIDE_USES) + '"', allow_blank=False)
    kinds = DataValidation(type="list", formula1='"' + ",".join(S.INDICATOR_KINDS) + '"', allow_blank=True)
    m.add_data_validation(uses)
    m.add_data_validation(kinds)
    uses.add("A3:A200")
    kinds.add("E3:E200")
    m.freeze_panes = "A3"
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return out


if __name__ == "__main__":
    print(build(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT))
