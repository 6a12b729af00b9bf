"""Rendering for people: plain-text tables for the terminal (CJK characters count double), and
the notices made from the jinja2 templates in ``templates/`` (the one jinja2 Environment).

Templates receive plain dicts built by the core (``core.notice.notice_data``). They are found
in the checkout's ``templates/`` folder, or, for an installed package, where ``setup.cfg``'s
``data_files`` put them (``<prefix>/share/jifen_xl/templates``).
"""

from __future__ import annotations

import re
import site
import sys
import sysconfig
import unicodedata
from pathlib import Path

import jinja2

from .errors import JifenError

#: Where an installed package's templates live, below a data prefix (setup.cfg data_files).
INSTALLED_TEMPLATES = Path("share") / "jifen_xl" / "templates"


def template_dirs() -> list[Path]:
    """Candidate template folders, first match wins: the checkout's ``templates/`` beside the
    package, then the installed copy under the interpreter's data prefixes (venv, system, user)."""
    prefixes = [sysconfig.get_path("data"), sys.prefix, sys.base_prefix, getattr(site, "USER_BASE", None)]
    out = [Path(__file__).resolve().parents[1] / "templates"]
    out += [Path(p) / INSTALLED_TEMPLATES for p in prefixes if p]
    return list(dict.fromkeys(out))


def templates_dir() -> Path:
    """The folder holding the notice templates."""
    for candidate in template_dirs():
        if (candidate / NOTICE_XLSX).is_file():
            return candidate
    tried = "、".join(f"「{p}」" for p in template_dirs())
    raise JifenError(f"找不到公示模板「{NOTICE_XLSX}」（找过 {tried}）。请重新安装 jifen-xl，或从源代码目录运行。")


def number_text(value) -> str:
    """A point value for reading: 6, 0.5, -3 (no trailing .0)."""
    if value is None or value == "":
        return ""
    value = round(float(value), 6) + 0.0
    return str(int(value)) if value.is_integer() else f"{value:g}"


def signed_text(value) -> str:
    """A point value with its sign: +6, -3, 0."""
    text = number_text(value)
    return "+" + text if text and float(value) > 0 else text


#: The templates: the notice as HTML and as WeChat text; the Excel notice is filled by
#: ``io.xlsxfill`` with ``CELL_ENV``.
NOTICE_HTML = "公示.html.j2"
NOTICE_TEXT = "公示.txt.j2"
NOTICE_XLSX = "公示模板.xlsx"
#: The love supermarket's monthly posting (物资接收与兑换公示, issue 10), the same three ways.
SHOP_NOTICE_HTML = "超市公示.html.j2"
SHOP_NOTICE_TEXT = "超市公示.txt.j2"
SHOP_NOTICE_XLSX = "超市公示模板.xlsx"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(p) for p in template_dirs()]),
        undefined=jinja2.StrictUndefined,
        # "公示.html.j2" ends in .j2: name the double suffixes so HTML is always escaped
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "htm", "xml", "html.j2", "htm.j2", "xml.j2"),
                                            default_for_string=True, default=False),
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["points"] = number_text
    env.filters["signed"] = signed_text
    return env


#: The one jinja2 Environment (GUIDE §2.12).
ENV = _environment()
#: The same Environment for the text of a spreadsheet cell (no HTML escaping: a cell shows
#: 「&」 as typed).
CELL_ENV = ENV.overlay(autoescape=False)


def render_html(name: str, data: dict) -> str:
    """Render the HTML template ``name`` (autoescaped) with ``data``."""
    return ENV.get_template(name).render(data)


def render_text(name: str, data: dict) -> str:
    """Render the plain-text template ``name`` with ``data``."""
    return ENV.get_template(name).render(data)


#: Characters in one WeChat message: about three phone screens (WeChat itself allows more, but a
#: long message is read less and cut when forwarded).
MESSAGE_CHARS = 800


def split_messages(text: str, limit: int = MESSAGE_CHARS) -> list[str]:
    """``text`` cut into WeChat messages of at most ``limit`` characters, between lines only:
    a line (one household's) is never split, a paragraph (lines between blank lines) stays
    whole where it fits. With several messages each begins with its number and the title (the
    text's first line), e.g. 「（2/3）永宁寺村2026年4月乡村治理积分公示（续）」.
    """
    lines = text.strip("\n").split("\n")
    title = lines[0]
    paragraphs: list[list[str]] = [[]]
    for line in lines[1:]:
        if line.strip():
            paragraphs[-1].append(line.rstrip())
        elif paragraphs[-1]:
            paragraphs.append([])
    tag = len("（99/99）")

    def size(block: list[str]) -> int:
        return sum(len(x) + 1 for x in block)

    atoms: list[tuple[list[str], bool]] = []  # (lines, starts a paragraph)
    for para in filter(None, paragraphs):
        if size(para) + len(title) + tag + 8 <= limit:
            atoms.append((para, True))
        else:
            atoms += [([line], i == 0) for i, line in enumerate(para)]
    messages: list[list[str]] = []
    current = [title]
    for block, new_paragraph in atoms:
        add = ([""] if new_paragraph else []) + block
        if len(current) > 2 and size(current) + size(add) + tag > limit:
            messages.append(current)
            current, add = [title + "（续）", ""], block
        current += add
    messages.append(current)
    if len(messages) == 1:
        return ["\n".join(current)]
    n = len(messages)
    return ["\n".join([f"（{i}/{n}）{m[0]}"] + m[1:]) for i, m in enumerate(messages, start=1)]


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
