"""The workbook part (``xl/workbook.xml``) edited as text, element order kept as CT_Workbook
(ECMA-376 Part 1, 18.2.27) requires it."""

from __future__ import annotations

import re

from . import markup
from .markup import Corrupt
from .sheetxml import top_children

#: What may follow ``<definedNames>`` in a workbook part (CT_Workbook), in order.
AFTER_DEFINED_NAMES = ("calcPr", "oleSize", "customWorkbookViews", "pivotCaches", "smartTagPr", "smartTagTypes",
                       "webPublishing", "fileRecoveryPr", "webPublishObjects", "extLst")


def request_full_calc(text: str) -> str | None:
    """``text`` asking the spreadsheet program to recalculate every formula when it opens the
    workbook (``<calcPr fullCalcOnLoad="1">``, ECMA-376 18.2.2); None when it already does.

    An existing ``calcPr`` keeps its other attributes; a new one goes where CT_Workbook puts it
    (after ``definedNames``, before ``oleSize`` ... ``extLst``)."""
    root = markup.root(text)
    if root is None or root[0] != "workbook":
        raise Corrupt("工作簿主部件格式错误")
    p = root[1]
    open_end = next(m.end() for m in markup.TAG_RE.finditer(text) if m.group(2) is not None and not m.group(1))
    children, close = top_children(text, open_end)
    calc = next(((s, e) for local, s, e in children if local == "calcPr"), None)
    if calc is not None:
        tag_end = text.index(">", calc[0]) + 1
        tag = text[calc[0]:tag_end]
        if re.search(r"""\sfullCalcOnLoad\s*=""", tag):
            new = markup.set_attr(tag, "fullCalcOnLoad", "1")
        else:
            cut = len(tag) - (2 if tag.endswith("/>") else 1)
            new = tag[:cut].rstrip() + ' fullCalcOnLoad="1"' + tag[cut:]
        return None if new == tag else text[:calc[0]] + new + text[tag_end:]
    at = next((s for local, s, _e in children if local in AFTER_DEFINED_NAMES[1:]), close)
    return text[:at] + f'<{p}calcPr fullCalcOnLoad="1"/>' + text[at:]
