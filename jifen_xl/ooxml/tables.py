"""Excel tables (``xl/tables/tableN.xml``): read their range, header rows and columns; move
their range (and their filter's) when the rows below the header are rewritten."""

from __future__ import annotations

import re
from dataclasses import dataclass

from . import markup
from .markup import ATTRS as _ATTRS
from .markup import Corrupt as _Corrupt
from .markup import decode as _decode
from .markup import set_attr as _set_attr
from .sheetxml import parse_range


@dataclass
class Table:
    part: str
    name: str
    ref: tuple[int, int, int, int] | None
    header_rows: int
    columns: list[str]


def retarget_table(data: bytes, part: str, ref: str) -> bytes:
    text, bom = _decode(data, part)
    m = re.search(r"<(?:\w+:)?table\b%s>" % _ATTRS, text, re.S)
    if m is None:
        raise _Corrupt(f"表格部件“{part}”格式错误")
    text = text[:m.start()] + _set_attr(m.group(0), "ref", ref) + text[m.end():]
    text = re.sub(r"<(?:\w+:)?autoFilter\b%s/?>" % _ATTRS, lambda a: _set_attr(a.group(0), "ref", ref),
                  text, count=1, flags=re.S)
    return bom + text.encode("utf-8")


def parse_table(text: str, part: str) -> Table:
    """The table part's name, range, header rows and column names (any legal spelling)."""
    root = next(markup.start_tags(text, "table"), None)
    if root is None:
        raise _Corrupt(f"表格部件“{part}”格式错误")
    a = markup.local_attrs(root[1])
    cols = [markup.local_attrs(attr_text).get("name", "") for _m, attr_text, _p in markup.start_tags(text, "tableColumn")]
    header_rows = a.get("headerRowCount", "1").strip()
    return Table(part, a.get("name", "") or a.get("displayName", ""), parse_range(a.get("ref", "")),
                  int(header_rows) if header_rows.isdigit() else 1, cols)


def id_and_names(text: str) -> tuple[int | None, set[str]]:
    """A table part's ``id`` (None when absent) and its ``name`` and ``displayName`` in lower case
    (both must stay unique in a workbook)."""
    root = next(markup.start_tags(text, "table"), None)
    if root is None:
        return None, set()
    a = markup.local_attrs(root[1])
    ident = a.get("id", "").strip()
    return (int(ident) if ident.isdigit() else None), {a.get(k, "").lower() for k in ("name", "displayName")}
