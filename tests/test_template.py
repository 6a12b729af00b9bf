"""The template builder and the default catalogue, on real files (no mocks).

Each workbook is read back three ways: python-calamine (what the toolkit's reader
uses), openpyxl (structure: tables, dropdowns, names, print setup) and
LibreOffice headless (another office suite opens, saves and prints it).
"""

from __future__ import annotations

import datetime as dt
import math
import shutil
import subprocess

import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st
from openpyxl.utils import get_column_letter, range_boundaries
from python_calamine import CalamineWorkbook

from jifen_xl import schema
from jifen_xl.core.catalogue import SUBSIDY_WORDS, default_catalogue, takes_entitlement
from jifen_xl.errors import WriteRefused
from jifen_xl.io.template import (LIST_ROWS, OWNED_NOTE, build_workbook, capacity, column_letter,
                                  lookup_name)

from .lo import PDF_FIRST_PAGE, lo_convert, needs_lo

YEAR = 2025
SETTINGS = {
    "district": "沙坪坝区",
    "township": "中梁镇",
    "village": "永宁寺村",
    "year": YEAR,
    "objection_contact": "王文书",
    "phone": "023-65000000",
}
HOUSEHOLDS = pd.DataFrame({
    "hh_id": ["001", "002", "003"],
    "head": ["张三", "=SUM(A1:A3)", "李四"],
    "hukou": ["本村户籍", "非本村户籍常住", "本村户籍"],
    "members": [4, 2, None],
    "status": ["正常", "正常", "迁出"],
    "carried_total": [12.5, None, 3],
    "note": [None, "'前导引号", "+86 电话"],
})
ENTRIES = pd.DataFrame({
    "entry_id": ["2025-0001", "2025-0002"],
    "date": [dt.date(2025, 3, 1), pd.NaT],
    "hh_id": ["001", "002"],
    "code": ["JC-01", "KF-02"],
    "qty": [1, 2],
    "points": [2.0, -6.0],
    "source": ["平时发现", "群众反映"],
    "scorers": ["王五、赵六", "王五"],
    "status": ["已确认", "公示中"],
})
TABLES = {"households": HOUSEHOLDS, "entries": ENTRIES}


# --- helpers ------------------------------------------------------------------------


def _norm(v):
    """One spelling of a cell value for comparisons across readers."""
    if v is None or v == "" or v is pd.NaT or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)):
        return float(v)
    return v


def _rows(path, sheet_name):
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet_name).to_python()
    return [[_norm(v) for v in r] for r in rows]


def _frame_rows(df, spec):
    out = []
    for rec in df.to_dict("records"):
        out.append([_norm(rec.get(f)) for f in spec.fields])
    return out


def _trim(rows):
    """Drop trailing empty rows (the table's spare row)."""
    rows = list(rows)
    while rows and all(v is None for v in rows[-1]):
        rows.pop()
    return rows


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    path = tmp_path_factory.mktemp("tpl") / "永宁寺村2025.xlsx"
    assert build_workbook(path, SETTINGS, TABLES) == path
    return path


@pytest.fixture(scope="module")
def book(built):
    return openpyxl.load_workbook(built)


# --- calamine: what the reader sees ---------------------------------------------------


def test_sheets_in_schema_order(built):
    names = CalamineWorkbook.from_path(str(built)).sheet_names
    assert names == [schema.HELP_SHEET_NAME] + [s.name for s in schema.SHEETS]


@pytest.mark.parametrize("spec", schema.SHEETS, ids=lambda s: s.key)
def test_header_row(built, spec):
    assert _rows(built, spec.name)[0] == spec.headers


def test_settings_values(built):
    rows = _rows(built, schema.SETTINGS.name)[1:]
    expected = {**SETTINGS, "publicity_days": 7}
    assert rows == [[kv.header, _norm(expected.get(kv.field))] for kv in schema.SETTINGS.kv_rows]


def test_catalogue_is_default(built):
    rows = _trim(_rows(built, schema.INDICATORS.name)[1:])
    assert rows == _frame_rows(default_catalogue(YEAR), schema.INDICATORS)


def test_given_tables_written(built):
    for key, df in TABLES.items():
        spec = schema.sheet(key)
        assert _trim(_rows(built, spec.name)[1:]) == _frame_rows(df, spec)


@pytest.mark.parametrize("spec", [s for s in schema.SHEETS if not s.kv_rows and s.key not in TABLES
                                  and s.key != "indicators"], ids=lambda s: s.key)
def test_other_sheets_empty(built, spec):
    assert _trim(_rows(built, spec.name)[1:]) == []


def test_help_sheet_explains_every_sheet_and_column(built):
    rows = _rows(built, schema.HELP_SHEET_NAME)
    text = "\n".join(str(v) for r in rows for v in r if v is not None)
    for word in ("登记", "公示", "异议", "确认", "台账"):
        assert word in text
    for spec in schema.SHEETS:
        assert spec.name in text and spec.purpose in text
        for col in spec.kv_rows or spec.columns:
            assert col.header in text
            if col.hint:
                assert col.hint in text
            for choice in col.choices or ():
                assert choice in text
    owned_line = next(str(r[0]) for r in rows if r[0] and all(s.name in str(r[0]) for s in schema.SHEETS if s.owned))
    assert "工具" in owned_line


def _help_texts(built):
    return [[str(v) if v is not None else "" for v in r] for r in _rows(built, schema.HELP_SHEET_NAME)]


@pytest.mark.parametrize("key,field", [("households", "carried_total"), ("households", "carried_available"),
                                       ("ledger", "cumulative"), ("ledger", "available")])
def test_help_defines_the_points(built, key, field):
    """使用说明 defines 累计积分, 可用积分, 上年累计积分 and 上年可用积分 (SPEC "Meanings"), with the text
    declared once in the schema (the same words appear in the column's input message)."""
    col = schema.sheet(key).column(field)
    rows = _help_texts(built)
    definition = next(r for r in rows if r[0] == col.header)
    assert col.hint and col.hint in definition[1]
    words = {"carried_total": ["上年", "累计积分"], "carried_available": ["上年", "可用积分"],
             "cumulative": [schema.HOUSEHOLDS.header_of("carried_total"), schema.ENTRY_CONFIRMED, "兑换不减少"],
             "available": [schema.HOUSEHOLDS.header_of("carried_available"), schema.ENTRY_CONFIRMED,
                           schema.EXCHANGES.header_of("points")]}[field]
    for word in words:
        assert word in col.hint


def test_help_says_to_fill_members_before_entries(built):
    rows = _help_texts(built)
    at = next(i for i, r in enumerate(rows) if schema.MEMBERS.name in r[0] and r[1])
    text = rows[at][1]
    assert schema.ENTRIES.name in text and schema.ENTRIES.header_of("scorers") in text and "之前" in text
    first_mention_of_entry_work = next(i for i, r in enumerate(rows) if f"在“{schema.ENTRIES.name}”逐条登记" in r[1])
    assert at < first_mention_of_entry_work


def test_help_agrees_with_readme_on_owned_sheets(built):
    """The sheets README says the toolkit writes are the schema's owned sheets, and 使用说明 says
    what happens to hand edits of them: rewritten, a clerk's own column refused, a renamed copy left alone."""
    import re
    from pathlib import Path

    readme = " ".join((Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8").split())
    listed = re.search(r"only ever writes the sheets it owns \(([^)]*)\)", readme).group(1)
    owned = [s.name for s in schema.SHEETS if s.owned]
    assert [n.strip() for n in listed.split(",")] == owned
    assert "refused rather than overwrite" in readme
    text = "\n".join(r[0] for r in _help_texts(built))
    rewritten = next(line for line in text.split("\n") if all(f"“{n}”" in line for n in owned))
    assert "重新写入" in rewritten and "替换" in rewritten
    assert "拒绝写入" in text and "不会覆盖" in text
    assert f"“{schema.LEDGER.name}（10月公示）”" in text and "不会改写" in text


# --- openpyxl: structure --------------------------------------------------------------


@pytest.mark.parametrize("spec", schema.SHEETS, ids=lambda s: s.key)
def test_table_name_and_ref(book, spec):
    ws = book[spec.name]
    assert list(ws.tables) == [spec.table]
    table = ws.tables[spec.table]
    filled = {**TABLES, "indicators": default_catalogue(YEAR)}
    n = len(spec.kv_rows) if spec.kv_rows else len(filled.get(spec.key, ()))
    assert table.ref == f"A1:{get_column_letter(len(spec.columns))}{1 + max(n, 1)}"
    assert table.autoFilter is not None and table.autoFilter.ref == table.ref
    assert table.tableStyleInfo.name
    assert [c.name for c in table.tableColumns] == spec.headers
    assert ws.freeze_panes == "A2"


@pytest.mark.parametrize("spec", schema.SHEETS, ids=lambda s: s.key)
def test_print_setup(book, spec):
    ws = book[spec.name]
    assert int(ws.page_setup.paperSize) == int(ws.PAPERSIZE_A4)
    assert ws.page_setup.fitToWidth == 1 and ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_title_rows == "$1:$1"
    assert SETTINGS["village"] in ws.oddHeader.center.text
    assert "&P" in ws.oddFooter.center.text
    wide = sum(c.width for c in spec.columns) > 100
    assert ws.page_setup.orientation == ("landscape" if wide else "portrait")


def _validations(ws):
    """{column letter: DataValidation} for validations covering a whole column."""
    out = {}
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            min_col, min_row, max_col, max_row = range_boundaries(rng.coord)
            if min_col == max_col and min_row == 2:
                out[get_column_letter(min_col)] = (dv, max_row)
    return out


@pytest.mark.parametrize("spec", [s for s in schema.SHEETS if not s.owned and not s.kv_rows],
                         ids=lambda s: s.key)
def test_dropdowns(book, spec):
    dvs = _validations(book[spec.name])
    for col in spec.columns:
        if not (col.choices or col.lookup):
            continue
        dv, last = dvs[column_letter(spec, col.field)]
        assert dv.type == "list" and last >= LIST_ROWS
        assert dv.showErrorMessage and col.header in dv.error and dv.errorStyle == "stop"
        if col.choices:
            assert dv.formula1 == '"' + ",".join(col.choices) + '"'
        else:
            assert dv.formula1 == lookup_name(col.lookup)
            assert "INDIRECT" not in dv.formula1.upper() and "[" not in dv.formula1


@pytest.mark.parametrize("spec", [s for s in schema.SHEETS if not s.owned and not s.kv_rows],
                         ids=lambda s: s.key)
def test_validations_reach_a_large_village_by_range(book, spec):
    """Every dropdown and type check covers at least 20,000 rows (320 households fill 5,760 entries a
    year), each as one range: no per-cell validations."""
    assert LIST_ROWS >= 20000
    validations = book[spec.name].data_validations.dataValidation
    assert validations
    for dv in validations:
        ranges = list(dv.sqref.ranges)
        assert len(ranges) == 1, dv.sqref
        min_col, min_row, max_col, max_row = range_boundaries(ranges[0].coord)
        assert (min_col, min_row) == (max_col, 2) and max_row >= 20000


def test_new_template_stays_small_and_quick(tmp_path):
    """The reach of dropdowns and formats costs neither size nor time (column styles, ranges)."""
    import time

    start = time.perf_counter()
    path = build_workbook(tmp_path / "new.xlsx", SETTINGS)
    seconds = time.perf_counter() - start
    assert path.stat().st_size < 80_000
    assert seconds < 10  # about 0.3 s; generous for a loaded test machine


def test_lookup_names_resolve(book):
    lookups = {c.lookup for s in schema.SHEETS for c in s.columns if c.lookup}
    assert lookups
    for key, field in lookups:
        target = schema.sheet(key)
        dest = list(book.defined_names[lookup_name((key, field))].destinations)
        letter = column_letter(target, field)
        assert dest == [(target.name, f"${letter}$2:${letter}${LIST_ROWS}")]
        assert book[target.name][f"{letter}1"].value == target.header_of(field)


def test_owned_sheets_marked(book):
    plain = book[schema.HOUSEHOLDS.name].sheet_properties.tabColor
    for spec in schema.SHEETS:
        ws = book[spec.name]
        if spec.owned:
            assert ws.sheet_properties.tabColor is not None and ws.sheet_properties.tabColor != plain
            assert all(c.comment is not None and c.comment.text == OWNED_NOTE for c in ws[1])
            assert not ws.data_validations.dataValidation
        else:
            assert all(c.comment is None for c in ws[1])


def test_cells_typed_and_formatted(book):
    ws = book[schema.ENTRIES.name]
    date_cell = ws[f"{column_letter(schema.ENTRIES, 'date')}2"]
    assert date_cell.is_date and date_cell.number_format == "yyyy-mm-dd"
    assert ws[f"{column_letter(schema.ENTRIES, 'date')}3"].value is None  # NaT -> blank
    code_cell = ws[f"{column_letter(schema.ENTRIES, 'hh_id')}2"]
    assert code_cell.value == "001" and code_cell.number_format == "@"
    hh = book[schema.HOUSEHOLDS.name]
    formula_like = hh[f"{column_letter(schema.HOUSEHOLDS, 'head')}3"]
    assert formula_like.value == "=SUM(A1:A3)" and formula_like.data_type == "s"
    for spec in schema.SHEETS:
        for col in spec.columns:
            dim = book[spec.name].column_dimensions[column_letter(spec, col.field)]
            assert dim.width == col.width
            if col.number_format:
                assert dim.number_format == col.number_format


def test_formula_like_text_is_not_a_formula(built):
    # calamine returns cached values: a formula cell written by openpyxl has none.
    heads = [r[1] for r in _rows(built, schema.HOUSEHOLDS.name)[1:4]]
    assert heads == ["张三", "=SUM(A1:A3)", "李四"]


def test_values_converted_by_column_type(tmp_path):
    hh = pd.DataFrame({"hh_id": [101, 102.0], "head": ["甲", "乙"], "members": [3.0, float("nan")],
                       "phone": [13800000000, None], "note": ["", None]})
    ent = pd.DataFrame({"entry_id": ["E1"], "date": [pd.Timestamp("2025-04-30")], "hh_id": [101],
                        "qty": [pd.NA], "extra_column": ["ignored"]})
    path = build_workbook(tmp_path / "c.xlsx", {"year": "2025", "publicity_days": 5.0},
                          {"households": hh, "entries": ent})
    wb = openpyxl.load_workbook(path)
    ws = wb[schema.HOUSEHOLDS.name]
    row = {f: ws[f"{column_letter(schema.HOUSEHOLDS, f)}2"].value for f in schema.HOUSEHOLDS.fields}
    assert (row["hh_id"], row["members"], row["phone"], row["note"]) == ("101", 3, "13800000000", None)
    assert ws[f"{column_letter(schema.HOUSEHOLDS, 'hh_id')}3"].value == "102"
    ent_ws = wb[schema.ENTRIES.name]
    assert [c.value for c in ent_ws[2]][:3] == ["E1", dt.datetime(2025, 4, 30), "101"]
    assert ent_ws.max_column == len(schema.ENTRIES.columns)
    settings_rows = _rows(path, schema.SETTINGS.name)
    assert [r[1] for r in settings_rows[1:]][3:5] == [2025.0, 5.0]


def test_validations_grow_with_data(tmp_path):
    n = LIST_ROWS + 10
    hh = pd.DataFrame({"hh_id": [f"{i:05d}" for i in range(n)], "head": "某", "hukou": "本村户籍",
                       "status": "正常"})
    path = build_workbook(tmp_path / "big.xlsx", {"year": YEAR}, {"households": hh})
    wb = openpyxl.load_workbook(path)
    letter = column_letter(schema.HOUSEHOLDS, "hh_id")
    dest = list(wb.defined_names[lookup_name(("households", "hh_id"))].destinations)
    assert dest == [(schema.HOUSEHOLDS.name, f"${letter}$2:${letter}${capacity(n)}")]
    assert capacity(n) > n + 1
    dv, last = _validations(wb[schema.HOUSEHOLDS.name])[column_letter(schema.HOUSEHOLDS, "status")]
    assert last == capacity(n)


# --- refusals ---------------------------------------------------------------------------


def test_date_examples_are_in_the_workbooks_year(tmp_path):
    """A clerk who copies an example date must not type a date outside the workbook's year."""
    import re

    path = build_workbook(tmp_path / "2027.xlsx", dict(SETTINGS, year=2027))
    wb = openpyxl.load_workbook(path)
    texts = [str(c.value) for row in wb[schema.HELP_SHEET_NAME].iter_rows() for c in row if c.value]
    for ws in wb.worksheets:
        for dv in ws.data_validations.dataValidation:
            texts += [dv.prompt or "", dv.error or ""]
    examples = {m for t in texts for m in re.findall(r"\b(20\d\d)-\d\d", t)}
    assert examples == {"2027"}


def test_existing_file_refused(tmp_path):
    path = tmp_path / "a.xlsx"
    path.write_bytes(b"clerk's data")
    with pytest.raises(WriteRefused, match="已存在"):
        build_workbook(path, {"year": YEAR})
    assert path.read_bytes() == b"clerk's data"
    build_workbook(path, {"year": YEAR}, overwrite=True)
    assert CalamineWorkbook.from_path(str(path)).sheet_names[0] == schema.HELP_SHEET_NAME
    assert [p.name for p in tmp_path.iterdir()] == ["a.xlsx"]  # no temporary file left


def test_only_xlsx(tmp_path):
    with pytest.raises(WriteRefused, match=r"\.xlsx"):
        build_workbook(tmp_path / "a.xlsm", {"year": YEAR})


@pytest.mark.parametrize("bad", [{"village": "x"}, {"year": YEAR, "town": "x"}])
def test_bad_settings(tmp_path, bad):
    with pytest.raises(ValueError):
        build_workbook(tmp_path / "a.xlsx", bad)


def test_control_character_refused(tmp_path):
    hh = pd.DataFrame({"hh_id": ["001", "002"], "head": ["张三", "李\x07四"]})
    with pytest.raises(WriteRefused, match=f"“{schema.HOUSEHOLDS.name}”第 3 行“户主姓名”"):
        build_workbook(tmp_path / "a.xlsx", {"year": YEAR}, {"households": hh})
    assert not list(tmp_path.iterdir())


def test_bad_table_key(tmp_path):
    with pytest.raises(ValueError):
        build_workbook(tmp_path / "a.xlsx", {"year": YEAR}, {"settings": pd.DataFrame()})


# Any text but the control characters Excel cannot store; "\r" is left out as XML reads it back as "\n".
_TEXT = st.text(st.characters(exclude_categories=("Cc", "Cs"), include_characters="\t\n"), max_size=30)


@hsettings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(heads=st.lists(_TEXT, min_size=1, max_size=4))
def test_any_text_round_trips(tmp_path, heads):
    hh = pd.DataFrame({"hh_id": [str(i) for i in range(len(heads))], "head": heads})
    path = build_workbook(tmp_path / "h.xlsx", {"year": YEAR}, {"households": hh}, overwrite=True)
    got = [r[1] for r in _rows(path, schema.HOUSEHOLDS.name)[1:1 + len(heads)]]
    assert got == [h if h.strip() else None for h in heads]  # only spaces is a blank cell


# --- LibreOffice ----------------------------------------------------------------------


@needs_lo
def test_libreoffice_round_trip(built, tmp_path):
    out = lo_convert(built, "xlsx", tmp_path / "lo")
    assert CalamineWorkbook.from_path(str(out)).sheet_names == CalamineWorkbook.from_path(str(built)).sheet_names
    for spec in schema.SHEETS:
        assert _trim(_rows(out, spec.name)) == _trim(_rows(built, spec.name)), spec.name
    wb = openpyxl.load_workbook(out)
    for spec in schema.SHEETS:
        assert list(wb[spec.name].tables) == [spec.table]
    assert set(wb.defined_names) >= {lookup_name(c.lookup) for s in schema.SHEETS for c in s.columns if c.lookup}


@needs_lo
def test_libreoffice_prints_help(built, tmp_path):
    pdf = lo_convert(built, PDF_FIRST_PAGE, tmp_path / "pdf")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 2000
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                              check=True).stdout
        assert schema.HELP_SHEET_NAME in text and SETTINGS["village"] in text
        assert schema.ENTRIES.name in text


# --- default catalogue ----------------------------------------------------------------

APPENDIX_BASIC = {
    "公德美德": ["文明礼貌", "助人为乐", "扶贫济困", "尊老爱幼", "男女平等", "家庭和睦", "勤俭持家", "邻里团结"],
    "遵纪守法": ["学法知法守法用法", "遵守单位和行业纪律", "遵守村规民约"],
    "人居环境": ["不乱倒垃圾", "不焚烧秸秆", "不散养鸡鸭等家禽", "清理“蓝棚顶”", "清理无人居住废旧房",
             "清理房前屋后杂物堆", "清理田间地头废弃物", "清理管线“蜘蛛网”", "开展农村爱国卫生运动"],
    "公益事业": ["参与村级志愿者服务活动", "为村发展和治理建言献策"],
    "学习培训": ["参加技能培训", "考取大中专院校"],
    "基层党建": ["按时参加“三会一课”", "按规定足额交纳党费", "按时参加村党支部活动", "发挥党员先锋模范作用"],
}
APPENDIX_CONTRIB = ["表彰奖励", "先进事迹", "立功表现", "服兵役"]
APPENDIX_DEDUCT = ["道德失范", "邻里纠纷", "恶意上访", "子女辍学", "参与赌博", "乱搭乱建",
                   "阻碍村集体经济发展", "阻碍农村产业发展", "阻碍社会事业工作开展", "不爱护环境卫生"]


def test_default_catalogue_covers_appendix():
    cat = default_catalogue(YEAR)
    assert list(cat.columns) == schema.INDICATORS.fields
    basic = cat[cat.kind == schema.KIND_BASIC]
    assert set(basic.category) == set(APPENDIX_BASIC)
    for category, items in APPENDIX_BASIC.items():
        names = set(basic[basic.category == category].name)
        assert set(items) <= names, category
    assert set(cat[cat.kind == schema.KIND_CONTRIB].category) == set(APPENDIX_CONTRIB)
    assert set(APPENDIX_DEDUCT) <= set(cat[cat.kind == schema.KIND_DEDUCT].name)
    assert set(cat.kind) == set(schema.INDICATOR_KINDS)


def test_default_catalogue_values():
    cat = default_catalogue(YEAR)
    assert cat.code.is_unique
    prefix = {schema.KIND_BASIC: "JC-", schema.KIND_CONTRIB: "GX-", schema.KIND_DEDUCT: "KF-"}
    assert all(code.startswith(prefix[kind]) for code, kind in zip(cat.code, cat.kind))
    deduct = cat.kind == schema.KIND_DEDUCT
    assert (cat.points[deduct] < 0).all() and (cat.points[~deduct] > 0).all()
    assert cat.points[cat.kind == schema.KIND_BASIC].between(1, 5).all()
    assert cat.points[cat.kind == schema.KIND_CONTRIB].between(10, 50).all()
    assert cat.points[deduct].between(-20, -2).all()
    for cap in ("cap_month", "cap_year"):
        caps = cat[cap].dropna()
        assert (caps > 0).all()
    # a cap never forbids a single occurrence
    assert (cat.cap_month.isna() | (cat.cap_month >= cat.points.abs())).all()
    assert (cat.cap_year.isna() | (cat.cap_year >= cat.cap_month.fillna(0))).all()
    assert set(cat.valid_from) == {dt.date(YEAR, 1, 1)}
    assert cat.valid_to.isna().all()
    assert set(cat.resolution) == {schema.RESOLUTION_PLACEHOLDER}
    assert default_catalogue(2031).valid_from.iloc[0] == dt.date(2031, 1, 1)


def test_no_default_deduction_takes_subsidies():
    cat = default_catalogue(YEAR)
    for rec in cat[cat.kind == schema.KIND_DEDUCT].to_dict("records"):
        assert takes_entitlement(rec["name"]) is None
        assert takes_entitlement(rec["note"]) is None
    for text in ("扣发低保金", "取消年底分红", "停发种粮补贴", "扣减集体经济收益"):
        assert takes_entitlement(text) in SUBSIDY_WORDS
    assert takes_entitlement(float("nan")) is None


def test_every_rule_id_fits_one_line_of_its_findings_column():
    """A 规则编号 is what a clerk quotes to the township: in 校验结果 it stays on one line
    (E-FMT-NUMBER is not split into "E-FMT-" and "NUMBER", on screen or on paper)."""
    from jifen_xl.io.look import text_lines
    from jifen_xl.rules import RULES

    ids = [r["规则编号"] for r in RULES.records()]
    width = schema.FINDINGS.column("rule").width
    assert len(ids) > 40 and max(text_lines(ids, width)) == 1
