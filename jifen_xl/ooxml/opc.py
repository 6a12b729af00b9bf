"""The package's map (Open Packaging Conventions): part names, relationships, content types and
the workbook's list of sheets. One parser for each, every legal spelling accepted (see
``markup``)."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from urllib.parse import unquote

from . import markup

CONTENT_TYPES = "[Content_Types].xml"
ROOT_RELS = "_rels/.rels"
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
REL_WORKSHEET = DOC_RELS + "/worksheet"
REL_TABLE = DOC_RELS + "/table"
CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CT_TABLE = "application/vnd.openxmlformats-officedocument.spreadsheetml.table+xml"
CT_STYLES = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"
CT_RELS = "application/vnd.openxmlformats-package.relationships+xml"
XML_PART_SUFFIXES = (".xml", ".rels")


def part_name(name: str) -> str:
    """A zip entry name as a package part name: forward slashes (some exporters write ``\\``)."""
    return name.replace("\\", "/")


def key(name: str) -> str:
    """How a part name is looked up: OPC names are case-insensitive, and some Windows tools
    write ``xl\\workbook.xml`` with backslashes."""
    return name.replace("\\", "/").lower()


def rels_part(part: str) -> str:
    """The relationships part of ``part`` (``""`` = the package itself)."""
    if part == "":
        return ROOT_RELS
    folder, base = posixpath.split(part)
    return posixpath.join(folder, "_rels", base + ".rels")


def resolve(source_part: str, target: str) -> str:
    """The part a relationship of ``source_part`` points to (``target`` as unescaped)."""
    target = unquote(target.replace("\\", "/"))
    if target.startswith("/"):
        return posixpath.normpath(target.lstrip("/"))
    return posixpath.normpath(posixpath.join(posixpath.dirname(source_part), target))


@dataclass(frozen=True)
class Relationship:
    """One ``<Relationship>``: ``target`` unescaped, ``raw_target`` / ``raw_id`` as written."""

    id: str
    type: str
    target: str
    mode: str = ""
    raw_id: str = ""
    raw_target: str = ""

    @property
    def external(self) -> bool:
        return self.mode == "External"


def relationships(text: str) -> list[Relationship]:
    """Every relationship in a ``.rels`` part's text, in order."""
    out = []
    for _m, attr_text, _p in markup.start_tags(text, "Relationship"):
        items = {markup.local(n): (v, raw) for n, v, raw in markup.attr_items(attr_text)
                 if n != "xmlns" and not n.startswith("xmlns:")}
        get = lambda k: items.get(k, ("", ""))  # noqa: E731
        out.append(Relationship(get("Id")[0], get("Type")[0], get("Target")[0], get("TargetMode")[0],
                                get("Id")[1], get("Target")[1]))
    return out


def main_target(root_rels: list[Relationship]) -> str | None:
    """The workbook part named by the package's relationships (officeDocument), or None."""
    for r in root_rels:
        if r.type.endswith("/officeDocument") and not r.external:
            return resolve("", r.target)
    return None


@dataclass(frozen=True)
class SheetRef:
    """One ``<sheet>`` of the workbook part: its name (unescaped), ``sheetId`` and relationship
    ids (every ``id`` attribute in a prefix, as written and unescaped: normally one ``r:id``)."""

    name: str
    sheet_id: str
    rids: tuple[str, ...]
    raw_rids: tuple[str, ...] = ()


def workbook_sheets(text: str) -> list[SheetRef]:
    """The sheets of a workbook part's text, in order."""
    out = []
    for _m, attr_text, _p in markup.start_tags(text, "sheet"):
        name = sheet_id = ""
        rids, raw_rids = [], []
        for qname, value, raw in markup.attr_items(attr_text):
            if qname == "name":
                name = value
            elif qname == "sheetId":
                sheet_id = value
            elif ":" in qname and not qname.startswith("xmlns") and markup.local(qname) == "id":
                rids.append(value)
                raw_rids.append(raw)
        out.append(SheetRef(name, sheet_id, tuple(rids), tuple(raw_rids)))
    return out


def date1904(text: str) -> bool:
    """Whether the workbook part counts dates from 1904."""
    for _m, attr_text, _p in markup.start_tags(text, "workbookPr"):
        return markup.local_attrs(attr_text).get("date1904", "0").strip().lower() in ("1", "true")
    return False


def content_type_names(text: str) -> list[tuple[str, str]]:
    """(part name without the leading ``/``, content type) of every ``<Override>``."""
    out = []
    for _m, attr_text, _p in markup.start_tags(text, "Override"):
        a = markup.local_attrs(attr_text)
        out.append((a.get("PartName", "").lstrip("/"), a.get("ContentType", "")))
    return out


def closing_tag(text: str, name: str):
    """The match of the document element's end tag ``</[p:]name>`` at the end of ``text``."""
    return re.search(r"</([\w.-]+:)?%s>\s*$" % re.escape(name), text)
