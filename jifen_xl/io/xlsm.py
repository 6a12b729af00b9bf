"""The macro-enabled workbooks (.xlsm): a VBA project and form buttons grafted onto a built package.

The workbook itself is always built by the one layout writer (``io.template.build_workbook`` for
a village, ``io.township_book`` for a township, both from ``schema.py``); this module only adds
what makes it an ``.xlsm``, working on the zip package as ``io.patching`` does:

* **the VBA project** (``vba_project``): made as Excel makes a workbook's first project — a
  document module for the workbook (``ThisWorkbook``) and one per sheet (``Sheet1``…, by place)
  — by pyOpenVBA (a build-time dependency, the ``build`` extra), holding the standalone
  ``xlwings`` module and its ``Dictionary`` class exactly as the pinned xlwings ships them in
  ``quickstart_standalone.xlsm`` (the quickstart's own project has documents for its two sheets
  only, and a sample module we do not want), plus our module from ``macros/*.bas``.
  pyOpenVBA compresses each module stream per MS-OVBA 2.4.1 and rewrites the ``dir`` and
  ``PROJECT`` streams; ``tests/test_xlsm.py`` reads all of it back with oletools, an independent
  implementation.
* **the graft** (``graft``): the project as ``xl/vbaProject.bin`` with its relationship and
  content type, the workbook's main part typed macro-enabled, the code names the project's
  document modules carry written on ``workbookPr`` and each sheet's ``sheetPr`` (a mismatch makes
  Excel repair the file), and the buttons.
* **the buttons**: legacy form-control buttons (VML ``x:ClientData ObjectType="Button"`` with
  ``x:FmlaMacro``), which Excel, WPS and LibreOffice all bind to a macro, on the sheet
  ``schema.BUTTONS`` names, in the cells ``io.template`` / ``io.township_book`` leave for them.
  A sheet that already has a legacy drawing (openpyxl writes the header notes as one) gets the
  buttons added to it: a sheet holds one.
* **the settings sheet** of xlwings (``schema.XLWINGS_CONF``, hidden, last): a village's ``.xlsm``
  carries it (``io.template.build_package`` writes it), so that its 导入公式函数 button
  (``ImportPythonUDFs``) imports ``jifen_xl.udfs``; the township's does not, as its workbook has no
  village for those functions to compute from and its button's RunPython needs no setting.
  The toolkit's reader and writers pass it by like any sheet of the clerk's.
* **byte-identical builds**: parts in a fixed order, every zip entry dated 1980-01-01, the
  document properties' dates fixed when asked (``build-workbook``), no random ids.
"""

from __future__ import annotations

import importlib.util
import io
import re
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from .. import schema
from ..errors import JifenError

#: The standard module of each workbook kind, in ``macros/<name>.bas``.
MODULE_OF = {schema.BOOK_VILLAGE: "JifenVillage", schema.BOOK_TOWNSHIP: "JifenTownship"}
#: The modules taken from xlwings' ``quickstart_standalone.xlsm``: RunPython and its Mac dictionary.
XLWINGS_MODULES = ("xlwings", "Dictionary")
VBA_PART = "xl/vbaProject.bin"
WORKBOOK_CODE_NAME = "ThisWorkbook"
SHEET_CODE_NAME = "Sheet{}"

MACRO_MAIN = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
XLSX_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
VBA_CONTENT = "application/vnd.ms-office.vbaProject"
VML_CONTENT = "application/vnd.openxmlformats-officedocument.vmlDrawing"
VBA_REL = "http://schemas.microsoft.com/office/2006/relationships/vbaProject"
VML_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/vmlDrawing"
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_WORKSHEET_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"

#: The date of every zip entry (the zip format's earliest).
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
#: docProps' created/modified in a reproducible build.
BUILD_TIMESTAMP = "2026-01-01T00:00:00Z"

#: A button's size (points) and its margin inside its cell.
BUTTON_HEIGHT, BUTTON_MARGIN = 22.0, 2.0
#: Excel's default row height and width of a column without a width (points and characters).
_DEFAULT_ROW, _DEFAULT_WIDTH = 15.0, 8.43


@dataclass(frozen=True)
class Placement:
    """Where a button sits: the 1-based ``row`` and ``column`` of the cell it fills (inside a
    margin), and over how many columns it spans."""

    button: schema.Button
    row: int
    column: int
    span: int = 1


# --- sources ---------------------------------------------------------------------------------------


def macros_dirs() -> list[Path]:
    """Candidate ``macros/`` folders, first match wins: the checkout's beside the package, then the
    installed copy under the interpreter's data prefixes (``share/jifen_xl/macros``)."""
    import site
    import sys
    import sysconfig

    prefixes = [sysconfig.get_path("data"), sys.prefix, sys.base_prefix, getattr(site, "USER_BASE", None)]
    out = [Path(__file__).resolve().parents[2] / "macros"]
    out += [Path(p) / "share" / "jifen_xl" / "macros" for p in prefixes if p]
    return list(dict.fromkeys(out))


def workbook_dirs() -> list[Path]:
    """Candidate folders of the built standard workbooks, first match wins: the checkout's
    ``workbook/``, then the installed copy (``share/jifen_xl/workbook``)."""
    return [folder.parent / "workbook" for folder in macros_dirs()]


def module_path(book: str) -> Path:
    """The ``.bas`` file of the module of workbook kind ``book``."""
    name = f"{MODULE_OF[book]}.bas"
    for folder in macros_dirs():
        if (folder / name).is_file():
            return folder / name
    tried = "、".join(f"「{p}」" for p in macros_dirs())
    raise JifenError(f"找不到宏模块「{name}」（找过 {tried}）。请重新安装 jifen-xl，或从源代码目录运行。")


def module_text(book: str) -> str:
    """The module's text as stored (ASCII, CRLF); anything else is refused: VBA keeps source in a
    Western code page, so Chinese belongs in Python and in captions."""
    path = module_path(book)
    raw = path.read_bytes()
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError as exc:
        raise JifenError(f"宏模块「{path.name}」含有非 ASCII 字符（第 {exc.start} 个字节），VBA 不能保存；"
                         "中文只能写在 Python 和按钮文字里。") from exc
    if "\n" in text.replace("\r\n", ""):
        raise JifenError(f"宏模块「{path.name}」的换行不是 CRLF，请用 Windows 换行保存。")
    return text


def quickstart_path() -> Path:
    """``quickstart_standalone.xlsm`` of the installed (pinned) xlwings, found without importing
    xlwings (only the Excel edge, ``macros`` and ``udfs``, imports it: tests/test_layers.py)."""
    spec = importlib.util.find_spec("xlwings")
    if spec is None or spec.origin is None:
        raise JifenError("没有找到 xlwings：请运行 pip install jifen-xl 重新安装后重试。")
    return Path(spec.origin).parent / "quickstart_standalone.xlsm"


def _pyopenvba():
    try:
        import pyopenvba
    except ImportError as exc:  # the build extra
        raise JifenError("生成启用宏的工作簿（.xlsm）需要 pyOpenVBA：请运行 pip install \"jifen-xl[build]\" 后重试。"
                         "不需要按钮时，把文件名改为 .xlsx 即可。") from exc
    return pyopenvba


def xlwings_modules() -> dict[str, str]:
    """The standalone xlwings modules' source, as the pinned xlwings ships them."""
    pyopenvba = _pyopenvba()
    with pyopenvba.ExcelFile(quickstart_path()) as wb:
        return {name: wb.get_module(name) for name in XLWINGS_MODULES}


# --- the VBA project ---------------------------------------------------------------------------------


def vba_project(package: bytes, book: str) -> bytes:
    """The ``vbaProject.bin`` for ``package`` (an ``.xlsx`` of the workbook kind ``book``): the
    document modules Excel would give its sheets, the xlwings modules and our module."""
    pyopenvba = _pyopenvba()
    sources = xlwings_modules()
    with tempfile.TemporaryDirectory(prefix="jifen-xlsm-") as tmp:
        src, out = Path(tmp) / "in.xlsm", Path(tmp) / "out.xlsm"
        src.write_bytes(package)
        with pyopenvba.ExcelFile(src) as wb:
            project = wb.add_vba_project()
            project.add_module(XLWINGS_MODULES[0], sources[XLWINGS_MODULES[0]])
            project.add_module(XLWINGS_MODULES[1], sources[XLWINGS_MODULES[1]], kind=pyopenvba.VBAModuleKind.other)
            project.add_module(MODULE_OF[book], module_text(book))
            wb.save(out)
        with zipfile.ZipFile(out) as z:
            return z.read(VBA_PART)


def standard_project(package: bytes, book: str) -> bytes | None:
    """The VBA project of the built standard workbook of kind ``book`` (``workbook/``, shipped with
    the package) when it fits ``package``: the same number of sheets, so the same document modules
    (a build is byte-identical, tests/test_xlsm.py). Lets ``new`` and ``rollover`` give a village
    its buttons without the build-time VBA writer. None: no standard workbook found, or it does not fit."""
    name = next(n for n, kind in STANDARD_BOOKS.items() if kind == book)
    wanted = len(sheet_parts(_read(package)))
    for folder in workbook_dirs():
        path = folder / name
        try:
            parts = _read(path.read_bytes())
        except (OSError, zipfile.BadZipFile, KeyError):
            continue
        if VBA_PART in parts and len(sheet_parts(parts)) == wanted:
            return parts[VBA_PART]
    return None


# --- the graft ---------------------------------------------------------------------------------------


def _read(package: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(package)) as z:
        return {info.filename: z.read(info) for info in z.infolist()}


def _attrs(tag: str) -> dict[str, str]:
    return dict(re.findall(r'([\w:]+)="([^"]*)"', tag))


def _part(base: str, target: str) -> str:
    if target.startswith("/"):
        return target[1:]
    folder = base.rsplit("/", 1)[0]
    parts: list[str] = []
    for piece in f"{folder}/{target}".split("/"):
        if piece == "..":
            parts.pop()
        elif piece not in ("", "."):
            parts.append(piece)
    return "/".join(parts)


def _rels_name(part: str) -> str:
    folder, _, name = part.rpartition("/")
    return f"{folder}/_rels/{name}.rels"


def sheet_parts(parts: dict[str, bytes]) -> list[tuple[str, str]]:
    """(sheet name, worksheet part) in tab order."""
    book = parts["xl/workbook.xml"].decode("utf-8")
    rels = {a.get("Id"): a for a in map(_attrs, re.findall(r"<Relationship\b[^>]*>",
                                                         parts["xl/_rels/workbook.xml.rels"].decode("utf-8")))}
    out = []
    for tag in re.findall(r"<(?:\w+:)?sheet\b[^>]*>", book):
        a = _attrs(tag)
        rel = rels.get(a.get("r:id"), {})
        if rel.get("Type") == _WORKSHEET_REL:
            out.append((_unescape(a["name"]), _part("xl/workbook.xml", rel["Target"])))
    return out


def _unescape(text: str) -> str:
    return (text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'")
            .replace("&amp;", "&"))


def _set_attr(xml: str, element: str, name: str, value: str, *, after_root: str, after: tuple = ()) -> str:
    """``xml`` with ``name="value"`` on its first ``element``; one is made when it has none, inside
    the root ``after_root`` after the elements ``after`` that the schema puts before it."""
    found = re.search(rf"<{element}\b[^>]*?(/?)>", xml)
    if found is None:
        earlier = [m for e in after for m in re.finditer(rf"<{e}\b[^>]*/>", xml)]
        at = max(m.end() for m in earlier) if earlier else re.search(rf"<{after_root}\b[^>]*>", xml).end()
        return f'{xml[:at]}<{element} {name}="{value}"/>{xml[at:]}'
    tag = found.group(0)
    tag = re.sub(rf'\s{name}="[^"]*"', "", tag)
    head = re.match(rf"<{element}", tag).end()
    tag = f'{tag[:head]} {name}="{value}"{tag[head:]}'
    return xml[:found.start()] + tag + xml[found.end():]


def _add_relationship(parts: dict[str, bytes], rels_name: str, rel_type: str, target: str) -> str:
    """Add a relationship to ``rels_name`` (made when missing); return its id."""
    text = parts.get(rels_name, b"").decode("utf-8") or (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"></Relationships>')
    taken = set(re.findall(r'\bId="([^"]*)"', text))
    n = 1
    while f"rIdJifen{n}" in taken:
        n += 1
    rid = f"rIdJifen{n}"
    rel = f'<Relationship Id="{rid}" Type="{rel_type}" Target="{target}"/>'
    if text.rstrip().endswith("/>") and "</Relationships>" not in text:  # an empty <Relationships/>
        text = re.sub(r"<Relationships\b([^>]*)/>", rf"<Relationships\1>{rel}</Relationships>", text)
    else:
        text = text.replace("</Relationships>", rel + "</Relationships>", 1)
    parts[rels_name] = text.encode("utf-8")
    return rid


def _content_types(parts: dict[str, bytes], vml: bool) -> None:
    types = parts["[Content_Types].xml"].decode("utf-8")
    types = types.replace(f'ContentType="{XLSX_MAIN}"', f'ContentType="{MACRO_MAIN}"')
    extras = [("bin", VBA_CONTENT)] + ([("vml", VML_CONTENT)] if vml else [])
    for ext, ctype in extras:
        if not re.search(rf'<Default\b[^>]*Extension="{ext}"', types, re.IGNORECASE):
            root = re.search(r"<Types\b[^>]*>", types)
            types = f'{types[:root.end()]}<Default Extension="{ext}" ContentType="{ctype}"/>{types[root.end():]}'
    parts["[Content_Types].xml"] = types.encode("utf-8")


def graft(package: bytes, book: str, placements: list[Placement], *, project: bytes | None = None,
          timestamp: str | None = None) -> bytes:
    """``package`` (an ``.xlsx`` built from ``schema.py``) as an ``.xlsm``: the VBA project, the
    code names, the buttons; every other part byte for byte (only re-packed, in a fixed order).

    :param book: ``schema.BOOK_VILLAGE`` or ``schema.BOOK_TOWNSHIP``.
    :param placements: the buttons and their cells.
    :param project: a ``vbaProject.bin`` to use (the one of the workbook being replaced, kept byte
        for byte); default: a new one (``vba_project``).
    :param timestamp: docProps' created/modified (W3CDTF) for a reproducible build; default: kept.
    """
    if project is None:
        project = vba_project(package, book)
    parts = _read(package)
    parts[VBA_PART] = project
    _add_relationship(parts, "xl/_rels/workbook.xml.rels", VBA_REL, "vbaProject.bin")
    book_xml = parts["xl/workbook.xml"].decode("utf-8")
    parts["xl/workbook.xml"] = _set_attr(book_xml, "workbookPr", "codeName", WORKBOOK_CODE_NAME, after_root="workbook",
                                         after=("fileVersion", "fileSharing")).encode("utf-8")
    sheets = sheet_parts(parts)
    for place, (_name, part) in enumerate(sheets, start=1):
        xml = parts[part].decode("utf-8")
        parts[part] = _set_attr(xml, "sheetPr", "codeName", SHEET_CODE_NAME.format(place),
                                after_root="worksheet").encode("utf-8")
    by_sheet: dict[str, list[Placement]] = {}
    for p in placements:
        by_sheet.setdefault(p.button.sheet, []).append(p)
    index = {name.strip(): (i, part) for i, (name, part) in enumerate(sheets, start=1)}
    for sheet, items in by_sheet.items():
        if sheet not in index:
            raise JifenError(f"工作簿中没有放按钮的工作表「{sheet}」。")
        _add_buttons(parts, *index[sheet], items)
    _content_types(parts, vml=bool(placements))
    if timestamp is not None:
        _fix_dates(parts, timestamp)
    return pack(parts)


def _fix_dates(parts: dict[str, bytes], timestamp: str) -> None:
    core = parts.get("docProps/core.xml")
    if core is not None:
        text = re.sub(r"(<dcterms:(?:created|modified)\b[^>]*>)[^<]*(<)", rf"\g<1>{timestamp}\g<2>",
                      core.decode("utf-8"))
        parts["docProps/core.xml"] = text.encode("utf-8")


#: The order of parts in a built package: the content types first (as Excel writes them), then by name.
def _order(name: str) -> tuple:
    return (name != "[Content_Types].xml", not name.startswith("_rels/"), name)


def pack(parts: dict[str, bytes]) -> bytes:
    """A zip package of ``parts``, the same bytes for the same parts (fixed order, date, compression)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name in sorted(parts, key=_order):
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            z.writestr(info, parts[name], compresslevel=6)
    return buf.getvalue()


# --- buttons -----------------------------------------------------------------------------------------


def _geometry(sheet_xml: str) -> tuple[dict[int, float], dict[int, float], float, float]:
    """Row heights (points) and column widths (characters) the sheet declares, and its defaults."""
    fmt = re.search(r"<sheetFormatPr\b[^>]*>", sheet_xml)
    a = _attrs(fmt.group(0)) if fmt else {}
    default_row = float(a.get("defaultRowHeight", _DEFAULT_ROW))
    default_width = float(a.get("defaultColWidth", a.get("baseColWidth", _DEFAULT_WIDTH)))
    rows = {int(r["r"]): float(r["ht"]) for r in map(_attrs, re.findall(r"<row\b[^>]*>", sheet_xml)) if "ht" in r}
    cols: dict[int, float] = {}
    for c in map(_attrs, re.findall(r"<col\b[^>]*>", sheet_xml)):
        if "width" in c:
            for n in range(int(c["min"]), min(int(c["max"]), 256) + 1):
                cols[n] = float(c["width"])
    return rows, cols, default_row, default_width


def _pt_of_chars(chars: float) -> float:
    """A column width in characters as points (Calibri 11: 7 px a character + 5 px padding, 96 dpi)."""
    return (chars * 7 + 5) * 0.75


def button_shape(p: Placement, shape_id: int, z: int, sheet_xml: str) -> str:
    """The VML of one form button filling its cell (inside ``BUTTON_MARGIN``), bound to its Sub."""
    rows, cols, default_row, default_width = _geometry(sheet_xml)
    top = sum(rows.get(r, default_row) for r in range(1, p.row))
    left = sum(_pt_of_chars(cols.get(c, default_width)) for c in range(1, p.column))
    cell_h = rows.get(p.row, default_row)
    cell_w = sum(_pt_of_chars(cols.get(c, default_width)) for c in range(p.column, p.column + p.span))
    height = min(BUTTON_HEIGHT, cell_h - 2 * BUTTON_MARGIN)
    width = cell_w - 2 * BUTTON_MARGIN
    dy = (cell_h - height) / 2
    px = 4 / 3  # points -> pixels
    anchor = (f"{p.column - 1}, {round(BUTTON_MARGIN * px)}, {p.row - 1}, {round(dy * px)}, "
              f"{p.column + p.span - 2}, {round((BUTTON_MARGIN + width - (cell_w - _pt_of_chars(cols.get(p.column + p.span - 1, default_width)))) * px)}, {p.row - 1}, {round((dy + height) * px)}")
    style = (f"position:absolute;margin-left:{left + BUTTON_MARGIN:.2f}pt;margin-top:{top + dy:.2f}pt;"
             f"width:{width:.2f}pt;height:{height:.2f}pt;z-index:{z};mso-wrap-style:tight")
    return (
        f'<v:shape xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
        f'xmlns:x="urn:schemas-microsoft-com:office:excel" id="_x0000_s{shape_id}" type="#_x0000_t201" '
        f'style="{style}" o:button="t" fillcolor="buttonFace [67]" strokecolor="windowText [64]" '
        f'o:insetmode="auto">'
        f'<v:fill color2="buttonFace [67]" o:detectmouseclick="t"/><o:lock v:ext="edit" rotation="t"/>'
        f'<v:textbox style="mso-direction-alt:auto" o:singleclick="f">'
        f'<div style="text-align:center"><font face="宋体" size="220" color="auto">{escape(p.button.caption)}</font>'
        f'</div></v:textbox>'
        f'<x:ClientData ObjectType="Button"><x:Anchor>{anchor}</x:Anchor><x:PrintObject>False</x:PrintObject>'
        f'<x:AutoFill>False</x:AutoFill><x:FmlaMacro>[0]!{p.button.sub}</x:FmlaMacro>'
        f'<x:TextHAlign>Center</x:TextHAlign><x:TextVAlign>Center</x:TextVAlign></x:ClientData></v:shape>')


_SHAPETYPE = (
    '<v:shapetype xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
    'id="_x0000_t201" coordsize="21600,21600" o:spt="201" path="m,l,21600r21600,l21600,xe">'
    '<v:stroke joinstyle="miter"/><v:path shadowok="f" o:extrusionok="f" strokeok="f" fillok="f" '
    'o:connecttype="rect"/><o:lock v:ext="edit" shapetype="t"/></v:shapetype>')

#: Elements that follow ``legacyDrawing`` in a worksheet (CT_Worksheet's order).
_AFTER_LEGACY = ("legacyDrawingHF", "drawingHF", "picture", "oleObjects", "controls", "webPublishItems",
                 "tableParts", "extLst")


def _add_buttons(parts: dict[str, bytes], place: int, part: str, items: list[Placement]) -> None:
    sheet_xml = parts[part].decode("utf-8")
    rels_name = _rels_name(part)
    legacy = re.search(r"<(?:\w+:)?legacyDrawing\b[^>]*>", sheet_xml)
    if legacy is not None:  # header notes: the buttons join their drawing
        rid = next(v for k, v in _attrs(legacy.group(0)).items() if k.endswith(":id"))
        rels = {a.get("Id"): a for a in map(_attrs, re.findall(r"<Relationship\b[^>]*>",
                                                             parts[rels_name].decode("utf-8")))}
        vml_part = _part(part, rels[rid]["Target"])
        vml = parts[vml_part].decode("utf-8")
        ids = [int(n) for n in re.findall(r'id="_x0000_s(\d+)"', vml)]
        first = max(ids, default=1024 * place) + 1
    else:
        vml_part = f"xl/drawings/vmlDrawingButtons{place}.vml"
        vml = ('<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
               'xmlns:x="urn:schemas-microsoft-com:office:excel">'
               f'<o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="{place}"/></o:shapelayout></xml>')
        first = 1024 * place + 1
        rid = _add_relationship(parts, rels_name, VML_REL, f"../drawings/vmlDrawingButtons{place}.vml")
        tag = f'<legacyDrawing xmlns:r="{R_NS}" r:id="{rid}"/>'
        after = re.search(r"<(?:%s)\b|</worksheet>" % "|".join(_AFTER_LEGACY), sheet_xml)
        sheet_xml = sheet_xml[:after.start()] + tag + sheet_xml[after.start():]
        parts[part] = sheet_xml.encode("utf-8")
    shapes = [button_shape(p, first + i, 1000 + i, sheet_xml) for i, p in enumerate(items)]
    end = vml.rindex("</xml>")
    parts[vml_part] = (vml[:end] + _SHAPETYPE + "".join(shapes) + vml[end:]).encode("utf-8")


# --- the two workbooks --------------------------------------------------------------------------------

#: The standard workbooks ``jifen-xl build-workbook`` keeps under ``workbook/``: file name -> kind.
STANDARD_BOOKS = {"村级积分台账.xlsm": schema.BOOK_VILLAGE, "乡镇积分汇总.xlsm": schema.BOOK_TOWNSHIP}
#: The year of the standard village workbook (its examples, the catalogue's dates); a village's
#: own workbook gets its year from ``jifen-xl new``.
STANDARD_YEAR = 2026


def village_package(settings: dict, tables=None, *, timestamp: str | None = None, fresh: bool = False) -> bytes:
    """A village's ``.xlsm``: the standard workbook (``io.template``) with the village's buttons
    in 使用说明, one per row, each in column A beside what it does, and the hidden settings sheet
    of xlwings (``schema.XLWINGS_CONF``: where 导入公式函数 finds the UDF module).

    :param fresh: build the VBA project from ``macros/`` (``build-workbook``); default: the built
        standard workbook's project when it fits (``standard_project``), else a fresh one."""
    from .template import build_package

    buttons = schema.buttons(schema.BOOK_VILLAGE)
    package, rows = build_package(settings, tables, buttons=buttons, conf=schema.XLWINGS_CONF)
    project = None if fresh else standard_project(package, schema.BOOK_VILLAGE)
    return graft(package, schema.BOOK_VILLAGE, [Placement(b, rows[b], 1) for b in buttons], project=project,
                 timestamp=timestamp)


def township_placements() -> list[Placement]:
    """The township's button: in 汇总概况's header row, one column right of the table (the table
    starts at A1 and its header row is frozen, so the button never covers a figure and stays in
    view while scrolling down), two columns wide."""
    spec = schema.TOWNSHIP_SUMMARY
    return [Placement(b, 1, len(spec.columns) + 2, span=2) for b in schema.buttons(schema.BOOK_TOWNSHIP)]


def township_package(workbook, *, project: bytes | None = None, timestamp: str | None = None,
                     fresh: bool = False) -> bytes:
    """A township workbook (an openpyxl ``Workbook`` from ``io.township_book``) as an ``.xlsm``
    with its button; ``project``: the VBA project to keep (the replaced file's); without one, as
    ``village_package``'s ``fresh``."""
    buf = io.BytesIO()
    workbook.save(buf)
    package = buf.getvalue()
    if project is None and not fresh:
        project = standard_project(package, schema.BOOK_TOWNSHIP)
    return graft(package, schema.BOOK_TOWNSHIP, township_placements(), project=project, timestamp=timestamp)


# --- reading back ------------------------------------------------------------------------------------


def vba_bytes(path: str | Path) -> bytes | None:
    """The ``vbaProject.bin`` of the package at ``path`` (None without one)."""
    try:
        with zipfile.ZipFile(path) as z:
            return z.read(VBA_PART) if VBA_PART in z.namelist() else None
    except (OSError, zipfile.BadZipFile):
        return None


def write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and an atomic replace."""
    from .. import safefile

    safefile.write_atomic(path, lambda f: f.write(data))


__all__ = ["Placement", "graft", "vba_project", "pack", "module_text", "xlwings_modules", "village_package",
           "township_package", "vba_bytes"]
