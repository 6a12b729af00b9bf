"""The styles part (``xl/styles.xml``) read and edited as text: fonts, fills, borders and cell
formats are appended, never renumbered, so every index a sheet already uses keeps its meaning;
each cell format's number format code is read (``cell_number_formats``)."""

from __future__ import annotations

import re

from .markup import ATTRS, escape_attr, local_attrs, set_attr, start_tags

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
    return append_format(text, alignment={"vertical": "top", "wrapText": "1"})


def append_top_format(text: str) -> tuple[str, str] | None:
    """``text`` with one cell format appended that aligns to the top of the cell (the short columns
    beside wrapped text, as in the template), and its index; None as for ``append_wrap_format``."""
    return append_format(text, alignment={"vertical": "top"})


def append_header_format(text: str, fill_rgb: str, border_rgb: str, bold: bool = True) -> tuple[str, str] | None:
    """``text`` with a header cell's own look appended (the workbook's default font made bold, a
    solid ``fill_rgb`` fill, thin ``border_rgb`` borders on every side, centred and wrapped): one
    font, one fill, one border and the cell format using them, and that format's index. None when
    the part lacks any of ``fonts``, ``fills``, ``borders`` or ``cellXfs``.

    :param fill_rgb: the fill colour, RGB hex (``"E7E6E6"``).
    :param border_rgb: the border colour, RGB hex.
    :param bold: whether the font is bold.
    """
    p = _prefix(text, "fonts")
    if p is None or _prefix(text, "fills") is None or _prefix(text, "borders") is None:
        return None
    font = _first_child(text, "fonts", "font")
    if font is None:
        font = f"<{p}font><{p}sz val=\"11\"/></{p}font>"
    font = re.sub(r"<%sb\b[^>]*?(?:/>|>.*?</%sb>)" % (re.escape(p), re.escape(p)), "", font, flags=re.S)
    if bold:
        font = re.sub(r"^(<%sfont\b[^>]*?)(/?)>" % re.escape(p),
                      lambda m: m.group(1) + f"><{p}b/>" + ("" if not m.group(2) else f"</{p}font>"), font)
    argb = "FF" + fill_rgb
    fill = (f'<{p}fill><{p}patternFill patternType="solid"><{p}fgColor rgb="{escape_attr(argb)}"/>'
            f'<{p}bgColor indexed="64"/></{p}patternFill></{p}fill>')
    side = f'style="thin"><{p}color rgb="{escape_attr("FF" + border_rgb)}"/>'
    border = (f"<{p}border>" + "".join(f"<{p}{s} {side}</{p}{s}>" for s in ("left", "right", "top", "bottom"))
              + f"<{p}diagonal/></{p}border>")
    return append_format(text, font=font, fill=fill, border=border,
                         alignment={"horizontal": "center", "vertical": "center", "wrapText": "1"})


def append_format(text: str, *, font: str | None = None, fill: str | None = None, border: str | None = None,
                  alignment: dict[str, str] | None = None) -> tuple[str, str] | None:
    """``text`` with one cell format appended, and its index: ``font``, ``fill`` and ``border``
    (elements, with the part's prefix) are appended to their lists and used by the format, the
    default ones (index 0) otherwise; ``alignment`` its attributes. None when a list to extend is
    missing."""
    ids = {}
    for name, item in (("font", font), ("fill", fill), ("border", border)):
        if item is None:
            ids[name] = "0"
            continue
        done = _append(text, name + "s", name, item)
        if done is None:
            return None
        text, ids[name] = done
    p = _prefix(text, "cellXfs")
    if p is None:
        return None
    applied = "".join(f' apply{n.title()}="1"' for n, item in (("font", font), ("fill", fill), ("border", border))
                      if item is not None)
    align = ""
    if alignment:
        applied += ' applyAlignment="1"'
        align = f"<{p}alignment" + "".join(f' {k}="{escape_attr(v)}"' for k, v in alignment.items()) + "/>"
    xf = (f'<{p}xf numFmtId="0" fontId="{ids["font"]}" fillId="{ids["fill"]}" borderId="{ids["border"]}" '
          f'xfId="0"{applied}>{align}</{p}xf>')
    return _append(text, "cellXfs", "xf", xf)


def _list_re(name: str) -> re.Pattern:
    """The start tag of the list element ``name``: (prefix, attributes, ``/`` when empty)."""
    return re.compile(r"<((?:[\w.-]+:)?)%s\b(%s)(/?)>" % (name, ATTRS), re.S)


def _prefix(text: str, name: str) -> str | None:
    """The namespace prefix (``""`` or ``"x:"``) of the list element ``name``; None when absent."""
    m = _list_re(name).search(text)
    return m.group(1) if m else None


def _first_child(text: str, name: str, child: str) -> str | None:
    m = _list_re(name).search(text)
    if m is None or m.group(3):
        return None
    p = m.group(1)
    c = re.compile(r"<%s%s\b[^>]*?(?:/>|>.*?</%s%s>)" % (re.escape(p), child, re.escape(p), child), re.S)
    found = c.search(text, m.end())
    close = text.find(f"</{p}{name}>", m.end())
    return found.group(0) if found and found.start() < close else None


def _append(text: str, name: str, child: str, item: str) -> tuple[str, str] | None:
    """``text`` with ``item`` appended to the list element ``name`` (its ``count`` updated), and the
    new item's index (the number of ``child`` elements before it)."""
    m = _list_re(name).search(text)
    if m is None:
        return None
    p = m.group(1)
    if m.group(3):  # <fonts count="0"/>: empty
        body, end = "", m.end()
    else:
        close = text.find(f"</{p}{name}>", m.end())
        if close < 0:
            return None
        body, end = text[m.end():close], close + len(f"</{p}{name}>")
    count = len(re.findall(r"<%s%s\b" % (re.escape(p), child), body))
    tag = set_attr(f"<{p}{name}{m.group(2)}>", "count", str(count + 1))
    return text[:m.start()] + tag + body + item + f"</{p}{name}>" + text[end:], str(count)
