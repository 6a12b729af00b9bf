"""Rendering for people: plain-text tables for the terminal (CJK characters count double).

The monthly notice (jinja2 templates in ``templates/``) will live here too (ROADMAP 1).
"""

from __future__ import annotations

import unicodedata


def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal: wide and full-width characters count 2."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def text_table(headers: list[str], rows: list[list], indent: str = "") -> list[str]:
    """Aligned lines: header, a rule, then one line per row (``None`` shows as blank)."""
    cells = [[("" if v is None else str(v)) for v in row] for row in rows]
    widths = [max([display_width(h)] + [display_width(r[i]) for r in cells]) for i, h in enumerate(headers)]

    def line(values):
        return (indent + "  ".join(v + " " * (w - display_width(v)) for v, w in zip(values, widths))).rstrip()

    return [line(headers), line(["-" * w for w in widths])] + [line(r) for r in cells]
