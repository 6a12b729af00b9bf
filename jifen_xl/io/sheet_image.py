"""A whole formatted sheet (the filled monthly notice, 公示) put into a clerk's workbook from a
one-sheet image: a small .xlsx made from the notice template (``io/xlsxfill``) whose only sheet
replaces the workbook's owned sheet of that name, or is added after the last sheet.

Nothing passes through a spreadsheet library. The image's worksheet XML is carried over with
every style index remapped into the workbook's styles part (``ooxml.stylemerge``: fonts, fills,
borders, number formats and cell formats appended, identical ones reused), shared strings made
inline, the selected-tab mark dropped (two selected tabs would group the sheets); its merged
cells, column widths, row heights, page setup, margins, header and footer come as they are; its
print titles and print area become the sheet's own defined names in the workbook. A sheet it
replaces keeps its place among the tabs, its sheetId, its relationship id and part name (and its
VBA code name); every other part of the package stays byte for byte.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from .. import errors
from ..ooxml import markup, opc
from ..ooxml import zip as ooxzip
from ..ooxml.markup import ATTRS as _ATTRS
from ..ooxml.markup import Corrupt as _Corrupt
from ..ooxml.markup import attrs as _attrs
from ..ooxml.markup import decode as _decode
from ..ooxml.markup import set_attr as _set_attr
from ..ooxml.opc import key as _key
from ..ooxml.opc import rels_part as _rels_part
from ..ooxml.sheetxml import cell_re, top_children, value_re
from ..ooxml.styles import cell_number_formats
from ..ooxml.stylemerge import merge_styles
from . import package
from .package import os_reason

#: The print settings that are defined names of the sheet (ECMA-376 18.2.5).
PRINT_NAMES = ("_xlnm.Print_Titles", "_xlnm.Print_Area")
#: Parts of a worksheet that point at other parts (pictures, comments, tables, controls): an image
#: carrying one is refused, the writer copies one sheet part and nothing it refers to.
_LINKED = {"drawing", "legacyDrawing", "legacyDrawingHF", "drawingHF", "picture", "oleObjects", "controls",
           "tableParts", "webPublishItems"}
#: Days between the 1900 and the 1904 date systems.
_DAYS_1904 = 1462
_REF_RE = re.compile(r"""'((?:[^']|'')+)'!|([^\s!,'()=+\-*/&^<>;:"]+)!""")


@dataclass(frozen=True)
class SheetImage:
    """The one sheet of an image package, as text.

    :param path: the image file (for messages).
    :param title: its sheet's name inside the image.
    :param sheet: its worksheet XML text.
    :param styles: its styles part text ("" when it has none).
    :param theme: its theme part text, or None.
    :param strings: its shared strings, each ``<si>``'s inner markup (unprefixed).
    :param names: print names (``PRINT_NAMES``) -> their formula as written in the image.
    :param date1904: whether its dates count from 1904.
    """

    path: Path
    title: str
    sheet: str
    styles: str
    theme: str | None
    strings: list[str]
    names: dict[str, str]
    date1904: bool


def _image_refusal(path: Path, target: str, why: str) -> errors.WriteRefused:
    return errors.WriteRefused(
        f"用来生成工作表「{target}」的样表文件「{path.name}」{why}，工具没有写入工作簿。"
        f"请重新生成「{target}」（检查公示模板），再重试。")


def read_image(path: Path, target: str) -> SheetImage:
    """The one sheet of the image file ``path`` meant to become the workbook's sheet ``target``;
    refused (Chinese, naming both) when it is missing, not an .xlsx package or not one sheet."""
    path = Path(path)
    try:
        fh = open(path, "rb")
    except OSError as exc:
        raise _image_refusal(path, target, f"无法打开（{os_reason(exc)}）") from exc
    try:
        with fh:
            zc = ooxzip.ZipContainer(fh, os.fstat(fh.fileno()).st_size)

            def text(name: str) -> str | None:
                entry = zc.get(name)
                return None if entry is None else _decode(zc.read(entry), name)[0]

            root_rels = opc.relationships(text(opc.ROOT_RELS) or "")
            wb = opc.main_target(root_rels)
            wb_text = text(wb) if wb else None
            if wb_text is None:
                raise _Corrupt("缺少工作簿部件")
            sheets = opc.workbook_sheets(wb_text)
            if len(sheets) != 1:
                raise _image_refusal(path, target, f"应当只有一个工作表，实际有 {len(sheets)} 个")
            rels = opc.relationships(text(_rels_part(wb)) or "")

            def target_of(suffix: str, rid: str | None = None) -> str | None:
                for r in rels:
                    if (r.id == rid if rid else r.type.endswith(suffix)) and not r.external:
                        return opc.resolve(wb, r.target)
                return None

            sheet_part = target_of("", sheets[0].rids[-1] if sheets[0].rids else "")
            sheet = text(sheet_part) if sheet_part else None
            if sheet is None:
                raise _Corrupt("缺少工作表部件")
            styles_part, theme_part, sst_part = (target_of(s) for s in ("/styles", "/theme", "/sharedStrings"))
            styles = text(styles_part) if styles_part else None
            theme = text(theme_part) if theme_part else None
            sst = text(sst_part) if sst_part else None
    except (_Corrupt, ooxzip.Zip64, ooxzip.Encrypted, OSError, ValueError) as exc:
        raise _image_refusal(path, target, "已损坏或不是 .xlsx 工作簿") from exc
    root = markup.root(sheet)
    if root is None or root[0] != "worksheet":
        raise _image_refusal(path, target, "里的工作表不是普通工作表")
    open_end = next(m.end() for m in markup.TAG_RE.finditer(sheet) if m.group(2) is not None and not m.group(1))
    for local, s, e in top_children(sheet, open_end)[0]:
        if local in _LINKED or (local == "hyperlinks" and re.search(r"\s[\w.-]+:id\s*=", sheet[s:e])):
            raise _image_refusal(path, target, "含有图片、批注、表格、控件或外部链接（工具只能写入单元格和版式）")
    strings = []
    if sst:
        for m in re.finditer(r"<(?:[\w.-]+:)?si\b%s(?:/>|>(.*?)</(?:[\w.-]+:)?si>)" % _ATTRS, sst, re.S):
            strings.append(_strip_prefixes(m.group(1) or ""))
    names = {}
    for m in re.finditer(r"<(?:[\w.-]+:)?definedName\b(%s)>(.*?)</(?:[\w.-]+:)?definedName>" % _ATTRS, wb_text, re.S):
        a = markup.local_attrs(m.group(1))
        if a.get("name", "").lower() in {n.lower() for n in PRINT_NAMES} and a.get("localSheetId", "0") == "0":
            names[next(n for n in PRINT_NAMES if n.lower() == a["name"].lower())] = markup.unescape(m.group(2))
    return SheetImage(path, sheets[0].name, sheet, styles or "", theme, strings, names, opc.date1904(wb_text))


def image_values(path: Path, target: str) -> list[list]:
    """The values of the image's one sheet as a spreadsheet program hands a block over (rows of
    cells, None for an empty one; a merged block's value in its top-left cell), for a backend
    that writes values (the memory backend; live Excel copies the sheet itself)."""
    import python_calamine as pc

    path = Path(path)
    read_image(path, target)  # the same refusals as the file backend's
    try:
        with package.reader_call():
            book = pc.CalamineWorkbook.from_path(str(path))
            rows = book.get_sheet_by_index(0).to_python(skip_empty_area=False)
    except BaseException as exc:
        if not package.reader_failed(exc):
            raise
        raise _image_refusal(path, target, "已损坏或不是 .xlsx 工作簿") from exc
    out = [[None if v == "" else v for v in row] for row in rows]
    for row in out:
        while row and row[-1] is None:
            row.pop()
    while out and not out[-1]:
        out.pop()
    return out


def _strip_prefixes(xml: str) -> str:
    return re.sub(r"<(/?)[A-Za-z_][\w.-]*:", r"<\1", xml)


def renamed_formula(formula: str, old: str, new: str) -> str:
    """A defined name's formula with every reference to sheet ``old`` pointing at sheet ``new``."""
    quoted = "'" + new.replace("'", "''") + "'!"

    def fix(m):
        name = m.group(1).replace("''", "'") if m.group(1) is not None else m.group(2)
        return quoted if name == old else m.group(0)
    return _REF_RE.sub(fix, formula)


def _is_date_code(code: str) -> bool:
    """Whether a number format shows a date or time (quoted text, escapes and colours aside)."""
    bare = re.sub(r'"[^"]*"|\\.|\[(?![hHmMsS]+\])[^\]]*\]', "", code)
    return bool(re.search(r"[yYmMdDhHsS]", bare)) and bare.lower() != "general"


class PlacesImages:
    """The part of ``writeplan._Package`` that places a sheet image (uses ``AddsSheets``)."""

    def image_sheet(self, name: str) -> tuple[int, str, str] | None:
        """(tab index, part name, sheetId) of the workbook's sheet ``name`` found by its exact name
        (surrounding spaces aside: 「公示（3月存档）」 is the clerk's), or None."""
        for index, (sheet_name, sheet_id, rid) in enumerate(self.sheets):
            if sheet_name.strip() == name:
                for r in self.wb_rels:
                    if r["Id"] == rid:
                        return index, opc.resolve(self.workbook_part, r["Target"]), sheet_id
                raise _Corrupt(f"工作表“{sheet_name}”的关系缺失")
        return None

    def place_image(self, name: str, image: SheetImage) -> tuple[str, bool]:
        """Plan the image's sheet as the workbook's sheet ``name``: replacing the one there (same
        place, sheetId, part) or added after the last sheet. Returns (sheetId, whether added)."""
        found = self.image_sheet(name)
        code_name = None
        if found is not None:
            index, part, sheet_id = found
            old, _bom = _decode(self.read(part), part)
            root = markup.root(old)
            if root is None or root[0] != "worksheet":
                raise errors.WriteRefused(
                    f"工作簿「{self.display}」中的「{name}」不是普通工作表（可能是图表页），工具无法写入。"
                    f"请删除或改名这个工作表后重试。")
            pr = re.search(r"<(?:[\w.-]+:)?sheetPr\b(%s)/?>" % _ATTRS, old, re.S)
            code_name = markup.local_attrs(pr.group(1)).get("codeName") if pr else None
            if self.read(_rels_part(part)) is not None:
                self._drop_own_parts(part)
            added = False
        else:
            refusal = (f"工作簿「{self.display}」中没有工作表「{name}」，而这个工作簿的格式不便由工具添加工作表，"
                       f"工具没有写入。请在 Excel 中另存为“Excel 工作簿(*.xlsx)”后重试。")
            part, sheet_id, index = self.append_sheet(name, refusal)
            added = True
        xf_map, dxf_map = self._image_styles(image)
        shift = 0
        if image.date1904 != self.date1904:
            shift = _DAYS_1904 if image.date1904 else -_DAYS_1904
        self.overlay[_key(part)] = _sheet_xml(image, xf_map, dxf_map, code_name, shift)
        actual = self.sheets[index][0]  # 「 公示 」 keeps its spaces: its print names must name it so
        self.set_sheet_names(index, {n: renamed_formula(f, image.title, actual) for n, f in image.names.items()},
                             drop=PRINT_NAMES)
        return sheet_id, added

    def _drop_own_parts(self, source: str) -> None:
        """Drop the relationships of ``source`` (the replaced sheet) and every part reached only
        through them (its comments, their VML, its tables, drawings and their pictures), so no
        unused part is left behind; a part another part still points at stays, byte for byte."""
        def rels_parts() -> dict[str, str]:
            """Every relationships part present (lower-case key -> the part it belongs to)."""
            names = {_key(e.name): opc.part_name(e.name) for e in self.zr.entries}
            names.update({k: k for k, v in self.overlay.items() if v is not None})
            out = {}
            for k, name in names.items():
                if k.endswith(".rels") and (k not in self.overlay or self.overlay[k] is not None):
                    folder, _, base = name.rpartition("_rels/")
                    out[k] = folder.rstrip("/") + ("/" if folder.rstrip("/") else "") + base[:-len(".rels")]
            return out

        def targets(owner: str) -> set[str]:
            text = self._text(_rels_part(owner))
            return {_key(opc.resolve(owner, r.target)) for r in opc.relationships(text or "") if not r.external}

        pending, dropped = [source], set()
        while pending:
            owner = pending.pop()
            mine = targets(owner)
            self.overlay[_key(_rels_part(owner))] = None
            used = set()
            for _rels, other in rels_parts().items():
                used |= targets(other)
            for target in sorted(mine - used - dropped):
                if self.read(target) is None:
                    continue
                dropped.add(target)
                self.overlay[target] = None
                if self.read(_rels_part(target)) is not None:
                    pending.append(target)
        if dropped:
            ct, bom = _decode(self.read(opc.CONTENT_TYPES), opc.CONTENT_TYPES)
            ct = re.sub(r"<(?:[\w.-]+:)?Override\b(%s)(?:/>|>\s*</(?:[\w.-]+:)?Override>)" % _ATTRS,
                        lambda m: "" if _key(markup.local_attrs(m.group(1)).get("PartName", "").lstrip("/"))
                        in dropped else m.group(0), ct, flags=re.S)
            self.overlay[_key(opc.CONTENT_TYPES)] = bom + ct.encode("utf-8")

    def _image_styles(self, image: SheetImage) -> tuple[list[str], list[str]]:
        """The workbook's cell format (and differential format) index of each of the image's,
        the workbook's styles part gaining what it lacks (planned in ``overlay``)."""
        if not image.styles:
            return ["0"], []  # no formats in the image: its cells take the workbook's default
        target = self.wb_target("/styles")
        data = self.read(target[1]) if target else None
        if data is None:
            # A workbook without a styles part (legal, rare): the image's becomes it, indices unchanged.
            part = "xl/styles.xml"
            if _key(part) in self._taken_part_names():
                raise errors.WriteRefused(f"工作簿「{self.display}」的样式部件异常，工具没有写入。"
                                          "请在 Excel 中打开并保存一次后重试。")
            rid = self.fresh_rid()
            self._add_relationship(_rels_part(self.workbook_part), rid, opc.DOC_RELS + "/styles",
                                   os.path.relpath(part, os.path.dirname(self.workbook_part)).replace(os.sep, "/"))
            self._add_content_types({part: opc.CT_STYLES})
            self.overlay[_key(part)] = image.styles.encode("utf-8")
            self.wb_rels.append({"Id": rid, "Type": opc.DOC_RELS + "/styles", "Target": "styles.xml",
                                 "TargetMode": ""})
            return [str(i) for i in range(len(cell_number_formats(image.styles)))], []
        text, bom = _decode(data, target[1])
        theme = self.wb_target("/theme")
        theme_text = self._text(theme[1]) if theme else None
        new, xfs, dxfs = merge_styles(text, image.styles, image_theme=image.theme, target_theme=theme_text)
        if new != text:
            self.overlay[_key(target[1])] = bom + new.encode("utf-8")
        return xfs, dxfs


def _sheet_xml(image: SheetImage, xf_map: list[str], dxf_map: list[str], code_name: str | None,
               shift: int) -> bytes:
    """The image's worksheet XML as the workbook's sheet: style indices remapped, shared strings
    inline, no selected-tab mark, the old sheet's VBA code name kept, dates moved to the
    workbook's date system."""
    text = image.sheet
    p = markup.root(text)[1]  # a worksheet (``read_image``)
    open_end = next(m.end() for m in markup.TAG_RE.finditer(text) if m.group(2) is not None and not m.group(1))
    children, close = top_children(text, open_end)
    date_xfs = {i for i, code in enumerate(cell_number_formats(image.styles)) if _is_date_code(code)} if shift else set()
    out = [text[:open_end]]
    pos = open_end
    for local, s, e in children:
        chunk = text[s:e]
        if local == "sheetPr":
            # the image's code name (a template saved by Excel has one) could be another sheet's in
            # the clerk's VBA project: the replaced sheet's own is kept, else Excel gives one
            tag_end = chunk.index(">")
            tag = re.sub(r"""\scodeName\s*=\s*(?:"[^"]*"|'[^']*')""", "", chunk[:tag_end])
            if code_name:
                tag = tag[:len(p) + 8] + f' codeName="{markup.escape_attr(code_name)}"' + tag[len(p) + 8:]
            chunk = tag + chunk[tag_end:]
        elif local == "sheetViews":
            chunk = re.sub(r"""\stabSelected\s*=\s*(?:"[^"]*"|'[^']*')""", "", chunk)
        elif local == "cols":
            chunk = _remap_attr(chunk, p, "col", "style", xf_map)
        elif local == "sheetData":
            chunk = _sheet_data(chunk, p, image, xf_map, date_xfs, shift)
        elif local == "conditionalFormatting":
            chunk = _remap_attr(chunk, p, "cfRule", "dxfId", dxf_map)
        elif local == "pageSetup":
            chunk = re.sub(r"""\s[\w.-]+:id\s*=\s*(?:"[^"]*"|'[^']*')""", "", chunk)  # printer settings part
        out.append(text[pos:s] + chunk)
        pos = e
    out.append(text[pos:])
    if code_name and not any(local == "sheetPr" for local, _s, _e in children):
        out[0] += f'<{p}sheetPr codeName="{markup.escape_attr(code_name)}"/>'
    return "".join(out).encode("utf-8")


def _mapped(index: str, table: list[str]) -> str:
    return table[int(index)] if index.isdigit() and int(index) < len(table) else "0"


def _remap_attr(xml: str, p: str, element: str, attr: str, table: list[str]) -> str:
    """Every ``element``'s ``attr`` (an index) replaced by its entry in ``table``."""
    if not table:
        return xml

    def fix(m):
        a = _attrs(m.group(1))
        return _set_attr(m.group(0), attr, _mapped(a[attr], table)) if attr in a else m.group(0)
    return re.sub(r"<%s%s\b(%s)/?>" % (re.escape(p), element, _ATTRS), fix, xml, flags=re.S)


def _sheet_data(xml: str, p: str, image: SheetImage, xf_map: list[str], date_xfs: set[int], shift: int) -> str:
    """The rows with every cell's (and styled row's) format remapped, shared strings inline."""
    xml = _remap_attr(xml, p, "row", "s", xf_map)
    default = xf_map[0] if xf_map else "0"
    v_re = value_re(p)

    def fix(m):
        attr_text, inner = m.group(1), m.group(2)
        a = _attrs(attr_text)
        tag = f"<{p}c{attr_text}"
        style = a.get("s", "0")
        if "s" in a:
            tag = _set_attr(tag, "s", _mapped(style, xf_map) if xf_map else style)
        elif default != "0":
            tag += f' s="{default}"'
        kind = a.get("t", "n")
        if kind == "s" and inner is not None:
            v = v_re.search(inner)
            try:
                si = image.strings[int(v.group(1))] if v else ""
            except (ValueError, IndexError) as exc:
                raise _image_refusal(image.path, image.title, "的共享字符串不完整") from exc
            tag = _set_attr(tag, "t", "inlineStr")
            inner = f"<{p}is>" + (re.sub(r"<(/?)", r"<\1" + p, si) if p else si) + f"</{p}is>"
        elif shift and kind == "n" and inner and style.isdigit() and int(style) in date_xfs:
            inner = v_re.sub(lambda v: f"<{p}v>{_shifted(v.group(1), shift)}</{p}v>", inner, count=1)
        if inner is None:
            return tag + "/>"
        return tag + ">" + inner + f"</{p}c>"
    return cell_re(p).sub(fix, xml)


def _shifted(value: str, shift: int) -> str:
    try:
        return repr(float(value) + shift).removesuffix(".0")
    except ValueError:
        return value
