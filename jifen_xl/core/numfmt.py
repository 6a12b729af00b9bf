"""A number as the clerk sees it through its cell's Excel number format (SPEC "Meanings":
values are read as the clerk sees them; 户号 45 formatted ``0000`` is 「0045」).

Pure. Only what code columns (户号, 编码, 编号) meet is rendered: digit placeholders (``0 # ?``),
thousands separators, decimals, literal text (``"DH"0000``, ``\\-``, ``0000"号"``), sections
(positive;negative;zero;text), colours, and the text section's ``@``. Anything else (dates,
percentages, scientific notation, conditions, fractions, Chinese numerals ``[DBNum1]``, fills
``*``) returns None: the caller then keeps the raw value rather than guess what Excel shows.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

GENERAL = "General"
_COLOURS = {"black", "blue", "cyan", "green", "magenta", "red", "white", "yellow"}
# Characters Excel shows as themselves without quotes.
_PLAIN_LITERALS = set("$-+():!^&'~{}<>= ")  # not "/": a fraction


def shown_text(value, fmt: str | None) -> str | None:
    """The text a cell holding ``value`` shows through number format ``fmt``, or None when that
    cannot be told exactly (the raw value should be kept).

    :param value: the cell's raw value: a number (int or float) or text. Booleans and dates
        return None.
    :param fmt: the format code as stored in the file (``0000``, ``"DH"0000``, ``@``, ``General``);
        None or empty means General.
    """
    if isinstance(value, bool) or value is None:
        return None
    sections = _sections(fmt or GENERAL)
    if sections is None:
        return None
    if isinstance(value, str):
        return _text_section(value, sections)
    if not isinstance(value, (int, float)) and not hasattr(value, "__float__"):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if number != number or abs(number) >= 1e15:  # NaN; beyond Excel's 15 digits
        return None
    if len(sections) == 1 and "@" in _unquoted(sections[0]):
        sections = (GENERAL,)  # a text format shows a number as General
    count = len(sections)
    if count == 1:
        section, sign = sections[0], "-" if number < 0 else ""
    elif number > 0 or (number == 0 and count == 2):
        section, sign = sections[0], ""
    elif number < 0:
        section, sign = sections[1], ""  # an explicit negative section carries its own sign
    else:
        section, sign = sections[2], ""
    rendered = _render_number(abs(number), section)
    return None if rendered is None else sign + rendered


@lru_cache(maxsize=512)
def _sections(fmt: str) -> tuple[str, ...] | None:
    """Split a format code into its sections (on ``;`` outside quotes and escapes); None for
    codes with conditions or more than four sections."""
    out, cur, i = [], [], 0
    while i < len(fmt):
        c = fmt[i]
        if c == '"':
            j = fmt.find('"', i + 1)
            if j < 0:
                return None
            cur.append(fmt[i:j + 1])
            i = j + 1
            continue
        if c == "\\" and i + 1 < len(fmt):
            cur.append(fmt[i:i + 2])
            i += 2
            continue
        if c == ";":
            out.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    out.append("".join(cur))
    if len(out) > 4:
        return None
    return tuple(out)


def _unquoted(section: str) -> str:
    """The section without its quoted and escaped literals (to look for placeholders)."""
    return re.sub(r'"[^"]*"|\\.', "", section)


_TOKEN = re.compile(r'"(?P<quoted>[^"]*)"|\\(?P<escaped>.)|\[(?P<bracket>[^\]]*)\]|_(?P<skip>.)|(?P<char>.)',
                    re.DOTALL)


@lru_cache(maxsize=512)
def _tokens(section: str) -> tuple[tuple[str, str], ...] | None:
    """Section -> ((kind, text), ...) with kind ``lit`` (shown as is), ``ph`` (0 # ?), ``dot``,
    ``comma``, ``at``; None for anything this module does not render."""
    out: list[tuple[str, str]] = []
    for m in _TOKEN.finditer(section):
        if m["quoted"] is not None:
            out.append(("lit", m["quoted"]))
        elif m["escaped"] is not None:
            out.append(("lit", m["escaped"]))
        elif m["bracket"] is not None:
            locale = re.fullmatch(r"\$([^-]*)(?:-[0-9A-Fa-f]+)?", m["bracket"])
            if locale:
                out.append(("lit", locale[1]))  # [$-804] only names a locale; [$¥-804] shows ¥
            elif m["bracket"].lower() not in _COLOURS and not re.fullmatch(r"(?i)color\d{1,2}", m["bracket"]):
                return None  # conditions, [DBNum1] (Chinese numerals), elapsed time
        elif m["skip"] is not None:
            out.append(("lit", " "))  # "_)" leaves the width of ")" blank
        else:
            c = m["char"]
            if c in "0#?":
                out.append(("ph", c))
            elif c == ".":
                out.append(("dot", c))
            elif c == ",":
                out.append(("comma", c))
            elif c == "@":
                out.append(("at", c))
            elif c in _PLAIN_LITERALS or not c.isascii():
                out.append(("lit", c))  # "-" in 000-0000, 号 in 0000号
            else:
                return None  # date/time letters, %, E+, *, /, letters Excel would refuse unquoted
    return tuple(out)


def _general(number: float) -> str | None:
    if number.is_integer():
        return str(int(number))
    text = f"{number:.10g}"  # General shows at most 11 characters; keep short decimals only
    return text if "e" not in text and float(text) == number else None


def _render_number(number: float, section: str) -> str | None:
    if section.upper() == GENERAL.upper() or section == "":
        return _general(number) if section else ""
    if section.upper().startswith(GENERAL.upper()):  # General with literals around it is rare
        return None
    tokens = _tokens(section)
    if tokens is None or any(k == "at" for k, _ in tokens):
        return None
    kinds = [k for k, _ in tokens]
    if "ph" not in kinds:  # a section of pure text ("无") shows the text
        return "".join(t for k, t in tokens if k == "lit")
    dot = kinds.index("dot") if "dot" in kinds else len(tokens)
    int_tokens, frac_tokens = list(tokens[:dot]), list(tokens[dot + 1:])
    # A comma after the last integer placeholder scales by 1000: not rendered.
    last_ph = max((i for i, (k, _) in enumerate(int_tokens) if k == "ph"), default=-1)
    if any(k == "comma" for k, _ in int_tokens[last_ph + 1:]) or any(k == "comma" for k, _ in frac_tokens):
        return None
    grouping = any(k == "comma" for k, _ in int_tokens)
    int_tokens = [t for t in int_tokens if t[0] != "comma"]
    decimals = sum(1 for k, _ in frac_tokens if k == "ph")
    rounded = Decimal(repr(number)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    int_digits, _, frac_digits = f"{rounded:f}".partition(".")
    int_digits = int_digits.lstrip("0")
    text = _fill_integer(int_tokens, int_digits, grouping)
    if "dot" in kinds:
        text += "." + _fill_fraction(frac_tokens, frac_digits.ljust(decimals, "0"))
    return text


def _fill_integer(tokens: list[tuple[str, str]], digits: str, grouping: bool) -> str:
    """Digits into the integer placeholders from the right; the leftmost placeholder takes the
    digits left over. ``0`` pads with 0, ``?`` with a space, ``#`` with nothing."""
    places = [i for i, (k, _) in enumerate(tokens) if k == "ph"]
    pieces = [t for _, t in tokens]
    remaining = digits
    for n, i in enumerate(reversed(places)):
        leftmost = n == len(places) - 1
        if leftmost:
            take, remaining = remaining, ""
        else:
            take, remaining = remaining[-1:], remaining[:-1]
        pieces[i] = take if take else {"0": "0", "?": " ", "#": ""}[tokens[i][1]]
    if grouping:
        # Group the digit run (placeholders are contiguous when a separator is used: #,##0).
        start, end = places[0], places[-1]
        run = "".join(pieces[start:end + 1])
        body = run.lstrip(" ")
        pad = run[:len(run) - len(body)]
        head = f"{int(body):,}" if body.strip().isdigit() else body
        pieces = pieces[:start] + [pad + head] + pieces[end + 1:]
    return "".join(pieces)


def _fill_fraction(tokens: list[tuple[str, str]], digits: str) -> str:
    out, k = [], 0
    placeholders = [i for i, (kind, _) in enumerate(tokens) if kind == "ph"]
    # Trailing # drop trailing zeros; ? shows a space; 0 shows the zero.
    keep = list(digits)
    for i in reversed(placeholders):
        pos = placeholders.index(i)
        if keep[pos] == "0" and tokens[i][1] in "#?" and all(
                c == "" or c == " " for c in keep[pos + 1:]):
            keep[pos] = "" if tokens[i][1] == "#" else " "
        else:
            break
    for kind, text in tokens:
        if kind == "ph":
            out.append(keep[k])
            k += 1
        else:
            out.append(text)
    return "".join(out)


def _text_section(value: str, sections: tuple[str, ...]) -> str | None:
    """Text through its format: the fourth section, or a lone section holding ``@``; else as is."""
    section = sections[3] if len(sections) == 4 else (
        sections[0] if len(sections) == 1 and "@" in _unquoted(sections[0]) else None)
    if section is None:
        # "@" outside the text section is a format this module does not know how Excel shows
        return None if any("@" in _unquoted(s) for s in sections) else value
    tokens = _tokens(section)
    if tokens is None or any(k in ("ph", "dot", "comma") for k, _ in tokens):
        return None
    return "".join(value if k == "at" else t for k, t in tokens)
