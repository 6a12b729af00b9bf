"""Bringing another package's cell formats into a workbook's styles part (``xl/styles.xml``),
as text: the formats a sheet copied from a one-sheet image uses (its fonts, fills, borders,
number formats, cell formats and differential formats) are appended to the workbook's lists,
never renumbering what is there, and an index map says what each of the image's indices
became. An item identical to one the workbook already has is not appended again, so writing
the same image twice leaves the styles part as the first write made it.

What cannot travel as it is, is made explicit:

* theme colours (``theme="1"``) name a colour of the package's theme; when the workbook's
  palette differs from the image's they are resolved to the RGB the image showed (tint applied);
* a font's ``<scheme val="minor"/>`` makes Excel show the theme's font instead of the named one:
  it is dropped, so the font named in the image is the one shown;
* named cell styles (``cellStyleXfs``: openpyxl writes only 'Normal') are not carried over:
  every copied cell format is based on the workbook's own 'Normal' (``xfId="0"``); a cell
  format holds its font, fill, border, number format and alignment itself.
"""

from __future__ import annotations

import colorsys
import re

from .markup import ATTRS, Corrupt, attrs, escape_attr, set_attr, start_tags
from .sheetxml import top_children

#: The lists of CT_Stylesheet (ECMA-376 Part 1, 18.8.39) in their required order.
STYLESHEET_ORDER = ("numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs", "cellStyles", "dxfs",
                    "tableStyles", "colors", "extLst")
#: First id of a custom number format (the ones below are built in).
FIRST_CUSTOM_NUMFMT = 164
#: A theme's colours by the index a ``theme`` attribute gives (the first two pairs swapped, as
#: Excel reads them: 0 = lt1 "background 1", 1 = dk1 "text 1").
THEME_ORDER = ("lt1", "dk1", "lt2", "dk2", "accent1", "accent2", "accent3", "accent4", "accent5", "accent6",
               "hlink", "folHlink")

_PREFIX_TAG_RE = re.compile(r"<(/?)([A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)")
_THEME_COLOR_RE = re.compile(r"<((?:[\w.-]+:)?(?:color|fgColor|bgColor))\b(%s)(/?)>" % ATTRS, re.S)
_SCHEME_RE = re.compile(r"<(?:[\w.-]+:)?scheme\b%s(?:/>|>\s*</(?:[\w.-]+:)?scheme>)" % ATTRS, re.S)


def theme_palette(theme_xml: str | None) -> tuple[str, ...] | None:
    """The RGB hex of each theme colour (``THEME_ORDER``) of a theme part, or None."""
    if not theme_xml:
        return None
    scheme = re.search(r"<(?:\w+:)?clrScheme\b.*?</(?:\w+:)?clrScheme>", theme_xml, re.S)
    if scheme is None:
        return None
    out = []
    for name in THEME_ORDER:
        m = re.search(r"<(?:\w+:)?%s\b[^>]*>(.*?)</(?:\w+:)?%s>" % (name, name), scheme.group(0), re.S)
        rgb = None
        if m:
            inner = m.group(1)
            srgb = re.search(r"""<(?:\w+:)?srgbClr\b[^>]*\bval\s*=\s*["']([0-9A-Fa-f]{6})""", inner)
            sys_ = re.search(r"""<(?:\w+:)?sysClr\b[^>]*\blastClr\s*=\s*["']([0-9A-Fa-f]{6})""", inner)
            rgb = (srgb or sys_).group(1).upper() if (srgb or sys_) else None
        out.append(rgb or "000000")
    return tuple(out)


def apply_tint(rgb: str, tint: float) -> str:
    """``rgb`` lightened (tint > 0) or darkened (tint < 0) as Excel applies a tint (in HLS)."""
    r, g, b = (int(rgb[i:i + 2], 16) / 255 for i in (0, 2, 4))
    h, light, s = colorsys.rgb_to_hls(r, g, b)
    light = light * (1 + tint) if tint < 0 else light * (1 - tint) + tint
    r, g, b = colorsys.hls_to_rgb(h, min(max(light, 0.0), 1.0), s)
    return "".join(f"{round(x * 255):02X}" for x in (r, g, b))


def _unprefixed(xml: str) -> str:
    """An element's markup with every tag's namespace prefix dropped (the image's own spelling)."""
    return _PREFIX_TAG_RE.sub(lambda m: f"<{m.group(1)}{m.group(3)}", xml)


def _prefixed(xml: str, p: str) -> str:
    """Unprefixed markup put in the target part's prefix ``p`` (``""`` or ``"x:"``)."""
    if not p:
        return xml
    return _PREFIX_TAG_RE.sub(lambda m: f"<{m.group(1)}{p}{m.group(3)}", xml)


def _list(text: str, name: str, p: str) -> tuple[re.Match, list[str], int, int] | None:
    """The list element ``name`` in the part's prefix ``p`` (a ``<x14:dxfs>`` inside ``extLst`` is
    another list): (its start tag match, its children's markup, the offset where its children
    end (its end tag, or the start tag's end when empty), the offset past it)."""
    m = re.search(r"<(%s)%s\b(%s)(/?)>" % (re.escape(p), name, ATTRS), text, re.S)
    if m is None:
        return None
    if m.group(3):
        return m, [], m.end(), m.end()
    children, close = top_children(text, m.end())
    end = text.index(">", close) + 1
    return m, [text[s:e] for _local, s, e in children], close, end


class StyleMerge:
    """The target workbook's styles part, gaining the formats of one image's styles part.

    :param target: the workbook's styles part text.
    :param image: the image's styles part text.
    :param image_palette: the image's theme colours (``theme_palette``), None when it has no theme.
    :param target_palette: the workbook's theme colours, None when it has no theme.
    """

    def __init__(self, target: str, image: str, image_palette, target_palette):
        self.text = target
        self.image = image
        self.resolve_theme = image_palette is not None and image_palette != target_palette
        self.palette = image_palette
        root = re.search(r"<((?:[\w.-]+:)?)styleSheet\b", target)
        if root is None:
            raise Corrupt("样式部件格式错误")
        self.p = root.group(1)
        image_root = re.search(r"<((?:[\w.-]+:)?)styleSheet\b", image)
        if image_root is None:
            raise Corrupt("样张的样式部件格式错误")
        self.image_p = image_root.group(1)
        #: appended children per list (unprefixed markup), in order
        self._new: dict[str, list[str]] = {}
        #: list name -> {canonical markup: index} of what the target holds (and what is appended)
        self._index: dict[str, dict[str, int]] = {}
        self._count: dict[str, int] = {}

    # -- colours and fonts ------------------------------------------------------
    def _colours(self, xml: str) -> str:
        """Theme colours made RGB when the workbook's theme differs from the image's."""
        if not self.resolve_theme:
            return xml

        def fix(m):
            a = attrs(m.group(2))
            if "theme" not in a:
                return m.group(0)
            try:
                rgb = self.palette[int(a["theme"])]
                tint = float(a.get("tint", "0") or 0)
            except (ValueError, IndexError):
                return m.group(0)
            if tint:
                rgb = apply_tint(rgb, tint)
            return f'<{m.group(1)} rgb="FF{rgb}"{m.group(3)}>' if m.group(3) else f'<{m.group(1)} rgb="FF{rgb}">'
        return _THEME_COLOR_RE.sub(fix, xml)

    # -- lists --------------------------------------------------------------------
    def _known(self, name: str) -> dict[str, int]:
        if name not in self._index:
            found = _list(self.text, name, self.p)
            children = found[1] if found else []
            self._index[name] = {}
            for i, child in enumerate(children):
                self._index[name].setdefault(_unprefixed(child), i)
            self._count[name] = len(children)
        return self._index[name]

    def _add(self, name: str, item: str) -> int:
        """The index of ``item`` (unprefixed markup) in list ``name``: an identical one already
        there, or a new one appended."""
        known = self._known(name)
        if item in known:
            return known[item]
        index = self._count[name]
        self._count[name] += 1
        known[item] = index
        self._new.setdefault(name, []).append(item)
        return index

    def _image_children(self, name: str) -> list[str]:
        found = _list(self.image, name, self.image_p)
        return [_unprefixed(c) for c in found[1]] if found else []

    # -- the merge ------------------------------------------------------------------
    def merge(self) -> tuple[str, list[str], list[str]]:
        """The new styles part text, the workbook's cell format index of each of the image's
        cell formats (by the image's index), and the same for differential formats (``dxfs``)."""
        numfmts = self._numfmts()
        fonts = [str(self._add("fonts", self._colours(_SCHEME_RE.sub("", f)))) for f in self._image_children("fonts")]
        # the first two fills are reserved (none, gray125) in every styles part: they stay themselves
        fills = [str(i) if i < 2 else str(self._add("fills", self._colours(f)))
                 for i, f in enumerate(self._image_children("fills"))]
        borders = [str(self._add("borders", self._colours(b))) for b in self._image_children("borders")]
        maps = {"numFmtId": numfmts, "fontId": fonts, "fillId": fills, "borderId": borders}
        xfs = []
        for xf in self._image_children("cellXfs"):
            tag = re.match(r"<xf\b(%s)(/?)>" % ATTRS, xf, re.S)
            if tag is None:
                raise Corrupt("样张的样式部件格式错误")
            new_tag = tag.group(0)
            a = attrs(tag.group(1))
            for attr, table in maps.items():
                old = a.get(attr, "0")
                new = table(old) if callable(table) else (table[int(old)] if old.isdigit() and int(old) < len(table)
                                                          else "0")
                if attr in a:
                    new_tag = set_attr(new_tag, attr, new)
                elif new != "0":
                    new_tag = new_tag[:3] + f' {attr}="{new}"' + new_tag[3:]
            new_tag = set_attr(new_tag, "xfId", "0") if "xfId" in a else new_tag[:3] + ' xfId="0"' + new_tag[3:]
            xfs.append(str(self._add("cellXfs", new_tag + xf[tag.end():])))
        dxfs = [str(self._add("dxfs", self._colours(d))) for d in self._image_children("dxfs")]
        return self._written(), xfs, dxfs

    def _numfmts(self):
        """id -> the workbook's id for the image's number formats: a built-in id stays; a custom
        code takes the workbook's id for the same code, or the next free custom id."""
        taken: dict[str, str] = {}
        used: set[int] = set()
        found = _list(self.text, "numFmts", self.p)
        for child in found[1] if found else []:
            for _m, attr_text, _p in start_tags(child, "numFmt"):
                a = attrs(attr_text)
                taken.setdefault(a.get("formatCode", ""), a.get("numFmtId", ""))
                if a.get("numFmtId", "").isdigit():
                    used.add(int(a["numFmtId"]))
        mapping: dict[str, str] = {}
        for child in self._image_children("numFmts"):
            for _m, attr_text, _p in start_tags(child, "numFmt"):
                a = attrs(attr_text)
                code, old = a.get("formatCode", ""), a.get("numFmtId", "")
                if code in taken:
                    mapping[old] = taken[code]
                    continue
                new = max(used | {FIRST_CUSTOM_NUMFMT - 1}) + 1
                used.add(new)
                taken[code] = mapping[old] = str(new)
                self._new.setdefault("numFmts", []).append(
                    f'<numFmt numFmtId="{new}" formatCode="{escape_attr(code)}"/>')
        return lambda old: mapping.get(old, old)

    def _written(self) -> str:
        """The target text with every appended child in its list (a missing list created where
        CT_Stylesheet puts it) and each touched list's ``count`` brought up to date."""
        text, p = self.text, self.p
        for name in STYLESHEET_ORDER:
            items = self._new.get(name)
            if not items:
                continue
            new = "".join(_prefixed(i, p) for i in items)
            found = _list(text, name, p)
            if found is None:
                at = self._insert_at(text, name)
                text = text[:at] + f'<{p}{name} count="{len(items)}">{new}</{p}{name}>' + text[at:]
                continue
            m, children, close, end = found
            total = len(children) + len(items)
            tag = f"<{m.group(1)}{name}{m.group(2)}>"
            tag = set_attr(tag, "count", str(total)) if re.search(r"\scount\s*=", tag) else \
                tag[:-1] + f' count="{total}">'
            body = text[m.end():close] if not m.group(3) else ""
            text = text[:m.start()] + tag + body + new + f"</{m.group(1)}{name}>" + text[end:]
        return text

    def _insert_at(self, text: str, name: str) -> int:
        """Where a missing list ``name`` goes: before the first list that follows it, else before
        the end of the styles part."""
        later = STYLESHEET_ORDER[STYLESHEET_ORDER.index(name) + 1:]
        best = None
        for other in later:
            m = re.search(r"<%s%s\b" % (re.escape(self.p), other), text)
            if m and (best is None or m.start() < best):
                best = m.start()
        if best is not None:
            return best
        close = text.rfind(f"</{self.p}styleSheet>")
        if close < 0:
            raise Corrupt("样式部件格式错误")
        return close


def merge_styles(target: str, image: str, *, image_theme: str | None = None,
                 target_theme: str | None = None) -> tuple[str, list[str], list[str]]:
    """``target`` (a workbook's styles part) with the formats of ``image`` (another package's
    styles part) appended: (new text, workbook cell format index by the image's, workbook
    differential format index by the image's). See the module docstring for what is made
    explicit on the way (theme colours, font schemes, named styles).

    :param image_theme: the image's theme part text (its colours resolve theme references).
    :param target_theme: the workbook's theme part text.
    """
    merge = StyleMerge(target, image, theme_palette(image_theme), theme_palette(target_theme))
    return merge.merge()
