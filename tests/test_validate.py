"""Validation rules: each planted mistake gives exactly its finding (sheet, row, column, rule).

Rows: the test village is written with the header on row 1, so data row i (0-based) is Excel row i + 2.
"""

from __future__ import annotations

import datetime as dt

import openpyxl
import pandas as pd
import pytest

from jifen_xl import app
from jifen_xl.validate import validate

from . import village_data as V
from .conftest import TODAY, village_from_tables

D = dt.date


def findings(tables, settings=None):
    report = validate(village_from_tables(tables, settings), today=TODAY)
    return {(p.level, p.sheet, p.row, p.column, p.rule) for p in report.problems}


def edit(tables, key, row, **values):
    df = tables[key].copy()
    for k, v in values.items():
        df[k] = df[k].astype(object)
        df.at[row, k] = v
    out = dict(tables)
    out[key] = df
    return out


def add(tables, key, *rows):
    out = dict(tables)
    out[key] = pd.concat([tables[key], V.frame(key, list(rows))], ignore_index=True)
    return out


def test_the_test_village_is_clean(tables):
    assert findings(tables) == set()


CASES = {
    # households
    "duplicate 户号": (lambda t: add(t, "households", ("0002", "李二", "本村户籍", "1组", 2, None, None, "正常", 0, 0, None)),
                     {("错误", "住户名册", 8, "户号", "E-HH-01")}),
    "missing 户主姓名": (lambda t: edit(t, "households", 5, head=None),
                     {("错误", "住户名册", 7, "户主姓名", "E-REQ")}),
    "户籍类型 outside list": (lambda t: edit(t, "households", 1, hukou="外地"),
                          {("错误", "住户名册", 3, "户籍类型", "E-CHOICE")}),
    "household 状态 outside list": (lambda t: edit(t, "households", 1, status="死亡"),
                        {("错误", "住户名册", 3, "状态", "E-CHOICE")}),
    # catalogue
    "overlapping periods": (lambda t: add(t, "indicators", ("JC-01", "基础积分", "公德美德", "文明礼貌", 3, None, None,
                                                             D(2026, 6, 1), None, "2026年第2次村民代表会议", None)),
                            {("错误", "积分指标", 47, "指标编码", "E-IND-01")}),
    "deduction with positive value": (lambda t: edit(t, "indicators", 37, points=10.0),
                                      {("错误", "积分指标", 39, "分值", "E-IND-02")}),
    # a changed value cascades: the entry typed with the old value no longer matches
    "value changed under an entry": (lambda t: edit(t, "indicators", 36, points=3.0),
                                     {("错误", "积分指标", 38, "分值", "E-IND-02"), ("错误", "积分登记", 4, "积分", "E-ENT-07")}),
    "reward with negative value": (lambda t: edit(t, "indicators", 0, points=-2.0),
                                   {("错误", "积分指标", 2, "分值", "E-IND-02")}),
    "starts after it ends": (lambda t: edit(t, "indicators", 44, valid_to=pd.Timestamp("2025-12-31")),
                             {("错误", "积分指标", 46, "失效日期", "E-IND-03"),
                              ("错误", "积分登记", 9, "指标编码", "E-ENT-04")}),
    "deduction that takes subsidies": (lambda t: add(t, "indicators", ("KF-99", "扣分项目", "其他", "扣发低保补助", -10, None,
                                                                        None, D(2026, 1, 1), None, "决议", None)),
                                       {("警告", "积分指标", 47, "指标名称", "W-IND-04")}),
    # groups
    "review group too small": (lambda t: edit(t, "members", 2, group="监督管理小组", name="陈老师"),
                               {("错误", "小组成员", 2, "小组", "E-GRP-01"), ("错误", "小组成员", 2, "小组", "E-GRP-01"),
                                ("错误", "积分登记", 5, "评议人", "E-ENT-10"), ("错误", "积分登记", 2, "评议人", "E-ENT-10"),
                                ("错误", "积分登记", 8, "评议人", "E-ENT-10"), ("错误", "积分登记", 11, "评议人", "E-ENT-10")}),
    "person in both groups": (lambda t: add(t, "members", ("刘会计", None, "监督管理小组", "组员", D(2026, 1, 1), None)),
                              {("错误", "小组成员", 8, "小组", "E-GRP-02")}),
    # entries
    "duplicate 登记编号": (lambda t: edit(t, "entries", 4, entry_id="2026-001"),
                       {("错误", "积分登记", 6, "登记编号", "E-ENT-01")}),
    "unknown 户号": (lambda t: edit(t, "entries", 1, hh_id="0099", head=None),
                   {("错误", "积分登记", 3, "户号", "E-ENT-02")}),
    "unknown 指标编码": (lambda t: edit(t, "entries", 1, code="JC-99", item_name=None, points=None),
                     {("错误", "积分登记", 3, "指标编码", "E-ENT-03")}),
    "date outside 年度": (lambda t: edit(t, "entries", 1, date=pd.Timestamp("2025-12-30")),
                        {("错误", "积分登记", 3, "日期", "E-ENT-05"), ("错误", "积分登记", 3, "指标编码", "E-ENT-04"),
                         ("错误", "积分登记", 3, "评议人", "E-ENT-10")}),
    "数量 not a positive whole number": (lambda t: edit(t, "entries", 0, qty=1.5, points=4.5),
                                       {("错误", "积分登记", 2, "数量", "E-ENT-06")}),
    "积分 != 数量 x 分值": (lambda t: edit(t, "entries", 0, points=7),
                        {("错误", "积分登记", 2, "积分", "E-ENT-07")}),
    "户主姓名 disagrees": (lambda t: edit(t, "entries", 0, head="张小山"),
                        {("警告", "积分登记", 2, "户主姓名", "W-ENT-08")}),
    "指标名称 disagrees": (lambda t: edit(t, "entries", 0, item_name="志愿服务"),
                        {("警告", "积分登记", 2, "指标名称", "W-ENT-09")}),
    "来源 outside list": (lambda t: edit(t, "entries", 0, source="电话"),
                        {("错误", "积分登记", 2, "来源", "E-CHOICE")}),
    "entry 状态 outside list": (lambda t: edit(t, "entries", 0, status="通过"),
                        {("错误", "积分登记", 2, "状态", "E-CHOICE")}),
    "评议人 missing": (lambda t: edit(t, "entries", 0, scorers=None),
                    {("错误", "积分登记", 2, "评议人", "E-REQ")}),
    "评议人 not in the review group": (lambda t: edit(t, "entries", 0, scorers="刘会计、吴支书"),
                                   {("错误", "积分登记", 2, "评议人", "E-ENT-10")}),
    "评议人 out of term": (lambda t: edit(t, "members", 1, term_to=pd.Timestamp("2026-01-31")),
                        {("错误", "积分登记", 6, "评议人", "E-ENT-10"), ("错误", "积分登记", 9, "评议人", "E-ENT-10"),
                         ("错误", "小组成员", 2, "小组", "E-GRP-01")}),
    "scoring one's own household": (lambda t: edit(t, "entries", 0, scorers="张大山"),
                                    {("错误", "积分登记", 2, "评议人", "E-ENT-11")}),
    "monthly cap crossed": (lambda t: add(t, "entries", ("2026-011", D(2026, 1, 28), "0001", "张大山", "JC-22",
                                                          "参与村级志愿者服务活动", 2, 6, "个人申报", "陈老师", None,
                                                          "已确认", None)),
                            {("错误", "积分登记", 12, "积分", "E-ENT-12")}),
    "yearly cap crossed": (lambda t: add(t, "entries", *[(f"2026-1{m:02d}", D(2026, m, 3), "0002", "李秀英", "JC-25",
                                                            "考取大中专院校", 1, 5, "个人申报", "陈老师", None, "已确认", None)
                                                           for m in (4, 5, 6)]),
                           {("错误", "积分登记", 14, "积分", "E-ENT-13")}),
    "entry for a household that left": (lambda t: edit(t, "entries", 1, hh_id="0005", head="孙老汉"),
                                        {("警告", "积分登记", 3, "户号", "W-ENT-14")}),
    "deduction without 证明材料": (lambda t: edit(t, "entries", 2, evidence=None),
                              {("警告", "积分登记", 4, "证明材料", "W-ENT-15")}),
    # objections
    "objection to an unknown entry": (lambda t: edit(t, "objections", 2, entry_id="2026-404"),
                                      {("错误", "异议处理", 4, "登记编号", "E-OBJ-01")}),
    "处理结果 outside list": (lambda t: edit(t, "objections", 2, result="同意"),
                          {("错误", "异议处理", 4, "处理结果", "E-CHOICE")}),
    "更正 without 更正后积分": (lambda t: edit(t, "objections", 0, corrected_points=None),
                           {("错误", "异议处理", 2, "更正后积分", "E-OBJ-02")}),
    "confirmed entry with an open objection": (lambda t: edit(t, "objections", 2, result=None, resolved_on=None),
                                               {("错误", "积分登记", 5, "状态", "E-ENT-16")}),
    # exchanges
    "spending points one does not have": (lambda t: edit(t, "exchanges", 1, qty=6, points=30),
                                          {("错误", "积分兑换", 3, "消耗积分", "E-EXC-03")}),
    # supermarket and objections
    "duplicate 异议编号": (lambda t: edit(t, "objections", 2, objection_id="YY-01"),
                       {("错误", "异议处理", 4, "异议编号", "E-OBJ-03")}),
    "exchange with negative points": (lambda t: edit(t, "exchanges", 0, points=-20),
                                      {("错误", "积分兑换", 2, "消耗积分", "E-EXC-06")}),
    "exchange quantity not whole": (lambda t: edit(t, "exchanges", 0, qty=1.5),
                                    {("错误", "积分兑换", 2, "数量", "E-EXC-05")}),
    "decision without 处理日期": (lambda t: edit(t, "objections", 2, resolved_on=None),
                                 {("警告", "异议处理", 4, "处理日期", "W-OBJ-04")}),
    "exchange by an unknown household": (lambda t: edit(t, "exchanges", 0, hh_id="0099"),
                                         {("错误", "积分兑换", 2, "户号", "E-EXC-01"),
                                          ("错误", "积分兑换", 2, "消耗积分", "E-EXC-03")}),  # it has no points
    "exchange of unknown goods": (lambda t: edit(t, "exchanges", 0, goods_id="SP-99"),
                                  {("错误", "积分兑换", 2, "商品编码", "E-EXC-02")}),
    "exchange dated outside 年度": (lambda t: edit(t, "exchanges", 0, date=pd.Timestamp("2027-01-05")),
                                  {("错误", "积分兑换", 2, "日期", "E-EXC-04")}),
    # what the schema declares, on the sheets that had no rule of their own
    "duplicate 商品编码": (lambda t: add(t, "goods", ("SP-01", "食用油", "5L", "桶", 30, 2, None)),
                       {("错误", "商品目录", 4, "商品编码", "E-KEY")}),
    "receipt of unknown goods": (lambda t: edit(t, "receipts", 0, goods_id="SP-99"),
                                 {("错误", "物资入库", 2, "商品编码", "E-REF")}),
    "member of an unknown household": (lambda t: edit(t, "members", 0, hh_id="0099"),
                                       {("错误", "小组成员", 2, "户号", "E-REF")}),
    "家庭人口 zero": (lambda t: edit(t, "households", 0, members=0),
                    {("错误", "住户名册", 2, "家庭人口", "E-RANGE")}),
    "receipt quantity zero": (lambda t: edit(t, "receipts", 0, qty=0),
                              {("错误", "物资入库", 2, "数量", "E-RANGE")}),
    "negative cap": (lambda t: edit(t, "indicators", 2, cap_month=-6.0),
                     {("错误", "积分指标", 4, "每月上限", "E-IND-06")}),
    "上年可用积分 above 上年累计积分": (lambda t: edit(t, "households", 1, carried_available=80),
                                   {("警告", "住户名册", 3, "上年可用积分", "W-HH-02")}),
    "deduction corrected to a reward": (lambda t: add(t, "objections", ("YY-09", "2026-003", "赵小红", D(2026, 2, 1),
                                                                         "不是我家", "陈老师", "更正", 1, D(2026, 2, 3), None)),
                                        {("错误", "异议处理", 5, "更正后积分", "E-OBJ-05")}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_planted_mistake_gives_exactly_its_finding(tables, case):
    mutate, expected = CASES[case]
    assert findings(mutate(tables)) == expected


def test_every_finding_is_in_chinese_with_a_fix(tables):
    t = edit(tables, "entries", 0, points=7, source="电话")
    report = validate(village_from_tables(t), today=TODAY)
    for p in report.problems:
        assert p.message and p.fix and any("\u4e00" <= ch <= "\u9fff" for ch in p.message + p.fix)
    by_rule = {p.rule: p for p in report.problems}
    assert by_rule["E-ENT-07"].message == "积分 7 与 数量×分值 = 2×3 = 6 不符"
    assert by_rule["E-CHOICE"].fix == "请从下拉列表中选择：平时发现、群众反映、他人报告、个人申报"


def test_unknown_hh_id_hints_at_lost_leading_zeros(tables):
    t = edit(tables, "entries", 1, hh_id="2", head=None)
    report = validate(village_from_tables(t), today=TODAY)
    (p,) = report.problems
    assert p.fix == "住户名册中的户号是「0002」：请把该列设为文本格式后按「0002」输入"


def test_year_missing_is_reported_on_its_row(village_book):
    import openpyxl

    wb = openpyxl.load_workbook(village_book)
    ws = wb["基本信息"]
    row = next(r for r in ws.iter_rows() if r[0].value == "年度")
    row[1].value = "今年"
    days = next(r for r in ws.iter_rows() if r[0].value == "公示天数")
    days[1].value = "7天"  # a unit after the number is fine
    wb.save(village_book)
    loaded, report = app.check(app.open_backend(village_book), today=TODAY)
    assert loaded.village.settings["publicity_days"] == 7
    assert {(p.row, p.rule) for p in report.problems} == {(row[1].row, "E-FMT-INT"), (row[1].row, "E-SET-01")}
    assert ("错误", "基本信息", "E-SET-01") in {(p.level, p.sheet, p.rule) for p in report.problems}
    (p,) = [p for p in report.problems if p.rule == "E-SET-01"]
    assert (p.row, p.column) == (row[1].row, "内容")



def test_an_unreadable_date_is_one_finding_not_three(village_book):
    wb = openpyxl.load_workbook(village_book)
    ws = wb["积分登记"]
    col = [c.column for c in ws[1] if c.value == "日期"][0]
    ws.cell(2, col).value = "2026年13月5日"
    wb.save(village_book)
    _, report = app.check(app.open_backend(village_book), today=TODAY)
    assert [(p.row, p.column, p.rule, p.message) for p in report.problems] == [
        (2, "日期", "E-FMT-DATE", "「2026年13月5日」不是有效日期")]


def test_an_unfinished_catalogue_row_never_wins_over_a_complete_one():
    """A clerk starts a new row for JC-22 (生效日期 filled in, 积分类型 and 分值 not yet): the
    complete row still in force keeps counting, and a date only the unfinished row covers is
    "not in force", not "unknown code"."""
    from jifen_xl.core.village import item_on_date

    cat = pd.DataFrame({
        "code": ["JC-22", "JC-22", "JC-23", "JC-23"],
        "kind": ["基础积分", None, None, "基础积分"],
        "points": [3.0, None, None, 2.0],
        "name": ["门前三包", "门前三包", "垃圾分类", "垃圾分类"],
        "cap_month": [None] * 4, "cap_year": [None] * 4,
        "valid_from": pd.to_datetime(["2026-01-01", "2026-02-01", "2026-01-01", "2026-07-01"]),
        "valid_to": pd.to_datetime([None, None, "2026-06-30", None]),
    })
    entries = pd.DataFrame({"code": ["JC-22", "JC-23"], "date": pd.to_datetime(["2026-03-05", "2026-03-05"])})
    got = item_on_date(cat, entries)
    assert got["in_force"].tolist() == [True, False]  # JC-23 on that date: only the unfinished row
    assert got["value"].tolist()[0] == 3.0
    assert got["found_code"].tolist() == [True, True]


def test_a_code_with_only_an_unfinished_row_is_not_in_force_rather_than_unknown(tables):
    """The clerk has started 积分指标's row for a new code (名称, 生效日期) but not its 积分类型 and
    分值: an entry with that code is 「not in force」 (E-ENT-04), not 「not in 积分指标」."""
    t = add(tables, "indicators", ("JC-90", None, "公益事业", "义务植树", None, None, None, D(2026, 1, 1), None,
                                   "待表决", None))
    t = edit(t, "entries", 1, code="JC-90", item_name="义务植树", points=None)
    assert findings(t) == {("错误", "积分指标", 47, "积分类型", "E-REQ"), ("错误", "积分指标", 47, "分值", "E-REQ"),
                           ("错误", "积分登记", 3, "指标编码", "E-ENT-04")}
