"""The styles part (``xl/styles.xml``) read and edited as text: cell formats are appended, never
renumbered, so every index a sheet already uses keeps its meaning; each cell format's number
format code is read (``cell_number_formats``)."""

from __future__ import annotations

import re

from .markup import ATTRS, local_attrs, set_attr, start_tags

#: The built-in number formats (ECMA-376 part 1, 18.8.30) every locale shows the same way; a
#: cell format naming another built-in id (locale dates such as zh-CN's 27-36 and 50-58) is
#: given ``UNKNOWN_BUILTIN``, which no reader renders as a code.
BUILTIN_FORMATS = {
    0: "General", 1: "0", 2: "0.00", 3: "#,##0", 4: "#,##0.00",
    9: "0%", 10: "0.00%", 11: "0.00E+00", 12: "# ?/?", 13: "# ??/??",
    14: "mm-dd-yy", 15: "d-mmm-yy", 16: "d-mmm", 17: "mmm-yy", 18: "h:mm AM/PM",
    19: "h:mm:ss AM/PM", 20: "h:mm", 21: "h:mm:ss", 22: "m/d/yy h:mm",
    37: "#,##0 ;(#,##0)", 38: "#,##0 ;[Red](#,##0)", 39: "#,##0.00;(#,##0.00)",
    40: "#,##0.00;[Red](#,##0.00)", 45: "mm:ss", 46: "[h]:mm:ss", 47: "mmss.0", 48: "##0.0E+0",
    49: "@",
}
UNKNOWN_BUILTIN = "yyyy-mm-dd"


def cell_number_formats(text: str) -> list[str]:
    """The number format code of each cell format (``<cellXfs>``), by index: what a cell's ``s``
    attribute names. Custom codes come from ``<numFmts>`` (unescaped); built-in ids from
    ``BUILTIN_FORMATS``. Empty when the part has no ``cellXfs``."""
    xfs = re.search(r"<((?:[\w.-]+:)?)cellXfs\b%s>(.*?)</\1cellXfs>" % ATTRS, text, re.S)
    if xfs is None:
        return []
    custom: dict[int, str] = {}
    fmts = re.search(r"<((?:[\w.-]+:)?)numFmts\b%s>(.*?)</\1numFmts>" % ATTRS, text, re.S)
    for _m, attr_text, _p in start_tags(fmts.group(2) if fmts else "", "numFmt"):
        a = local_attrs(attr_text)
        try:
            custom[int(a.get("numFmtId", ""))] = a.get("formatCode", "")
        except ValueError:
            continue
    out = []
    for _m, attr_text, _p in start_tags(xfs.group(2), "xf"):
        try:
            num = int(local_attrs(attr_text).get("numFmtId", "0"))
        except ValueError:
            num = 0
        out.append(custom[num] if num in custom else BUILTIN_FORMATS.get(num, UNKNOWN_BUILTIN))
    return out


def append_wrap_format(text: str) -> tuple[str, str] | None:
    """``text`` with one cell format appended that wraps text at the top of the cell (as the
    template's long-text columns do), and that format's index; None when the part has no
    ``cellXfs`` to extend."""
    xfs = re.search(r"<((?:[\w.-]+:)?)cellXfs\b(%s)>(.*?)</\1cellXfs>" % ATTRS, text, re.S)
    if xfs is None:
        return None
    p, count = xfs.group(1), len(re.findall(r"<%sxf\b" % re.escape(xfs.group(1)), xfs.group(3)))
    xf = (f'<{p}xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1">'
          f'<{p}alignment vertical="top" wrapText="1"/></{p}xf>')
    tag = set_attr(f"<{p}cellXfs{xfs.group(2)}>", "count", str(count + 1))
    return text[:xfs.start()] + tag + xfs.group(3) + xf + f"</{p}cellXfs>" + text[xfs.end():], str(count)
