"""Person names in a 、-joined list (评议人, 核实人), read as the clerk meant them.

Whitespace inside a person's name is not part of it (SPEC "Meanings": 「王　军」 is 王军). A clerk
who separates names by spaces instead of 、 writes 「王军 李明」. Cleaning cannot tell the two
apart without knowing who the people are, so it keeps one ASCII space inside such a part
(``clean._name_list``) and this module decides, given the known people (小组成员.姓名):

1. the part without its spaces is a known person -> one name (「王　军」 -> 王军);
2. else every space-separated piece is a known person -> several names (「王军 李明」);
3. else every piece has at least two characters (Chinese names are two to four characters, a
   gap typed inside a name leaves a one-character piece) -> several names, each reported on its
   own if unknown;
4. else one name without spaces (「王 小军」 -> 王小军).
"""

from __future__ import annotations

from collections.abc import Container

from .. import schema as S


def split_names(text: str | None, known: Container[str] = frozenset()) -> list[str]:
    """The names of a cleaned 、-joined list, in order.

    :param text: the cleaned value (``clean.to_names``); None gives no names.
    :param known: the names of the people the list may name (小组成员.姓名).
    """
    if not text:
        return []
    out: list[str] = []
    for part in str(text).split(S.NAME_JOINER):
        if not part:
            continue
        if " " not in part:
            out.append(part)
            continue
        pieces = part.split()
        joined = "".join(pieces)
        if joined in known:
            out.append(joined)
        elif all(p in known for p in pieces) or all(len(p) >= 2 for p in pieces):
            out += pieces
        else:
            out.append(joined)
    return out
