"""A village workbook carrying everything a lossless write must not lose.

``build_rich_workbook(path)`` makes an ``.xlsm`` with all schema sheets (each an Excel
table named by the spec), plus what clerks' files carry and openpyxl would drop or
cannot make: a VBA project, a form button (legacy VML ``ObjectType="Button"`` + a
ctrlProp part), an image, charts, comments, conditional formatting, data
validation, defined names, hyperlinks, merged cells, formulas and a calcChain.

It is built with openpyxl first and then post-processed as a zip (VBA project,
button parts, calcChain), the way Excel would have saved them.
"""

from __future__ import annotations

import re
import struct
import zipfile
import zlib
from pathlib import Path

from openpyxl import Workbook
from openpyxl.chart import BarChart, PieChart, Reference
from openpyxl.comments import Comment
from openpyxl.drawing.image import Image
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.table import Table, TableStyleInfo

from jifen_xl import schema

from .conftest import CORPUS  # one place decides where shared/ is

VBA_SOURCE = CORPUS / "vba.xlsm"

CT_MACRO_MAIN = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
CT_VBA = "application/vnd.ms-office.vbaProject"
CT_CTRLPROP = "application/vnd.ms-excel.controlproperties+xml"
CT_CALCCHAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.calcChain+xml"
REL_VBA = "http://schemas.microsoft.com/office/2006/relationships/vbaProject"
REL_VML = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/vmlDrawing"
REL_CTRLPROP = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/ctrlProp"
REL_CALCCHAIN = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/calcChain"
NS_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"

# Sample rows (field -> value) for the clerk's sheets and old rows in the owned sheets.
SAMPLE = {
    "settings": [["区县", "沙坪坝区"], ["镇街", "中梁镇"], ["村", "永宁寺村"], ["年度", 2025], ["公示天数", 7]],
    "households": [
        ["101", "张三", "本村户籍", "一组", 4, "13800000001", "500106198001010011", "正常", 120, 80, None],
        ["102", "李四", "非本村户籍常住", "二组", 3, None, None, "正常", 60, 60, "租住"],
        ["103", "王五", "本村户籍", "一组", 2, None, None, "迁出", 10, 0, None],
    ],
    "indicators": [
        ["J01", "基础积分", "人居环境", "房前屋后干净整洁", 5, 10, None, "2025-01-01", None, "2025年村民代表会议", None],
        ["K01", "扣分项目", "道德失范", "乱倒垃圾", -5, None, None, "2025-01-01", None, "2025年村民代表会议", None],
    ],
    "entries": [
        ["E0001", "2025-03-02", "101", "张三", "J01", "房前屋后干净整洁", 1, None, "平时发现", "赵六、钱七", None, "已确认", None],
        ["E0002", "2025-03-05", "102", "李四", "K01", "乱倒垃圾", 1, None, "群众反映", "赵六", "照片", "公示中", None],
        ["E0003", "2025-03-09", "101", "张三", "J01", "房前屋后干净整洁", 2, 10, "个人申报", "钱七", None, "待公示", None],
    ],
    "ledger": [
        ["2025-02", "101", "张三", 5, 0, 0, None, 125, 0, 85, 1],
        ["2025-02", "102", "李四", 0, 0, -5, None, 55, 0, 55, 2],
        ["2025-02", "103", "王五", 0, 0, 0, None, 10, 0, 0, 3],
    ],
    "findings": [
        ["错误", "积分登记", 3, "积分", "旧的问题", "旧的建议", "E-OLD-01"],
        ["警告", "住户名册", 4, "状态", "旧的警告", "旧的建议", "W-OLD-02"],
    ],
    "stock": [["2025-02", "G01", "洗衣粉", 10, 5, 3, 12]],
}


def png_bytes(width: int = 16, height: int = 8) -> bytes:
    """A small red/green PNG made with zlib only (no Pillow needed)."""
    pixel = [bytes((200, 30, 30)) if x < width // 2 else bytes((30, 160, 60)) for x in range(width)]
    rows = (b"\x00" + b"".join(pixel)) * height

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


class PngImage(Image):
    """openpyxl's Image reads pictures through Pillow; this one carries ready PNG bytes."""

    def __init__(self, data: bytes, width: int, height: int):  # noqa: D107 - no super(): it needs Pillow
        self.ref = data
        self.width, self.height = width, height
        self.format = "png"

    def _data(self) -> bytes:
        return self.ref


def _table(ws, spec: schema.SheetSpec, top: int, nrows: int) -> None:
    last = get_column_letter(len(spec.columns))
    t = Table(displayName=spec.table, ref=f"A{top}:{last}{top + max(nrows, 1)}")
    t.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
    ws.add_table(t)


def _build_openpyxl(path: Path) -> None:
    wb = Workbook()
    help_ws = wb.active
    help_ws.title = schema.HELP_SHEET_NAME
    help_ws["A1"] = "积分制工作簿使用说明"
    help_ws["A1"].font = Font(bold=True, size=16)
    help_ws.merge_cells("A1:F1")
    help_ws["A3"] = "点击“校验”按钮检查本工作簿。"
    help_ws.add_image(PngImage(png_bytes(), 16, 8), "H2")

    sheets = {}
    for spec in schema.SHEETS:
        ws = wb.create_sheet(spec.name)
        sheets[spec.key] = ws
        ws.append(spec.headers)
        for row in SAMPLE.get(spec.key, []):
            ws.append(row)
        for i, col in enumerate(spec.columns, start=1):
            ws.column_dimensions[get_column_letter(i)].width = col.width
        _table(ws, spec, 1, len(SAMPLE.get(spec.key, [])))

    # 积分登记: formulas (kept; their calcChain entries must stay), a chart, a comment, CF, DV, a link.
    ent = sheets["entries"]
    ent["H2"] = "=G2*5"
    ent["H3"] = "=G3*-5"
    ent["B2"].comment = Comment("评议小组现场核实", "赵六")
    ent.conditional_formatting.add("H2:H100", CellIsRule(operator="lessThan", formula=["0"],
                                                         fill=PatternFill("solid", start_color="FFC7CE")))
    dv = DataValidation(type="list", formula1='"待公示,公示中,已确认,已撤销"', allow_blank=True)
    dv.add("L2:L1000")
    ent.add_data_validation(dv)
    ent["K3"].hyperlink = "https://example.org/photo/E0002.jpg"
    pie = PieChart()
    pie.add_data(Reference(ent, min_col=7, min_row=1, max_row=4), titles_from_data=True)
    pie.title = "数量"
    ent.add_chart(pie, "O2")

    # 月度台账 (owned): column styles, cell styles, formulas in old rows, comment on the header,
    # a chart on its own data, CF and DV on the data rows.
    led = sheets["ledger"]
    led.column_dimensions["D"].number_format = "0.00"
    for r in range(2, 2 + len(SAMPLE["ledger"])):
        led.cell(r, 7).value = f"=D{r}+E{r}+F{r}"
        led.cell(r, 11).number_format = "0"
        led.cell(r, 1).font = Font(color="1F4E79")
    led["A1"].comment = Comment("由工具生成，请勿手工修改", "jifen-xl")
    led.conditional_formatting.add("K2:K4", CellIsRule(operator="lessThanOrEqual", formula=["3"],
                                                       fill=PatternFill("solid", start_color="C6EFCE")))
    dv2 = DataValidation(type="whole", operator="greaterThanOrEqual", formula1="1")
    dv2.add("K2:K4")
    led.add_data_validation(dv2)
    bar = BarChart()
    bar.title = "累计积分"
    bar.add_data(Reference(led, min_col=8, min_row=1, max_row=4), titles_from_data=True)
    bar.set_categories(Reference(led, min_col=3, min_row=2, max_row=4))
    led.add_chart(bar, "N2")

    # 校验结果 (owned): old internal hyperlinks on the data rows.
    fin = sheets["findings"]
    fin["E2"].hyperlink = Hyperlink(ref="E2", location="'积分登记'!H3", display="旧的问题")
    fin["E3"].hyperlink = Hyperlink(ref="E3", location="'住户名册'!H4", display="旧的警告")

    wb.defined_names["村名"] = DefinedName("村名", attr_text="'基本信息'!$B$4")
    wb.defined_names["年度"] = DefinedName("年度", attr_text="'基本信息'!$B$5")
    wb.save(path)


def _button_parts(sheet_xml: str) -> str:
    """Add a legacy drawing (the VML button) and the x14 controls block to a worksheet."""
    controls = (
        '<mc:AlternateContent xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006">'
        '<mc:Choice xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main" Requires="x14">'
        "<controls><mc:AlternateContent><mc:Choice Requires=\"x14\">"
        f'<control xmlns:r="{NS_R}" shapeId="1025" r:id="rIdBtnCtrl" name="Button 1">'
        '<controlPr defaultSize="0" print="0" autoFill="0" autoPict="0" macro="[0]!Validate">'
        '<anchor moveWithCells="1" sizeWithCells="1">'
        '<from><xdr:col xmlns:xdr="http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing">3</xdr:col>'
        '<xdr:colOff xmlns:xdr="http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing">0</xdr:colOff>'
        '<xdr:row xmlns:xdr="http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing">1</xdr:row>'
        '<xdr:rowOff xmlns:xdr="http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing">0</xdr:rowOff>'
        "</from><to>"
        '<xdr:col xmlns:xdr="http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing">5</xdr:col>'
        '<xdr:colOff xmlns:xdr="http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing">0</xdr:colOff>'
        '<xdr:row xmlns:xdr="http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing">3</xdr:row>'
        '<xdr:rowOff xmlns:xdr="http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing">0</xdr:rowOff>'
        "</to></anchor></controlPr></control></mc:Choice></mc:AlternateContent></controls>"
        "</mc:Choice></mc:AlternateContent>"
    )
    legacy = f'<legacyDrawing xmlns:r="{NS_R}" r:id="rIdBtnVml"/>'
    at = sheet_xml.index("<tableParts")
    return sheet_xml[:at] + legacy + controls + sheet_xml[at:]


BUTTON_VML = """<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" \
xmlns:x="urn:schemas-microsoft-com:office:excel">
 <o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="1"/></o:shapelayout>
 <v:shapetype id="_x0000_t201" coordsize="21600,21600" o:spt="201" path="m,l,21600r21600,l21600,xe">
  <v:stroke joinstyle="miter"/><v:path shadowok="f" o:extrusionok="f" strokeok="f" fillok="f" o:connecttype="rect"/>
  <o:lock v:ext="edit" shapetype="t"/>
 </v:shapetype>
 <v:shape id="_x0000_s1025" type="#_x0000_t201" style="position:absolute;margin-left:150pt;margin-top:15pt;\
width:100pt;height:30pt;z-index:1" o:button="t" fillcolor="buttonFace [67]" strokecolor="windowText [64]" \
o:insetmode="auto">
  <v:fill color2="buttonFace [67]" o:detectmouseclick="t"/>
  <o:lock v:ext="edit" rotation="t"/>
  <v:textbox style="mso-direction-alt:auto" o:singleclick="f">
   <div style="text-align:center"><font face="宋体" size="220" color="auto">校验工作簿</font></div>
  </v:textbox>
  <x:ClientData ObjectType="Button">
   <x:Anchor>3, 0, 1, 0, 5, 0, 3, 0</x:Anchor>
   <x:PrintObject>False</x:PrintObject>
   <x:AutoFill>False</x:AutoFill>
   <x:FmlaMacro>[0]!Validate</x:FmlaMacro>
   <x:TextHAlign>Center</x:TextHAlign>
   <x:TextVAlign>Center</x:TextVAlign>
  </x:ClientData>
 </v:shape>
</xml>"""

CTRL_PROP = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
             '<formControlPr xmlns="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main" '
             'objectType="Button" lockText="1"/>')


def sheet_parts(parts: dict[str, bytes]) -> dict[str, tuple[str, str]]:
    """Sheet name -> (part name, sheetId), from workbook.xml and its rels."""
    wb = parts["xl/workbook.xml"].decode()
    rels = parts["xl/_rels/workbook.xml.rels"].decode()
    targets = {}
    for m in re.finditer(r"<Relationship\b([^>]*)/>", rels):
        a = dict(re.findall(r'([\w:]+)="([^"]*)"', m.group(1)))
        targets[a["Id"]] = a["Target"]
    out = {}
    for m in re.finditer(r"<sheet\b([^>]*)/>", wb):
        a = dict(re.findall(r'([\w:]+)="([^"]*)"', m.group(1)))
        target = targets[a["r:id"]].lstrip("/")
        out[a["name"]] = (target if target.startswith("xl/") else "xl/" + target, a["sheetId"])
    return out


def add_content_override(ct: str, part: str, content_type: str) -> str:
    return ct.replace("</Types>", f'<Override PartName="/{part}" ContentType="{content_type}"/></Types>')


def add_relationship(rels: str, rid: str, rel_type: str, target: str) -> str:
    return rels.replace("</Relationships>", f'<Relationship Id="{rid}" Type="{rel_type}" Target="{target}"/>'
                                            "</Relationships>")


def rewrite_zip(path: Path, parts: dict[str, bytes], order: list[str]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name in order:
            z.writestr(name, parts[name])


def read_zip(path: Path) -> tuple[dict[str, bytes], list[str]]:
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        return {n: z.read(n) for n in names}, names


def build_rich_workbook(path) -> Path:
    """Write the rich test workbook to ``path`` (use an ``.xlsm`` name) and return its path."""
    path = Path(path)
    _build_openpyxl(path)
    parts, order = read_zip(path)
    sheets = sheet_parts(parts)

    # VBA project, macro-enabled workbook content type.
    with zipfile.ZipFile(VBA_SOURCE) as src:
        parts["xl/vbaProject.bin"] = src.read("xl/vbaProject.bin")
    ct = parts["[Content_Types].xml"].decode()
    ct = re.sub(r'(PartName="/xl/workbook.xml" ContentType=")[^"]*"', r'\1%s"' % CT_MACRO_MAIN, ct)
    ct = add_content_override(ct, "xl/vbaProject.bin", CT_VBA)
    rels = parts["xl/_rels/workbook.xml.rels"].decode()
    rels = add_relationship(rels, "rIdVba", REL_VBA, "vbaProject.bin")

    # A form button on 基本信息: VML shape + ctrlProp + legacyDrawing/controls in the sheet.
    settings_part, _ = sheets[schema.SETTINGS.name]
    parts[settings_part] = _button_parts(parts[settings_part].decode()).encode()
    parts["xl/drawings/vmlDrawingButtons.vml"] = BUTTON_VML.encode()
    parts["xl/ctrlProps/ctrlProp1.xml"] = CTRL_PROP.encode()
    ct = add_content_override(ct, "xl/ctrlProps/ctrlProp1.xml", CT_CTRLPROP)
    if 'Extension="vml"' not in ct:
        ct = ct.replace("</Types>", '<Default Extension="vml" '
                        'ContentType="application/vnd.openxmlformats-officedocument.vmlDrawing"/></Types>')
    folder, base = settings_part.rsplit("/", 1)
    srels_name = f"{folder}/_rels/{base}.rels"
    srels = parts.get(srels_name, b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                                  b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
                                  b'relationships"></Relationships>').decode()
    srels = add_relationship(srels, "rIdBtnVml", REL_VML, "../drawings/vmlDrawingButtons.vml")
    srels = add_relationship(srels, "rIdBtnCtrl", REL_CTRLPROP, "../ctrlProps/ctrlProp1.xml")
    if srels_name not in parts:
        order.append(srels_name)
    parts[srels_name] = srels.encode()

    # calcChain: the ledger's data formulas (G2:G4) interleaved with 积分登记's (H2:H3).
    _, led_id = sheets[schema.LEDGER.name]
    _, ent_id = sheets[schema.ENTRIES.name]
    parts["xl/calcChain.xml"] = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<calcChain xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<c r="G2" i="{led_id}"/><c r="H2" i="{ent_id}"/><c r="G3" i="{led_id}"/><c r="G4"/>'
        f'<c r="H3" i="{ent_id}"/></calcChain>').encode()
    ct = add_content_override(ct, "xl/calcChain.xml", CT_CALCCHAIN)
    rels = add_relationship(rels, "rIdCalc", REL_CALCCHAIN, "calcChain.xml")

    parts["[Content_Types].xml"] = ct.encode()
    parts["xl/_rels/workbook.xml.rels"] = rels.encode()
    order += ["xl/vbaProject.bin", "xl/drawings/vmlDrawingButtons.vml", "xl/ctrlProps/ctrlProp1.xml",
              "xl/calcChain.xml"]
    rewrite_zip(path, parts, order)
    return path
