"""The rule catalogue (issue 8, section 3): every rule declared once, every rule triggered.

``test_every_rule_is_triggered`` walks the catalogue: for each rule and each of its wordings
(``variants``) a real workbook with that planted mistake is written to disk and checked through
``app.check``; the finding must carry the rule's id, its level, a sheet and column from the
rule's scope, and a message and fix that are the rule's templates filled in. A rule without a
case fails the walk.
"""

from __future__ import annotations

import ast
import datetime as dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from jifen_xl import app
from jifen_xl import schema as S
from jifen_xl.cli import cli
from jifen_xl.core.problems import level_of
from jifen_xl.rules import (CHOICE, FORMAT, KEY, LOOKUP, RANGE, REQUIRED, RULES, bounds_text, field_names,
                            shown)

from . import village_data as V
from .conftest import TODAY, build, village_from_tables
from .sealing import sealed_tables
from .test_validate import add, edit

D = dt.date
PKG = Path(__file__).resolve().parents[1] / "jifen_xl"


@dataclass
class Case:
    """A planted mistake: edits of the test village's tables, then of single cells in the file
    (``(sheet, data row or 基本信息 item, header, value)``: what only a spreadsheet can hold, such
    as a formula or a year typed as a word)."""

    tables: Callable[[dict], dict] = lambda t: t
    settings: dict = field(default_factory=dict)
    cells: list[tuple[str, object, str, object]] = field(default_factory=list)


def _set_cells(path: Path, cells) -> None:
    wb = openpyxl.load_workbook(path)
    for sheet, where, header, value in cells:
        ws = wb[sheet]
        if sheet == S.SETTINGS.name:  # where = the 项目 text
            row = next(r for r in ws.iter_rows() if r[0].value == where)
            row[1].value = value
        else:  # where = 0-based data row under the header on row 1
            col = next(c.column for c in ws[1] if c.value == header)
            ws.cell(where + 2, col).value = value
    wb.save(path)


def planted(case: Case, path: Path) -> Path:
    build(path, case.tables(V.village_tables()), {**V.SETTINGS, **case.settings})
    if case.cells:
        _set_cells(path, case.cells)
    return path


def _same_household(t):
    return add(t, "households", ("0002", "李二", "本村户籍", "1组", 2, None, None, "正常", 0, 0, None))


def _overspend(t):
    return edit(t, "exchanges", 1, qty=6, points=30)  # 6 × 5 = 30, priced right, more than 0006 has


def _sealed(*months):
    """The test village with January to March sealed, then ``months`` (edits) applied."""
    def mutate(t):
        t = sealed_tables(t, ["2026-01", "2026-02", "2026-03"])
        for m in months:
            t = m(t)
        return t
    return mutate


def _drop(key, row):
    return lambda t: {**t, key: t[key].drop(index=row).reset_index(drop=True)}


def _swap(key, a, b):
    def swap(t):
        order = list(range(len(t[key])))
        order[a], order[b] = order[b], order[a]
        return {**t, key: t[key].iloc[order].reset_index(drop=True)}
    return swap


def _ledger_only(t):
    """月度台账 written through March (closed) but nothing sealed: a legacy workbook."""
    from jifen_xl.core.ledger import compute_ledger

    return {**t, "ledger": compute_ledger(village_from_tables(t), pd.Period("2026-03", "M"))}


ENT = S.ENTRIES.name
CASES: dict[str, Case] = {
    # cells the reader and the cleaning cannot read
    "E-FMT-INT": Case(lambda t: edit(t, "households", 0, members="四口人")),
    "E-FMT-INT/settings": Case(cells=[(S.SETTINGS.name, "公示天数", None, "七天")]),
    "E-FMT-INT/settings_year": Case(cells=[(S.SETTINGS.name, "年度", None, "今年")]),
    "E-FMT-NUMBER": Case(lambda t: edit(t, "entries", 1, qty="2次")),
    "E-FMT-DATE": Case(lambda t: edit(t, "entries", 1, date="2026年13月5日")),
    "E-FMT-FORMULA": Case(cells=[(ENT, 1, "积分", "#DIV/0!")]),
    "E-FMT-NOCALC": Case(cells=[(ENT, 0, "积分", "=G2*3")]),
    # schema-declared, on every sheet
    "E-REQ": Case(lambda t: edit(t, "households", 5, head=None)),
    "E-CHOICE": Case(lambda t: edit(t, "entries", 0, source="电话")),
    "E-KEY": Case(lambda t: add(t, "goods", ("SP-01", "食用油", "5L", "桶", 30, 2, None))),
    "E-REF": Case(lambda t: edit(t, "receipts", 0, goods_id="SP-99")),
    "E-REF/near": Case(lambda t: edit(t, "members", 0, hh_id="1")),
    "E-RANGE": Case(lambda t: edit(t, "receipts", 1, qty=0)),
    # 基本信息
    "E-SET-01": Case(cells=[(S.SETTINGS.name, "年度", None, 1999)]),
    "E-SET-02": Case(settings={"publicity_days": 90}),
    "W-SET-03": Case(settings={"village": None}),
    # 住户名册
    "E-HH-01": Case(_same_household),
    "W-HH-02": Case(lambda t: edit(t, "households", 1, carried_available=80)),
    # 积分指标
    "E-IND-01": Case(lambda t: add(t, "indicators", ("JC-01", "基础积分", "公德美德", "文明礼貌", 3, None, None,
                                                      D(2026, 6, 1), None, "2026年第2次村民代表会议", None))),
    "E-IND-02": Case(lambda t: edit(t, "indicators", 37, points=10.0)),
    "E-IND-02/reward": Case(lambda t: edit(t, "indicators", 0, points=-2.0)),
    "E-IND-03": Case(lambda t: edit(t, "indicators", 44, valid_to=pd.Timestamp("2025-12-31"))),
    "W-IND-04": Case(lambda t: add(t, "indicators", ("KF-99", "扣分项目", "其他", "扣发低保补助", -10, None, None,
                                                      D(2026, 1, 1), None, "决议", None))),
    "W-IND-05": Case(lambda t: edit(t, "indicators", 3, points=0.0)),
    "E-IND-06": Case(lambda t: edit(t, "indicators", 2, cap_month=-6.0)),
    # 小组成员
    "E-GRP-01": Case(lambda t: edit(t, "members", 2, group="监督管理小组")),
    "E-GRP-02": Case(lambda t: add(t, "members", ("刘会计", None, "监督管理小组", "组员", D(2026, 1, 1), None))),
    # 积分登记
    "E-ENT-01": Case(lambda t: edit(t, "entries", 4, entry_id="2026-001")),
    "E-ENT-02": Case(lambda t: edit(t, "entries", 1, hh_id="0099", head=None)),
    "E-ENT-02/near": Case(lambda t: edit(t, "entries", 1, hh_id="2", head=None)),
    "E-ENT-03": Case(lambda t: edit(t, "entries", 1, code="JC-99", item_name=None, points=None)),
    "E-ENT-04": Case(lambda t: edit(t, "indicators", 44, valid_to=pd.Timestamp("2026-01-31"))),
    "E-ENT-05": Case(lambda t: edit(t, "entries", 1, date=pd.Timestamp("2025-12-30"))),
    "E-ENT-06": Case(lambda t: edit(t, "entries", 0, qty=1.5, points=4.5)),
    "E-ENT-07": Case(lambda t: edit(t, "entries", 0, points=7)),
    "W-ENT-08": Case(lambda t: edit(t, "entries", 0, head="张小山")),
    "W-ENT-09": Case(lambda t: edit(t, "entries", 0, item_name="志愿服务")),
    "E-ENT-10": Case(lambda t: edit(t, "entries", 0, scorers="刘会计、吴支书")),
    "E-ENT-10/term": Case(lambda t: edit(t, "members", 1, term_to=pd.Timestamp("2026-01-31"))),
    "E-ENT-11": Case(lambda t: edit(t, "entries", 0, scorers="张大山")),
    "E-ENT-12": Case(lambda t: add(t, "entries", ("2026-011", D(2026, 1, 28), "0001", "张大山", "JC-22",
                                                    "参与村级志愿者服务活动", 2, 6, "个人申报", "陈老师", None,
                                                    "已确认", None))),
    "E-ENT-13": Case(lambda t: add(t, "entries", *[(f"2026-1{m:02d}", D(2026, m, 3), "0002", "李秀英", "JC-25",
                                                     "考取大中专院校", 1, 5, "个人申报", "陈老师", None, "已确认",
                                                     None) for m in (4, 5, 6)])),
    "W-ENT-14": Case(lambda t: edit(t, "entries", 1, hh_id="0005", head="孙老汉")),
    "W-ENT-15": Case(lambda t: edit(t, "entries", 2, evidence=None)),
    "E-ENT-16": Case(lambda t: edit(t, "objections", 2, result=None, resolved_on=None)),
    # 异议处理
    "E-OBJ-01": Case(lambda t: edit(t, "objections", 2, entry_id="2026-404")),
    "E-OBJ-02": Case(lambda t: edit(t, "objections", 0, corrected_points=None)),
    "E-OBJ-03": Case(lambda t: edit(t, "objections", 2, objection_id="YY-01")),
    "W-OBJ-04": Case(lambda t: edit(t, "objections", 2, resolved_on=None)),
    "E-OBJ-06": Case(lambda t: add(t, "objections", ("YY-04", "2026-007", "周明", D(2026, 3, 6), "培训其实没去",
                                                      "刘会计", "更正", 0, None, None))),
    "E-OBJ-05": Case(lambda t: add(t, "objections", ("YY-09", "2026-003", "赵小红", D(2026, 2, 1), "不是我家",
                                                      "陈老师", "更正", 1, D(2026, 2, 3), None))),
    # 封账
    "E-SEAL-01": Case(_sealed(lambda t: edit(t, "entries", 0, date=pd.Timestamp("2026-01-06")))),
    "E-SEAL-01/points": Case(_sealed(lambda t: edit(t, "entries", 0, qty=3, points=9))),
    "E-SEAL-02": Case(_sealed(_drop("entries", 1))),
    "E-SEAL-03": Case(_sealed(lambda t: add(t, "entries", ("2026-011", D(2026, 2, 10), "0004", "赵小红", "JC-13",
                                                            "不乱倒垃圾", 1, 1, "平时发现", "张大山", None, "已确认",
                                                            None)))),
    "E-SEAL-04": Case(_sealed(lambda t: edit(t, "seals", 2, digest="0" * 64))),
    "E-SEAL-04/edited": Case(_sealed(lambda t: edit(t, "seals", 0, digest="0" * 64))),
    "E-SEAL-05": Case(_sealed(lambda t: edit(t, "sealed_entries", 0, points=60.0))),
    "E-SEAL-05/missing": Case(_sealed(_drop("sealed_entries", 0))),
    "E-SEAL-05/extra": Case(_sealed(lambda t: add(t, "sealed_entries", ("2026-01", "2026-099", D(2026, 1, 30), "0002",
                                                                         "JC-01", 1, 2, "已确认")))),
    "E-SEAL-06": Case(_sealed(_drop("seals", 0))),
    "E-SEAL-07": Case(_sealed(lambda t: edit(t, "seals", 0, code="AAAA-AAAA"))),
    "E-SEAL-08": Case(_sealed(lambda t: {**t, "seals": pd.concat([t["seals"], t["seals"].iloc[[2]]],
                                                                  ignore_index=True)})),
    "E-SEAL-08/order": Case(_sealed(_swap("seals", 0, 1))),
    "E-SEAL-08/missing": Case(_sealed(_drop("seals", 1))),
    "E-SEAL-09": Case(_sealed(lambda t: edit(t, "ledger", 0, cumulative=107.0))),
    "E-SEAL-09/missing": Case(_sealed(_drop("ledger", 0))),
    "E-SEAL-09/extra": Case(_sealed(lambda t: add(t, "ledger", ("2026-01", "0005", "孙老汉", 0, 0, 0, 0, 10, 0, 10,
                                                                 6)))),
    "E-SEAL-10": Case(_sealed(lambda t: add(t, "exchanges", ("DH-03", D(2026, 2, 10), "0002", "SP-02", 1, 5, "王文书",
                                                             None)))),
    "W-SEAL-01": Case(_ledger_only),
    # 爱心超市
    "E-EXC-01": Case(lambda t: edit(t, "exchanges", 0, hh_id="0099")),
    "E-EXC-01/near": Case(lambda t: edit(t, "exchanges", 0, hh_id="1")),
    "E-EXC-02": Case(lambda t: edit(t, "exchanges", 0, goods_id="SP-99")),
    "E-EXC-03": Case(_overspend),
    "E-EXC-04": Case(lambda t: edit(t, "exchanges", 0, date=pd.Timestamp("2027-01-05"))),
    "E-EXC-05": Case(lambda t: edit(t, "exchanges", 0, qty=1.5)),
    "E-EXC-06": Case(lambda t: edit(t, "exchanges", 0, points=-20)),
    "E-EXC-07": Case(lambda t: edit(t, "receipts", 0, date=D(2026, 2, 1))),  # the rice came after DH-01
    "E-EXC-08": Case(lambda t: edit(t, "exchanges", 0, points=25)),
    "E-EXC-09": Case(lambda t: edit(t, "exchanges", 0, hh_id="0005")),  # 0005 has 迁出
    "E-RCV-01": Case(lambda t: edit(t, "receipts", 0, donor=None)),
    "W-GDS-01": Case(lambda t: edit(t, "goods", 1, alert_level=48)),  # 洗衣粉 ends March at 48
}


def catalogue_wordings() -> list[str]:
    """Every rule and every variant of it: ``E-ENT-10`` and ``E-ENT-10/term``."""
    return [key for r in RULES.values() for key in [r.id] + [f"{r.id}/{v}" for v in r.variants]]


def _pattern(template: str) -> re.Pattern:
    """A filled-in template: its literal text, anything (maybe nothing: a blank hint) where a field stands."""
    parts = []
    for literal, name, _, _ in __import__("string").Formatter().parse(template):
        parts.append(re.escape(literal))
        if name is not None:
            parts.append(".*?")
    return re.compile("".join(parts), re.S)


def test_the_walk_has_a_case_for_every_rule_and_nothing_else():
    assert sorted(CASES) == sorted(catalogue_wordings())


@pytest.mark.parametrize("wording", catalogue_wordings())
def test_every_rule_is_triggered(wording, tmp_path):
    rule_id, _, variant = wording.partition("/")
    rule = RULES[rule_id]
    case = CASES.get(wording)
    assert case is not None, f"no planted mistake triggers {wording}"
    _, report = app.check(app.open_backend(planted(case, tmp_path / "村.xlsx")), today=TODAY)
    message, fix = rule.templates(variant or None)
    found = [p for p in report.problems if p.rule == rule_id]
    assert found, [p.flat() for p in report.problems]
    hits = [p for p in found if _pattern(message).fullmatch(p.message) and _pattern(fix).fullmatch(p.fix)]
    assert hits, (message, fix, [(p.message, p.fix) for p in found])
    scope = set(rule.scope())
    for p in hits:
        assert p.level == rule.level
        if p.sheet == S.SETTINGS.name:  # 基本信息 findings sit in its 内容 (or 项目) column
            assert p.column in (S.SETTINGS.header_of("value"), S.SETTINGS.header_of("item"))
            assert (p.sheet, rule.scope()[0][1]) in scope or rule.check == FORMAT
        elif rule.check == FORMAT and rule.format_type is None:
            assert (p.sheet, "") in scope
        else:
            assert (p.sheet, p.column) in scope, (p.sheet, p.column, scope)


# -- every rule the code emits is catalogued --------------------------------------------------
RULE_ID = re.compile(r"[EW]-[A-Z]+(?:-[A-Z0-9]+)*")


def _literals(path: Path) -> set[str]:
    return {n.value for n in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and RULE_ID.fullmatch(n.value)}


def test_every_rule_id_in_the_code_is_in_the_catalogue():
    from jifen_xl.core.clean import _TYPE_FIXES  # the types whose unreadable cells are E-FMT-<TYPE>

    found = {lit: p.relative_to(PKG) for p in PKG.rglob("*.py") for lit in _literals(p)}
    # clean_frame's ``rule_prefix`` default "E-FMT" is a family: E-FMT-INT, -NUMBER, -DATE
    assert {f"E-FMT-{t.upper()}" for t in _TYPE_FIXES} <= set(RULES)
    found.pop("E-FMT", None)
    assert {lit: str(p) for lit, p in found.items() if lit not in RULES} == {}
    assert len(found) > 40  # the scan sees the validators' and the demo's ids


def test_findings_are_made_from_the_catalogue_only():
    """validate/ never spells a rule's wording: no Problem is built there but through RULES."""
    for path in (PKG / "validate").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        calls = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
        assert not calls & {"error", "warning", "Problem", "problem"}, path.name


# -- the catalogue itself -----------------------------------------------------------------------
def test_every_rule_is_declared_completely():
    with pytest.raises(ValueError):
        level_of("X-ENT-01")  # an id that says neither 错误 nor 警告 cannot be declared
    for r in RULES.values():
        assert r.level == ("错误" if r.id.startswith("E-") else "警告")
        assert r.description and r.message and r.fix
        for text in (r.description, r.message, r.fix):
            assert any("\u4e00" <= ch <= "\u9fff" for ch in text), (r.id, text)
        for f in r.fields:
            assert f in r.sheet.fields or f in [c.field for c in r.sheet.kv_rows], (r.id, f)
        for message, fix in [(r.message, r.fix)] + list(r.variants.values()):
            for name in field_names(message) + field_names(fix):
                label = r.field_label(name)  # every field has a Chinese name in the printed catalogue
                assert any("\u4e00" <= ch <= "\u9fff" for ch in label), (r.id, name)
        assert r.scope(), r.id


def test_every_schema_declaration_has_a_rule_that_covers_it():
    """A key, lookup, range, dropdown or required column added to the schema is checked at once:
    its rule (the sheet's own or the general one) lists it in its scope."""
    for spec in S.CLERK_SHEETS:
        if spec.key == "settings":
            continue
        declared = [(KEY, spec.key_field)] if spec.key_field else []
        for col in spec.columns:
            declared += [(check, col.field) for check, on in ((REQUIRED, col.required), (CHOICE, col.choices),
                                                              (LOOKUP, col.lookup), (RANGE, col.bounds)) if on]
        for check, f in declared:
            rule = RULES.for_check(check, spec, f)
            assert (spec.name, spec.header_of(f)) in rule.scope(), (check, spec.key, f, rule.id)


def test_templates_take_sheet_and_column_names_from_the_schema():
    assert RULES["E-ENT-02"].message == "户号「{value}」不在「住户名册」中"
    assert RULES["E-OBJ-01"].message == "登记编号「{value}」不在「积分登记」中"
    assert RULES["E-IND-03"].fix == "请改正日期：失效日期应不早于生效日期"
    assert RULES["E-SET-02"].fix == "请填写 1—60 之间的整数，一般为 7"
    assert RULES["E-GRP-01"].message == "{group}在 {day} 有 {count} 人，应为 3—5 人"
    assert RULES["E-ENT-02"].record()["问题说明"] == "户号「{填写的值}」不在「住户名册」中"
    assert RULES["W-ENT-08"].record()["问题说明"] == "户主姓名「{户主姓名}」与住户名册中户号「{户号}」的户主「{住户名册中的户主}」不一致"


def test_ranges_are_worded_from_their_bounds():
    assert bounds_text(S.POSITIVE_WHOLE) == "正整数"
    assert bounds_text(S.POSITIVE) == "正数"
    assert bounds_text(S.NOT_NEGATIVE) == "不小于 0 的数"
    assert bounds_text(S.Bounds(low=1), whole=True) == "不小于 1 的整数"
    assert bounds_text(S.Bounds(1, 60), whole=True) == " 1—60 之间的整数"
    assert bounds_text(S.Bounds(high=5)) == "不大于 5 的数"
    assert [shown(x) for x in (5.0, -2.0, 1.5, None, float("nan"), pd.Timestamp("2026-03-05"), pd.NaT, "户")] == [
        "5", "-2", "1.5", "空", "空", "2026-03-05", "空", "户"]


# -- schema-driven findings, as the clerk reads them ------------------------------------------------
def _check(tmp_path, mutate) -> list[tuple]:
    _, report = app.check(app.open_backend(planted(Case(mutate), tmp_path / "村.xlsx")), today=TODAY)
    return [(p.level, p.sheet, p.row, p.column, p.rule, p.message, p.fix) for p in report.problems]


def test_a_declared_range_is_checked_on_every_sheet(tmp_path):
    got = _check(tmp_path, lambda t: edit(edit(t, "households", 2, members=0), "goods", 1, price=0))
    assert got == [
        ("错误", "住户名册", 4, "家庭人口", "E-RANGE", "「家庭人口」0 不合理，应为不小于 1 的整数", "请改为不小于 1 的整数"),
        ("错误", "商品目录", 3, "兑换积分", "E-RANGE", "「兑换积分」0 不合理，应为正数", "请改为正数"),
    ]


def test_a_repeated_key_and_a_missing_reference_on_the_supermarket_sheets(tmp_path):
    got = _check(tmp_path, lambda t: edit(add(t, "receipts", ("RK-01", D(2026, 2, 2), "其他", "本村乡贤", "SP-07", 3,
                                                              None, "王文书", None)), "exchanges", 1,
                                          exchange_id="DH-01"))
    assert got == [
        ("错误", "物资入库", 4, "入库编号", "E-KEY", "入库编号「RK-01」重复（第 2 行已有）", "每行的入库编号必须唯一；请改为未用过的编号"),
        ("错误", "物资入库", 4, "商品编码", "E-REF", "商品编码「SP-07」不在「商品目录」中", "请填写「商品目录」中已有的商品编码"),
        ("错误", "积分兑换", 3, "兑换编号", "E-KEY", "兑换编号「DH-01」重复（第 2 行已有）", "每行的兑换编号必须唯一；请改为未用过的编号"),
    ]


def test_a_member_whose_household_is_not_registered(tmp_path):
    got = _check(tmp_path, lambda t: edit(edit(t, "members", 0, hh_id="1"), "members", 1, hh_id="0077"))
    assert got == [
        ("错误", "小组成员", 2, "户号", "E-REF", "户号「1」不在「住户名册」中",
         "住户名册中的户号是「0001」：请把该列设为文本格式后按「0001」输入"),
        ("错误", "小组成员", 3, "户号", "E-REF", "户号「0077」不在「住户名册」中", "请填写「住户名册」中已有的户号"),
    ]


def test_no_near_value_is_named_when_two_keys_lost_the_same_zeros(tmp_path):
    """0001 and 001 are both registered: 「1」 could be either, so the fix names neither."""
    got = _check(tmp_path, lambda t: edit(add(t, "households", ("001", "钱多多", "本村户籍", "1组", 2, None, None,
                                                                "正常", None, None, None)),
                                          "members", 0, hh_id="1"))
    assert [g for g in got if g[1] == "小组成员"] == [
        ("错误", "小组成员", 2, "户号", "E-REF", "户号「1」不在「住户名册」中", "请填写「住户名册」中已有的户号"),
    ]


def test_the_cap_message_names_the_running_total(tmp_path):
    """The second JC-22 entry of January takes 0001 from 6 to 12 points, past the monthly cap of 9
    (the row's own 6 points would not say why)."""
    got = _check(tmp_path, CASES["E-ENT-12"].tables)
    assert [(g[2], g[5]) for g in got] == [(12, "户号「0001」的指标「JC-22」累计 12 分后超过每月上限 9 分（从本行起超出）")]


# -- jifen-xl rules ----------------------------------------------------------------------------------
def test_rules_prints_the_catalogue_in_chinese():
    result = CliRunner().invoke(cli, ["rules"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["规则编号", "级别", "工作表", "列名", "说明"]
    ids = [line.split()[0] for line in lines[2:2 + len(RULES)]]
    assert ids == list(RULES)
    assert lines[2 + list(RULES).index("E-HH-01")].split() == ["E-HH-01", "错误", "住户名册", "户号", "户号重复"]
    errors = sum(1 for r in RULES.values() if r.id.startswith("E-"))
    assert lines[-1] == (f"共 {len(RULES)} 条规则：{errors} 条错误（须改正后才能生成月度台账）、"
                         f"{len(RULES) - errors} 条警告。加 --json 可查看每条规则的问题说明和修改建议。")


def test_rules_json_has_one_object_per_rule():
    result = CliRunner().invoke(cli, ["rules", "--json"])
    assert result.exit_code == 0
    records = json.loads(result.output)
    assert [r["规则编号"] for r in records] == list(RULES)
    for r in records:
        assert {"规则编号", "级别", "工作表", "列名", "说明", "问题说明", "修改建议"} <= set(r)
    by_id = {r["规则编号"]: r for r in records}
    assert by_id["E-HH-01"] | {"适用范围": None} == {
        "规则编号": "E-HH-01", "级别": "错误", "工作表": "住户名册", "列名": "户号", "说明": "户号重复",
        "问题说明": "户号「{填写的值}」重复（第 {首次出现的行号} 行已有）",
        "修改建议": "每户只能登记一行；请删除重复行或改正户号", "适用范围": None}
    assert by_id["E-REF"]["工作表"] == "小组成员、物资入库"
    assert by_id["E-REF"]["列名"] == "小组成员.户号、物资入库.商品编码"
    assert by_id["E-ENT-10"]["其他情形"] == [{"问题说明": "评议人「{评议人}」在 {日期} 不在积分评议小组任期内",
                                           "修改建议": "评议人须是当时在任的积分评议小组成员；多人用顿号“、”分隔"}]


def test_rules_help_is_chinese():
    result = CliRunner().invoke(cli, ["rules", "--help"])
    assert result.exit_code == 0
    assert "列出全部校验规则" in result.output and "以 JSON 格式输出" in result.output
