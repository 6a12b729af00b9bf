"""XML as spreadsheet programs write it, read with regular expressions rather than a DOM.

Excel, WPS and LibreOffice write double-quoted attributes without prefixes; other producers
(web exports, libraries, hand edits) write single quotes, namespace prefixes (``<x:sheet``),
whitespace around ``=`` and character references (``&#31215;``). Every one of those spellings
is legal XML and every reader here accepts all of them: one attribute parser, one tag scanner.
"""

from __future__ import annotations

import codecs
import re

#: The inside of a start tag, quote aware (a ``>`` inside a quoted value does not end the tag).
ATTRS = r"""(?:[^>"']|"[^"]*"|'[^']*')*?"""
#: One attribute: (qualified name, double-quoted value, single-quoted value).
ATTR_RE = re.compile(r"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
#: One piece of markup: a comment, CDATA section or processing instruction (groups empty), or a
#: start/end/empty tag: (``/`` of an end tag, qualified name, attribute text, ``/`` of an empty tag).
TAG_RE = re.compile(
    r"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>|<(/?)([A-Za-z_][\w:.-]*)(" + ATTRS + r")(/?)>", re.S)
_ENTITY_RE = re.compile(r"&(#x[0-9A-Fa-f]+|#[0-9]+|amp|lt|gt|quot|apos);")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
ILLEGAL_XML_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
XHHHH_RE = re.compile(r"_x([0-9A-Fa-f]{4})_")
#: Excel refuses cells longer than this (characters).
MAX_CELL_CHARS = 32767


class Corrupt(Exception):
    """A part is not what its place in the package says (not XML, not UTF-8, truncated ...);
    the message (Chinese, short) says which. The io layer turns it into the clerk's message."""


def unescape(s: str) -> str:
    """An attribute value or text with its character and entity references resolved."""
    if "&" not in s:
        return s

    def sub(m):
        g = m.group(1)
        if g[0] == "#":
            try:
                return chr(int(g[2:], 16) if g[1] in "xX" else int(g[1:]))
            except (ValueError, OverflowError):
                return m.group(0)
        return _NAMED[g]

    return _ENTITY_RE.sub(sub, s)


def attr_items(text: str) -> list[tuple[str, str, str]]:
    """(qualified name, value unescaped, value as written) of each attribute in a start tag's text."""
    out = []
    for m in ATTR_RE.finditer(text):
        raw = m.group(2) if m.group(2) is not None else m.group(3)
        out.append((m.group(1), unescape(raw), raw))
    return out


def attrs(text: str) -> dict[str, str]:
    """Qualified attribute name -> value (unescaped) of a start tag's text."""
    return {name: value for name, value, _raw in attr_items(text)}


def local(qname: str) -> str:
    """``x:sheet`` -> ``sheet``; ``{ns}sheet`` -> ``sheet``."""
    return qname.rpartition("}")[2].rpartition(":")[2]


def local_attrs(text: str) -> dict[str, str]:
    """Attribute local name -> value; namespace declarations (``xmlns``, ``xmlns:p``) left out."""
    return {local(name): value for name, value, _raw in attr_items(text)
            if name != "xmlns" and not name.startswith("xmlns:")}


def start_tags(text: str, name: str, pos: int = 0):
    """The start (or empty) tags of elements whose local name is ``name``, in any prefix, outside
    comments, CDATA sections and processing instructions: (match, attribute text, prefix with
    its colon or "")."""
    for m in TAG_RE.finditer(text, pos):
        qname = m.group(2)
        if qname is None or m.group(1):
            continue
        prefix, _, loc = qname.rpartition(":")
        if loc == name:
            yield m, m.group(3), prefix + ":" if prefix else ""


def root(text: str):
    """(local name, prefix with colon or "", attribute text) of the document element, or None."""
    for m in TAG_RE.finditer(text):
        if m.group(2) is not None and not m.group(1):
            prefix, _, loc = m.group(2).rpartition(":")
            return loc, prefix + ":" if prefix else "", m.group(3)
    return None


def set_attr(tag: str, name: str, value: str) -> str:
    """Replace the value of attribute ``name`` inside one start tag (first occurrence, either quotes)."""
    return re.sub(r"""(\s%s\s*=\s*)(?:"[^"]*"|'[^']*')""" % re.escape(name),
                  lambda m: m.group(1) + '"' + value + '"', tag, count=1)


def escape_attr(s: str) -> str:
    """A value for a double-quoted attribute (characters XML cannot hold dropped)."""
    s = ILLEGAL_XML_RE.sub("", s)
    return (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
            .replace("\t", "&#9;").replace("\n", "&#10;").replace("\r", "&#13;"))


def escape_text(s: str) -> str:
    """Escape cell text for ``<t>``: XML escaping, illegal characters dropped, ``_xHHHH_`` kept literal."""
    if len(s) > MAX_CELL_CHARS:
        s = s[:MAX_CELL_CHARS]
    if ILLEGAL_XML_RE.search(s):
        s = ILLEGAL_XML_RE.sub("", s)
    if "_x" in s:  # Excel decodes _xHHHH_ in strings; _x005F_ escapes the underscore (ECMA-376 22.9.2.19)
        s = XHHHH_RE.sub(r"_x005F_x\1_", s)
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if "\r" in s:  # a raw CR would be normalised to LF by every XML parser
        s = s.replace("\r", "&#13;")
    return s


def decode_xhhhh(s: str) -> str:
    """Excel's ``_xHHHH_`` escapes in a string decoded."""
    return XHHHH_RE.sub(lambda m: chr(int(m.group(1), 16)), s)


def decode(data: bytes, part: str) -> tuple[str, bytes]:
    """Text of an XML part the toolkit edits, plus its BOM (kept on output). Only UTF-8 (what
    every spreadsheet program writes); a DTD or entity declaration is refused."""
    bom = b""
    if data.startswith(codecs.BOM_UTF8):
        bom, data = codecs.BOM_UTF8, data[3:]
    elif data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        raise Corrupt(f"部件“{part}”使用了不支持的 UTF-16 编码")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Corrupt(f"部件“{part}”编码错误") from exc
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        raise Corrupt(f"部件“{part}”含有不允许的 DOCTYPE/实体声明")
    return text, bom


def text_of(data: bytes) -> str | None:
    """Text of a small XML part for reading only (UTF-8 or UTF-16 by its BOM); None if undecodable."""
    for bom, enc in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            try:
                return data.decode(enc).lstrip("\ufeff")
            except UnicodeDecodeError:
                return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


# -- the prolog: no DTD, no entities ----------------------------------------------------

#: How much of an XML part's beginning is inflated to look at its prolog.
PROLOG_CHUNK = 4096
#: A prolog longer than this (before the root element) is not something Excel, WPS or
#: LibreOffice writes; it is refused rather than searched further.
PROLOG_MAX = 65536


def prolog_text(raw: bytes) -> str:
    """The beginning of an XML part as text for scanning its prolog (UTF-8 or UTF-16)."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        enc = "utf-16"
    elif raw.startswith(b"<\x00"):
        enc = "utf-16-le"
    elif raw.startswith(b"\x00<"):
        enc = "utf-16-be"
    else:
        # latin-1 maps each byte to one character: every ASCII delimiter stays where it is.
        return raw.decode("latin-1").lstrip("\ufeff\xef\xbb\xbf")
    return raw.decode(enc, "ignore").lstrip("\ufeff")


def prolog_verdict(text: str) -> str:
    """``"ok"`` if the XML prolog in ``text`` ends at a root element without any declaration
    (``<!DOCTYPE``, ``<!ENTITY`` ...); ``"dtd"`` if it has one; ``"more"`` if ``text`` ends first.

    Walks the prolog token by token (XML declaration, processing instructions, comments,
    whitespace) so that padding cannot push a DOCTYPE out of sight.
    """
    i, n = 0, len(text)
    while True:
        while i < n and text[i] in " \t\r\n":
            i += 1
        if i >= n:
            return "more"
        if text[i] != "<":
            return "ok"  # not XML at all: the readers will say so; nothing to expand here
        if text.startswith("<?", i):
            end = text.find("?>", i + 2)
            if end < 0:
                return "more"
            i = end + 2
        elif text.startswith("<!--", i):
            end = text.find("-->", i + 4)
            if end < 0:
                return "more"
            i = end + 3
        elif text.startswith("<!", i):
            if n - i < 3:
                return "more"
            return "dtd"  # <!DOCTYPE, <!ENTITY, <![CDATA[ outside the root: never legitimate
        else:
            return "ok"
