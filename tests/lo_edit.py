"""Editing a workbook with LibreOffice headless (tests only): the workbook is converted by
LibreOffice to a flat OpenDocument spreadsheet (.fods), the cells are changed in that XML as a
clerk would change them in Calc, and LibreOffice converts it back to .xlsx, so the file under
test is written wholly by LibreOffice."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from pathlib import Path

from .lo import lo_convert

NS = {"table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
      "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
      "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
      "calcext": "urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0"}


def _q(prefix: str, name: str) -> str:
    return f"{{{NS[prefix]}}}{name}"


def _register(path: Path) -> None:
    for _, (prefix, uri) in ET.iterparse(path, events=["start-ns"]):
        ET.register_namespace(prefix, uri)


def _rows(table) -> list:
    """The sheet's row elements by Excel row (index 0 = row 1); repeated rows appear repeatedly."""
    out = []
    for row in table.iter(_q("table", "table-row")):
        out += [row] * int(row.get(_q("table", "number-rows-repeated"), "1"))
    return out


def _cells(row) -> list:
    out = []
    for cell in row:
        if cell.tag in (_q("table", "table-cell"), _q("table", "covered-table-cell")):
            out += [cell] * int(cell.get(_q("table", "number-columns-repeated"), "1"))
    return out


def _alone(row, index: int):
    """The cell at 0-based column ``index`` of ``row`` as an element of its own: a run of equal
    cells (``number-columns-repeated``) is split around it."""
    import copy

    cells = _cells(row)
    cell = cells[index]
    repeat = int(cell.get(_q("table", "number-columns-repeated"), "1"))
    if repeat == 1:
        return cell
    first = cells.index(cell)
    before, after = index - first, first + repeat - index - 1
    at = list(row).index(cell)
    row.remove(cell)
    parts = []
    for count in (before, 1, after):
        if count:
            part = copy.deepcopy(cell)
            part.attrib.pop(_q("table", "number-columns-repeated"))
            if count > 1:
                part.set(_q("table", "number-columns-repeated"), str(count))
            parts.append((count, part))
    for offset, (_, part) in enumerate(parts):
        row.insert(at + offset, part)
    return parts[1 if before else 0][1]


def _text(cell) -> str:
    """The text a cell shows (its paragraphs; not a comment attached to it)."""
    return "".join("".join(p.itertext()) for p in cell.findall("text:p", NS)).strip()


def _set(cell, value) -> None:
    for attr in ("value", "date-value", "value-type"):
        cell.attrib.pop(_q("office", attr), None)
    cell.attrib.pop(_q("calcext", "value-type"), None)
    for child in cell.findall("text:p", NS):
        cell.remove(child)
    if isinstance(value, dt.date):
        kind, shown = "date", value.isoformat()
        cell.set(_q("office", "date-value"), shown)
    elif isinstance(value, (int, float)):
        kind, shown = "float", repr(value) if isinstance(value, float) else str(value)
        cell.set(_q("office", "value"), shown)
    else:
        kind, shown = "string", str(value)
    cell.set(_q("office", "value-type"), kind)
    cell.set(_q("calcext", "value-type"), kind)
    ET.SubElement(cell, _q("text", "p")).text = shown


def lo_edit(src: Path, edits: list[tuple], workdir: Path) -> Path:
    """``src`` edited through LibreOffice; returns the .xlsx LibreOffice wrote.

    :param edits: ``("set", sheet, excel_row, header, value)`` (the header is looked up in row 1)
        or ``("delete", sheet, excel_row)`` (the row is removed; the rows below move up).
    """
    fods = lo_convert(src, "fods", workdir / "fods")
    _register(fods)
    tree = ET.parse(fods)
    tables = {t.get(_q("table", "name")): t for t in tree.iter(_q("table", "table"))}
    for edit in edits:
        table = tables[edit[1]]
        rows = _rows(table)
        target = rows[edit[2] - 1]
        assert target.get(_q("table", "number-rows-repeated")) is None, "a repeated row cannot be edited alone"
        if edit[0] == "delete":
            parent = next(p for p in table.iter() if target in list(p))
            parent.remove(target)
            continue
        headers = [_text(c) for c in _cells(rows[0])]
        _set(_alone(target, headers.index(edit[3])), edit[4])
    tree.write(fods, xml_declaration=True, encoding="UTF-8")
    return lo_convert(fods, "xlsx", workdir / "xlsx")
