"""Text for the terminal: widths in columns (a CJK character is two), wrapping Chinese text."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from jifen_xl.render import display_width, text_table, wrap_display


def test_display_width_counts_cjk_double():
    assert display_width("积分abc") == 7 and display_width("（）") == 4


def test_wrap_display_exact():
    text = "计算到哪个月，写成 年-月，例如 2026-03。默认：有已确认登记的最后一个月；还有“待公示”的登记时只算到之前。"
    assert wrap_display(text, 30) == [
        "计算到哪个月，写成 年-月，例如",
        "2026-03。默认：有已确认登记的",
        "最后一个月；还有“待公示”的登记",
        "时只算到之前。",
    ]


def test_wrap_display_keeps_punctuation_with_its_text():
    # 「，」 never starts a line, 「“」 never ends one.
    assert wrap_display("一二三四，五六", 8) == ["一二三四，", "五六"]
    assert wrap_display("一二三“四五”", 8) == ["一二三", "“四五”"]
    assert wrap_display("（abcdefgh）", 6) == ["（abcdefgh）"]
    assert wrap_display("用 --dry-run 只检查", 6) == ["用", "--dry-run", "只检查"]  # a long word stays whole


@given(st.text(alphabet=st.sampled_from(list("积分制工具，。“”（）ab1- ")), max_size=80), st.integers(6, 40))
def test_wrap_display_fits_and_loses_nothing(text, width):
    lines = wrap_display(text, width)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    for line in lines:  # over the width only by marks that may not start a line, or one long word
        if display_width(line) > width:
            fits = max(i for i in range(len(line) + 1) if display_width(line[:i]) <= width)
            tail = line[fits:]
            word = line.lstrip("“（").rstrip("，。”）")
            assert set(tail) <= set("，。”） ") or (" " not in word and word.isascii()), (line, width)


def test_text_table_aligns_cjk():
    lines = text_table(["户号", "户主"], [["0001", "张大山"]])
    assert lines == ["户号  户主", "----  ------", "0001  张大山"]
