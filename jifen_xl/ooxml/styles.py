"""The styles part (``xl/styles.xml``) edited as text: cell formats are appended, never
renumbered, so every index a sheet already uses keeps its meaning."""

from __future__ import annotations

import re

from .markup import ATTRS, set_attr


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
