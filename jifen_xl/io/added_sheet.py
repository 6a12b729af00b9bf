"""An owned sheet the clerk's workbook lacks (made before the sheet was declared, or by hand
without it), planned as new parts: the sheet after the last one, its Excel table, and one entry
each in the workbook, its relationships and the content types (the print titles and its cell
formats too). Nothing else in the package changes."""

from __future__ import annotations

import posixpath
import re

from .. import errors
from ..ooxml import markup, opc, workbookxml
from ..ooxml import styles as ooxstyles
from ..ooxml import tables as ooxtables
from ..ooxml.markup import ATTRS as _ATTRS
from ..ooxml.markup import Corrupt as _Corrupt
from ..ooxml.markup import attrs as _attrs
from ..ooxml.markup import decode as _decode
from ..ooxml.markup import escape_attr as _escape_attr
from ..ooxml.markup import escape_text as _escape_text
from ..ooxml.opc import CONTENT_TYPES as _CONTENT_TYPES
from ..ooxml.opc import key as _key
from ..ooxml.opc import rels_part as _rels_part
from ..ooxml.sheetxml import column_letters
from ..schema import SheetSpec
from . import look


class AddsSheets:
    """The part of ``writeplan._Package`` that plans an owned sheet the workbook lacks."""

    # -- an owned sheet the workbook lacks ---------------------------------------
    def add_sheet(self, spec: SheetSpec) -> None:
        """Plan a new owned sheet after the last one: its header row, widths, frozen header, an
        Excel table with filter buttons, A4 print setup with the header repeated on every page.

        The workbook's other sheets, names and parts stay as they are; only the workbook part,
        its relationships and the content types gain an entry each (and the print-titles name),
        and the styles its cell formats (the header row; wrapped or top-aligned columns).
        Its data rows are then written like those of any owned sheet (``plan_sheet``)."""
        refusal = (f"工作簿「{self.display}」中没有工作表「{spec.name}」，而这个工作簿的格式不便由工具添加工作表，工具没有写入。"
                   f"请从工具的模板工作簿中把「{spec.name}」工作表（含表头）复制到本工作簿，"
                   f"或在 Excel 中另存为“Excel 工作簿(*.xlsx)”后重试。")
        part, _sheet_id, index = self.append_sheet(spec.name, refusal)
        taken = self._taken_part_names()
        table_part = _fresh(lambda n: f"xl/tables/table{n}.xml", taken)
        table_ids, names = self._table_ids_and_names()
        table_id = max(table_ids, default=0) + 1
        wb_text = _decode(self.read(self.workbook_part), self.workbook_part)[0]
        table_name = _fresh(lambda n: spec.table if n == 1 else f"{spec.table}{n}",
                            names | _defined_names(wb_text), start=1)
        quoted = "'" + spec.name.replace("'", "''") + "'"
        self.set_sheet_names(index, {"_xlnm.Print_Titles": f"{quoted}!$1:$1"})
        self._add_relationship(_rels_part(part), "rId1", opc.REL_TABLE,
                               posixpath.relpath(table_part, posixpath.dirname(part)))
        self._add_content_types({table_part: opc.CT_TABLE})
        self.overlay[_key(part)] = _new_sheet_xml(spec, self._sheet_styles(spec)).encode("utf-8")
        self.overlay[_key(table_part)] = _new_table_xml(spec, table_id, table_name).encode("utf-8")

    def fresh_rid(self) -> str:
        """A relationship id the workbook part does not use yet."""
        return _fresh(lambda n: f"rId{n}", {r["Id"] for r in self.wb_rels})

    def append_sheet(self, name: str, refusal: str) -> tuple[str, str, int]:
        """Plan a new, still empty sheet ``name`` after the last one: its ``<sheet>`` entry in the
        workbook part, its relationship and its content type. Returns (part name, sheetId, tab
        index); the caller plans the part's bytes. ``refusal``: the clerk's message when the
        workbook part is not one the toolkit can extend (e.g. "Strict Open XML")."""
        wb_part = self.workbook_part
        wb_text, wb_bom = _decode(self.read(wb_part), wb_part)
        root = re.search(r"<(?:([A-Za-z_][\w.-]*):)?workbook\b(%s)>" % _ATTRS, wb_text, re.S)
        p = root.group(1) + ":" if root and root.group(1) else ""
        declared = _attrs(root.group(2)) if root else {}
        first = re.search(r"<%ssheet\b(%s)/?>" % (re.escape(p), _ATTRS), wb_text, re.S)
        rel_prefix = re.search(r"(?:^|\s)([A-Za-z_][\w.-]*):id\s*=", first.group(1)) if first else None
        close = wb_text.find(f"</{p}sheets>")
        if declared.get(f"xmlns:{p[:-1]}" if p else "xmlns") != opc.MAIN_NS or rel_prefix is None or close < 0:
            raise errors.WriteRefused(refusal)
        rel_prefix = rel_prefix.group(1)
        rel_ns = re.search(r"""xmlns:%s\s*=\s*["']([^"']+)["']""" % re.escape(rel_prefix), wb_text)
        if rel_ns is None:
            raise _Corrupt("工作簿部件的命名空间不完整")

        sheet_id = max([int(sid) for _, sid, _ in self.sheets if sid.isdigit()] + [0]) + 1
        rid = self.fresh_rid()
        taken = self._taken_part_names()
        part = _fresh(lambda n: f"xl/worksheets/sheet{n}.xml", taken,
                      lambda name: _rels_part(name).lower() in taken)  # no leftover .rels either
        index = len(self.sheets)  # localSheetId of the new sheet: it comes last
        # (the prefix declared on the element itself: some writers declare it on each <sheet>)
        new_sheet = (f'<{p}sheet xmlns:{rel_prefix}="{_escape_attr(rel_ns.group(1))}" name="{_escape_attr(name)}" '
                     f'sheetId="{sheet_id}" {rel_prefix}:id="{rid}"/>')
        wb_text = wb_text[:close] + new_sheet + wb_text[close:]
        self.overlay[_key(wb_part)] = wb_bom + wb_text.encode("utf-8")

        rels_name = _rels_part(wb_part)
        target = posixpath.relpath(part, posixpath.dirname(wb_part) or ".")
        self._add_relationship(rels_name, rid, opc.REL_WORKSHEET, target)
        self._add_content_types({part: opc.CT_WORKSHEET})
        self.sheets.append((name, str(sheet_id), rid))
        self.wb_rels.append({"Id": rid, "Type": opc.REL_WORKSHEET, "Target": target, "TargetMode": ""})
        return part, str(sheet_id), index

    def set_sheet_names(self, index: int, names: dict[str, str], drop: tuple[str, ...] = ()) -> None:
        """Plan the defined names local to the sheet at tab ``index`` (``localSheetId``): those in
        ``drop`` (compared without case) go, ``names`` (name -> formula) come in."""
        wb_part = self.workbook_part
        wb_text, wb_bom = _decode(self.read(wb_part), wb_part)
        root = re.search(r"<(?:([A-Za-z_][\w.-]*):)?workbook\b", wb_text)
        p = root.group(1) + ":" if root and root.group(1) else ""
        gone = {n.lower() for n in drop}

        def keep(m):
            a = markup.local_attrs(m.group(1))
            mine = a.get("localSheetId", "").strip() == str(index) and a.get("name", "").lower() in gone
            return "" if mine else m.group(0)
        new_text = re.sub(r"<(?:[\w.-]+:)?definedName\b(%s)(?:/>|>.*?</(?:[\w.-]+:)?definedName>)" % _ATTRS,
                          keep, wb_text, flags=re.S)
        new = "".join(f'<{p}definedName name="{_escape_attr(n)}" localSheetId="{index}">{_escape_text(f)}'
                      f"</{p}definedName>" for n, f in names.items())
        if new:
            new_text = _with_defined_names(new_text, p, new)
        if new_text != wb_text:
            self.overlay[_key(wb_part)] = wb_bom + new_text.encode("utf-8")

    def _sheet_styles(self, spec: SheetSpec) -> dict[str, str]:
        """The cell formats of a new owned sheet, appended to the workbook's styles
        (``ooxml.styles``; the formats already there keep their indices): ``"header"`` (bold, filled,
        bordered, centred and wrapped, as the template's header row), ``"wrap"`` (long text wrapping
        at the top of the cell) and ``"top"`` (the other columns, aligned to the top beside it).
        Empty when the workbook has no styles part to extend; a format whose list is missing is
        left out."""
        target = self.wb_target("/styles")
        data = self.read(target[1]) if target else None
        if data is None:
            return {}
        text, bom = _decode(data, target[1])
        made = {}
        wanted = [("header", lambda t: ooxstyles.append_header_format(
            t, look.header_fill(spec), look.HEADER_BORDER, look.HEADER_BOLD))]
        if any(c.wraps for c in spec.columns):
            wanted.append(("wrap", ooxstyles.append_wrap_format))
        if not all(c.wraps for c in spec.columns):
            wanted.append(("top", ooxstyles.append_top_format))
        for name, append in wanted:
            done = append(text)
            if done is not None:
                text, made[name] = done
        if made:
            self.overlay[_key(target[1])] = bom + text.encode("utf-8")
        return made

    def _overrides(self) -> list[tuple[str, str]]:
        """(part name, content type) of every ``<Override>`` of the content types part."""
        return opc.content_type_names((self.read(_CONTENT_TYPES) or b"").decode("utf-8", "replace"))

    def _taken_part_names(self) -> set[str]:
        """Part names (lower case) a new part must not take: the package's parts, the ones planned,
        and the ones content types still name."""
        named = {name.lower() for name, _ct in self._overrides()}
        return {_key(e.name) for e in self.zr.entries} | set(self.overlay) | named

    def _table_ids_and_names(self) -> tuple[set[int], set[str]]:
        """The ids and (lower-case) names of every table in the package and planned so far
        (both must stay unique): parts the content types call tables, and any under xl/tables/."""
        typed = {name.lower() for name, ct in self._overrides() if ct.endswith("table+xml")}
        ids, names = set(), set()
        for name in sorted(({_key(e.name) for e in self.zr.entries} | set(self.overlay))):
            if name in typed or re.fullmatch(r"xl/tables/[^/]+\.xml", name):
                text = self._text(name)
                if text is None:
                    continue
                ident, both = ooxtables.id_and_names(text)
                if ident is not None:
                    ids.add(ident)
                names |= both
        return ids, names

    def _add_relationship(self, rels_name: str, rid: str, rel_type: str, target: str) -> None:
        data = self.read(rels_name)
        text, bom = _decode(data, rels_name) if data is not None else (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{opc.RELS_NS}"></Relationships>',
            b"")
        close = opc.closing_tag(text, "Relationships")
        if close is None:
            raise _Corrupt(f"关系部件“{rels_name}”格式错误")
        prefix = re.match(r"</([\w.-]+:)?", close.group(0)).group(1) or ""
        rel = f'<{prefix}Relationship Id="{rid}" Type="{rel_type}" Target="{_escape_attr(target)}"/>'
        self.overlay[_key(rels_name)] = bom + (text[:close.start()] + rel + text[close.start():]).encode("utf-8")

    def _add_content_types(self, overrides: dict[str, str]) -> None:
        text, bom = _decode(self.read(_CONTENT_TYPES) or b"", _CONTENT_TYPES)
        close = opc.closing_tag(text, "Types")
        if close is None:
            raise _Corrupt("内容类型部件格式错误")
        prefix = re.match(r"</([\w.-]+:)?", close.group(0)).group(1) or ""
        new = "".join(f'<{prefix}Override PartName="/{name}" ContentType="{ct}"/>' for name, ct in overrides.items())
        if not re.search(r"""<(?:[\w.-]+:)?Default\b[^>]*Extension=["']rels["']""", text, re.I):
            new += f'<{prefix}Default Extension="rels" ContentType="{opc.CT_RELS}"/>'
        self.overlay[_key(_CONTENT_TYPES)] = bom + (text[:close.start()] + new + text[close.start():]).encode("utf-8")


_AFTER_DEFINED_NAMES = workbookxml.AFTER_DEFINED_NAMES


def _with_defined_names(wb_text: str, p: str, new: str) -> str:
    """``wb_text`` with the ``<definedName>`` elements ``new`` added to its ``<definedNames>``
    (made where CT_Workbook puts it when there is none)."""
    names_close = wb_text.find(f"</{p}definedNames>")
    empty = re.search(r"<%sdefinedNames\b[^>]*/>" % re.escape(p), wb_text)
    if names_close >= 0:
        return wb_text[:names_close] + new + wb_text[names_close:]
    if empty:  # <definedNames/> (openpyxl writes it): one element, now holding the names
        return wb_text[:empty.start()] + f"<{p}definedNames>{new}</{p}definedNames>" + wb_text[empty.end():]
    # definedNames comes after sheets (and functionGroups, externalReferences), before these
    after = re.compile(r"<%s(?:%s)\b" % (re.escape(p), "|".join(_AFTER_DEFINED_NAMES)))
    m = after.search(wb_text, wb_text.find(f"</{p}sheets>"))
    at = m.start() if m else wb_text.rfind(f"</{p}workbook>")
    return wb_text[:at] + f"<{p}definedNames>{new}</{p}definedNames>" + wb_text[at:]


def _fresh(name, taken: set[str] | None, exists=None, start: int = 1) -> str:
    """The first ``name(n)``, n = start, start + 1 ..., not in ``taken`` (compared in lower case) and
    for which ``exists`` is false."""
    lowered = {t.lower() for t in taken} if taken is not None else set()
    n = start
    while name(n).lower() in lowered or (exists is not None and exists(name(n))):
        n += 1
    return name(n)


def _defined_names(wb_text: str) -> set[str]:
    return {m.group(1).lower() for m in re.finditer(r"""<(?:[\w.-]+:)?definedName\b[^>]*?\sname\s*=\s*["']([^"']*)""",
                                                    wb_text)}


def _new_sheet_xml(spec: SheetSpec, styles: dict[str, str]) -> str:
    """An owned sheet with only its header row, as the template makes it (look.py); ``styles``:
    the cell formats (``AddsSheets._sheet_styles``) of the header row (``"header"``), of the
    columns whose long text wraps (``"wrap"``) and of the others (``"top"``)."""
    last = column_letters(len(spec.columns))
    column_style = {True: styles.get("wrap"), False: styles.get("top")}
    cols = "".join(f'<col min="{i}" max="{i}" width="{c.width:g}"'
                   + (f' style="{column_style[c.wraps]}"' if column_style[c.wraps] else "") + ' customWidth="1"/>'
                   for i, c in enumerate(spec.columns, start=1))
    s = f' s="{styles["header"]}"' if "header" in styles else ""
    header = "".join(f'<c r="{column_letters(i)}1"{s} t="inlineStr"><is><t>{_escape_text(c.header)}</t></is></c>'
                     for i, c in enumerate(spec.columns, start=1))
    lines = int(look.text_lines(spec.headers, [c.width for c in spec.columns]).max())
    height = f' ht="{look.row_points([lines])[0]:g}" customHeight="1"' if lines > 1 else ""
    margins = " ".join(f'{side}="{inches:g}"' for side, inches in zip(
        ("left", "right", "top", "bottom", "header", "footer"), look.MARGINS))
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<worksheet xmlns="{opc.MAIN_NS}" xmlns:r="{opc.DOC_RELS}">'
        f'<sheetPr><tabColor rgb="FF{look.OWNED_TAB_COLOR}"/><pageSetUpPr fitToPage="1"/></sheetPr>'
        f'<dimension ref="A1:{last}1"/>'
        '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" '
        'state="frozen"/><selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
        # not marked custom, as the template's: Excel and WPS still fit rows to what is typed
        f'<sheetFormatPr defaultRowHeight="{look.ROW_POINTS:g}"/>'
        f"<cols>{cols}</cols>"
        f'<sheetData><row r="1"{height}>{header}</row></sheetData>'
        '<printOptions horizontalCentered="1" gridLines="1"/>'
        f"<pageMargins {margins}/>"
        f'<pageSetup paperSize="{look.PAPER_A4}" orientation="{look.orientation(spec)}" fitToWidth="1" '
        'fitToHeight="0"/>'
        f'<headerFooter><oddHeader>&amp;C&amp;A</oddHeader><oddFooter>&amp;C{_escape_text(look.FOOTER)}</oddFooter>'
        "</headerFooter>"
        '<tableParts count="1"><tablePart r:id="rId1"/></tableParts>'
        "</worksheet>")


def _new_table_xml(spec: SheetSpec, table_id: int, name: str) -> str:
    """The Excel table of a new owned sheet (header row and one data row; ``plan_sheet`` sizes it)."""
    ref = f"A1:{column_letters(len(spec.columns))}2"
    columns = "".join(f'<tableColumn id="{i}" name="{_escape_attr(c.header)}"/>'
                      for i, c in enumerate(spec.columns, start=1))
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<table xmlns="{opc.MAIN_NS}" id="{table_id}" name="{_escape_attr(name)}" displayName="{_escape_attr(name)}" '
        f'ref="{ref}" totalsRowShown="0"><autoFilter ref="{ref}"/>'
        f'<tableColumns count="{len(spec.columns)}">{columns}</tableColumns>'
        f'<tableStyleInfo name="{look.OWNED_TABLE_STYLE}" showFirstColumn="0" showLastColumn="0" '
        'showRowStripes="1" showColumnStripes="0"/></table>')
