"""Rendering for people: plain-text tables for the terminal (CJK characters count double).

The monthly notice (jinja2 templates in ``templates/``) will live here too (ROADMAP 1).
"""

from __future__ import annotations

import re
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


# A run of non-space Latin characters stays whole; every other character is a break point.
_TOKEN = re.compile(r"[!-~]+|\s+|.")
# Chinese punctuation that must not begin a line (it stays with the text before it).
_NO_LINE_START = frozenset("，。、；：？！）》」』”’…%,.;:?!)]")
# ... and opening punctuation that must not end one (it moves to the next line).
_NO_LINE_END = frozenset("（《「『“‘")


def wrap_display(text: str, width: int) -> list[str]:
    """``text`` cut into lines of at most ``width`` terminal columns (CJK characters count 2).

    Breaks between Chinese characters and at spaces, never inside a Latin word, an option
    name or a number, never before closing or after opening punctuation; runs of spaces
    become one.
    """
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line, used = "", 0
        for token in _TOKEN.findall(paragraph):
            if token.isspace():
                if line and not line.endswith(" "):
                    line, used = line + " ", used + 1
                continue
            size = display_width(token)
            breakable = line.strip(" " + "".join(_NO_LINE_END))
            if breakable and used + size > width and token[0] not in _NO_LINE_START:
                carry = ""
                while line and line[-1] in _NO_LINE_END and line[:-1].strip():
                    carry, line = line[-1] + carry, line[:-1]
                lines.append(line.rstrip())
                line, used = carry, display_width(carry)
            line, used = line + token, used + size
        lines.append(line.rstrip())
    return lines


# --- H3 stand-in (issue 9): the points card and the 监督报告 are rendered here until render.py's
# shared jinja2 Environment (H2a) lands; at the merge, replace ``render_page`` by a call to it.
def render_page(template: str, data: dict) -> str:
    """``templates/<template>`` rendered with ``data`` (a plain dict built by core).

    A minimal local Environment in the shared one's style: loader on ``templates/``,
    ``StrictUndefined``, autoescaping of ``*.html.j2``.
    """
    from pathlib import Path

    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).resolve().parents[1] / "templates"),
        undefined=jinja2.StrictUndefined, autoescape=jinja2.select_autoescape(("html", "html.j2")),
        trim_blocks=True, lstrip_blocks=True)
    return env.get_template(template).render(**data)
