"""Text as the clerk sees it (SPEC "Meanings"): invisible characters pasted from WeChat, web
pages and PDFs dropped, full-width forms made half-width. Shared by the cleaning
(``core.clean``) and the recognition of rows that are not records (``core.nonrecords``)."""

from __future__ import annotations

import re
import unicodedata

# Invisible format characters (SPEC "Meanings": they are dropped): soft hyphen, zero-width
# space/joiners, direction marks, word joiner and invisible operators, BOM, Mongolian vowel
# separator, Hangul fillers, variation selectors, annotation marks.
INVISIBLE = re.compile("[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f"
                       "\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff9-\ufffb]")


def drop_invisible(value: str) -> str:
    """``value`` without invisible format characters (zero-width spaces, BOMs, soft hyphens ...)."""
    return value if value.isascii() else INVISIBLE.sub("", value)


def normalize_text(value: str) -> str:
    """Invisible characters dropped, NFKC (full-width to half-width), trimmed."""
    return value.strip() if value.isascii() else unicodedata.normalize("NFKC", INVISIBLE.sub("", value)).strip()
