"""The month seal (issue 9): digest, chain, verification code, and tampering caught by
``verify`` and ``validate`` (edits made with openpyxl and with LibreOffice headless)."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from jifen_xl import app
from jifen_xl import schema as S
from jifen_xl.cli import cli
from jifen_xl.core.ledger import compute_ledger
from jifen_xl.core.seal import (append_seal, canonical_text, check_seals, month_digest, normalize_code, seal_month,
                                verification_code)
from jifen_xl.errors import JifenError

from . import village_data as V
from .conftest import TODAY, build, village_from_tables
from .lo import needs_lo
from .lo_edit import lo_edit
from .sealing import seal_book

D = dt.date
MONTHS = ["2026-01", "2026-02", "2026-03"]
SEALED_FIX = "已封账月份的登记不能再改：请把{h}改回 {v}；如需更正，请在未结账的月份新增一条登记，并在备注注明更正的登记编号「{e}」"
POINTS_FIX = ("已封账月份的积分不能再改：请恢复原来的积分、数量、分值或异议处理结果；如需更正，请在未结账的月份新增一条登记，"
              "并在备注注明更正的登记编号「{e}」")


# -- the digest ------------------------------------------------------------------------------
def _village():
    return village_from_tables(V.village_tables())


def test_canonical_text_is_plain_sorted_and_stable():
    entries = pd.DataFrame({"month": ["2026-01"] * 2, "entry_id": ["2026-002", "2026-001"],
                            "date": pd.to_datetime(["2026-01-09", "2026-01-05"]), "hh_id": ["0002", "0001"],
                            "code": ["JC-01", "JC-22"], "qty": [1.0, 2.0], "points": [2.0000000001, 0.1 + 0.2],
                            "status": ["已确认", "已确认"]})
    ledger = pd.DataFrame({"hh_id": ["0002", "0001"], "month_total": [2.0, -0.0], "cumulative": [52.0, 106.5],
                           "available": [52.0, 66.0]})
    assert canonical_text("2026-01", entries, ledger, "ab" * 32) == (
        "jifen-xl seal v1\n2026-01\n"
        "2026-001\t2026-01-05\t0001\tJC-22\t2\t0.3\t已确认\n"
        "2026-002\t2026-01-09\t0002\tJC-01\t1\t2\t已确认\n"
        "--\n0001\t0\t106.5\t66\n0002\t2\t52\t52\n--\n" + "ab" * 32 + "\n")
    # the order rows come in does not matter; any sealed value and the previous digest do
    digest = month_digest("2026-01", entries, ledger, "ab" * 32)
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert month_digest("2026-01", entries.iloc[::-1], ledger.iloc[::-1], "ab" * 32) == digest
    assert month_digest("2026-01", entries, ledger, "") != digest
    assert month_digest("2026-01", entries.assign(points=[2.0, 0.4]), ledger, "ab" * 32) != digest


def test_seals_chain_month_to_month_and_repeat_exactly():
    village = _village()
    ledger = compute_ledger(village, pd.Period("2026-03", "M"))
    seals = details = None
    rows = []
    for month in MONTHS:
        row, new = seal_month(village, month, ledger, seals, details, D(2026, 4, 9))
        seals, details = append_seal(seals, details, row, new)
        seals, details = seals.assign(excel_row=range(2, 2 + len(seals))), details.assign(excel_row=range(2, 2 + len(details)))
        rows.append(row)
    assert [r["previous"] for r in rows] == ["", rows[0]["digest"], rows[1]["digest"]]
    assert [(r["month"], r["entries"], r["households"], r["month_total"]) for r in rows] == [
        ("2026-01", 3, 3, 5.0), ("2026-02", 4, 4, 16.0), ("2026-03", 2, 2, 20.0)]  # 2026-008 withdrawn: 0 points
    assert all(r["code"] == verification_code(r["digest"]) for r in rows)
    # the same month sealed again from the same workbook gives the same digest
    again, _ = seal_month(village, "2026-01", ledger, None, None, D(2026, 5, 1))
    assert again["digest"] == rows[0]["digest"]
    assert list(details["entry_id"]) == [f"2026-00{i}" for i in range(1, 10)]
    assert details.loc[details["entry_id"].eq("2026-007"), "points"].item() == 2.0  # 更正 3 -> 2
    assert check_seals(village, seals, details, ledger.assign(excel_row=range(2, 2 + len(ledger)))) == []
    with pytest.raises(JifenError, match=r"^2026-02 已经封账（见「封账记录」），不能再次封账。"):
        seal_month(village, "2026-02", ledger, seals, details, D(2026, 4, 9))


def test_verification_code_is_crockford_base32_of_the_first_40_bits():
    assert verification_code("0" * 64) == "0000-0000"
    assert verification_code("f" * 64) == "ZZZZ-ZZZZ"
    assert verification_code("0842108421" + "0" * 54) == "1111-1111"  # 40 bits = eight groups 00001
    assert verification_code("ffffffffe0" + "0" * 54) == "ZZZZ-ZZZ0"
    assert [normalize_code(c) for c in ("rxan etzt", "RXANETZT", "s3cd-2v9p", "O0IL-l000", "ABC", "UUUU-UUUU")] == [
        "RXAN-ETZT", "RXAN-ETZT", "S3CD-2V9P", "0011-1000", None, None]


# -- a sealed workbook -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def sealed_template(tmp_path_factory):
    path = build(tmp_path_factory.mktemp("sealed") / "永宁寺村.xlsx")
    seal_book(path, MONTHS[:2])
    seal_book(path, MONTHS[2:])  # a second close appends to the chain
    return path


@pytest.fixture
def sealed(sealed_template, tmp_path):
    dest = tmp_path / "永宁寺村.xlsx"
    shutil.copyfile(sealed_template, dest)
    return dest


def _digests(path) -> list[str]:
    seals = app.load(app.open_backend(path)).village.tables["seals"]
    return list(seals["digest"])


def _seal_findings(path) -> list[tuple]:
    _, report = app.check(app.open_backend(path), TODAY)
    return [(p.level, p.sheet, p.row, p.column, p.rule, p.message, p.fix) for p in report.problems
            if "SEAL" in p.rule]


def _verify(path, *args):
    return CliRunner().invoke(cli, ["verify", str(path), *args])


def test_an_untouched_sealed_workbook_verifies_and_validates(sealed):
    _, report = app.check(app.open_backend(sealed), TODAY)
    assert report.problems == ()
    codes = [verification_code(d) for d in _digests(sealed)]
    result = _verify(sealed)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "封账链完整：2026-01 至 2026-03 共 3 个月，封账后没有改动。"
    assert [line.split()[-1] for line in result.output.splitlines()[3:6]] == codes
    got = json.loads(_verify(sealed, "--json").output)
    assert got["完整"] is True and got["改动"] == [] and [m["校验码"] for m in got["封账月份"]] == codes


def test_a_code_names_its_village_and_month_in_any_spelling(sealed):
    code = verification_code(_digests(sealed)[1])
    typed = code.replace("-", "").lower().replace("0", "o").replace("1", "l")
    result = _verify(sealed, "--code", typed)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == f"校验码 {code} 是永宁寺村 2026-02 的封账（封账日期 2026-04-09），封账后没有改动。"
    unknown = "ZZZZ-ZZZZ" if code != "ZZZZ-ZZZZ" else "0000-0000"
    result = _verify(sealed, "--code", unknown)
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == (f"校验码「{unknown}」不属于工作簿「永宁寺村.xlsx」（永宁寺村）中任何已封账的月份。"
                                             "请核对校验码和工作簿是否对应。")
    result = _verify(sealed, "--code", "K7Q2")
    assert result.exit_code == 1
    assert result.output == ("错误：校验码「K7Q2」格式不对：应为 8 位字母和数字（公示上印的，例如 K7Q2-M9XD），"
                             "短横线可以不写，大小写都可以。请核对后重试。\n")


# -- tampering ---------------------------------------------------------------------------------
def _expected(case: str, digests: list[str]) -> list[tuple]:
    jan = digests[0]
    return {
        "points": [("错误", "积分登记", 10, "积分", "E-SEAL-01",
                    "登记「2026-009」属于已封账的 2026-03：计入的积分封账时为 20，现在是 25"
                    "（积分、数量、积分指标的分值或「异议处理」的处理结果被改动）", POINTS_FIX.format(e="2026-009"))],
        "delete": [("错误", "封账明细", 3, "登记编号", "E-SEAL-02",
                    "已封账的 2026-01 的登记「2026-002」已从「积分登记」中删除（本行是封账时的记录）",
                    "已封账月份的登记不能删除：请按本行把这条登记恢复到「积分登记」（日期 2026-01-09、户号「0002」、"
                    "指标编码「JC-01」）；如需更正，请在未结账的月份新增一条登记，并在备注注明更正的登记编号「2026-002」")],
        "date_in": [("错误", "积分登记", 11, "日期", "E-SEAL-03", "日期 2026-03-20 在已封账的 2026-03 内，但登记「2026-010」封账时没有",
                     "已封账的月份不能再补登记或改入：请把日期改为未结账月份的日期，并在备注注明实际发生的日期；"
                     "如果是日期填错了，请改回原来的日期")],
        "date_out": [("错误", "积分登记", 10, "日期", "E-SEAL-01",
                      "登记「2026-009」属于已封账的 2026-03：日期封账时为 2026-03-10，现在是 2026-04-01",
                      SEALED_FIX.format(h="日期", v="2026-03-10", e="2026-009"))],
        "ledger": [("错误", "月度台账", 10, "累计积分", "E-SEAL-09", "已封账的 2026-02 户号「0003」的累计积分是 99，封账时为 10",
                    "「月度台账」由工具生成，封账后不能手工修改：请把累计积分改回 10")],
        "digest": [("错误", "封账记录", 2, "摘要", "E-SEAL-04", f"2026-01 的摘要被改动过：下一行的上月摘要仍是封账时的 {jan}",
                    f"「封账记录」由工具生成，封账后不能手工修改：请把摘要改回 {jan}")],
        "detail": [("错误", "封账明细", 10, "积分", "E-SEAL-05", "2026-03 登记「2026-009」的积分是 2，封账时为 20（「积分登记」中仍为 20）",
                    "「封账明细」由工具生成，封账后不能手工修改：请把积分改回 20")],
    }[case]


#: Each tampering: (sheet, Excel row, header, new value) or (sheet, Excel row) to delete the row.
TAMPERING = {
    "points": (S.ENTRIES.name, 10, "积分", 25),
    "delete": (S.ENTRIES.name, 3),
    "date_in": (S.ENTRIES.name, 11, "日期", D(2026, 3, 20)),
    "date_out": (S.ENTRIES.name, 10, "日期", D(2026, 4, 1)),
    "ledger": (S.LEDGER.name, 10, "累计积分", 99),
    "digest": (S.SEALS.name, 2, "摘要", "0" * 64),
    "detail": (S.SEALED_ENTRIES.name, 10, "积分", 2),
}


def _with_openpyxl(path, edit, tmp_path):
    wb = openpyxl.load_workbook(path)
    ws = wb[edit[0]]
    if len(edit) == 2:
        ws.delete_rows(edit[1])
    else:
        col = next(c.column for c in ws[1] if c.value == edit[2])
        ws.cell(edit[1], col).value = edit[3]
    wb.save(path)
    return path


def _with_libreoffice(path, edit, tmp_path):
    op = ("delete", *edit) if len(edit) == 2 else ("set", *edit)
    return lo_edit(path, [op], tmp_path / "lo")


def _check_caught(path, case, digests):
    expected = _expected(case, digests)
    assert _seal_findings(path) == expected
    result = _verify(path)
    assert result.exit_code == 1, result.output
    for _, sheet, row, column, rule, message, fix in expected:
        assert message in result.output and rule in result.output
    got = json.loads(_verify(path, "--json").output)
    assert got["完整"] is False
    assert [(r["工作表"], r["行号"], r["列名"], r["问题说明"], r["修改建议"], r["规则编号"]) for r in got["改动"]] == [
        e[1:4] + e[5:7] + e[4:5] for e in expected]


@pytest.mark.parametrize("case", list(TAMPERING))
def test_an_edit_with_openpyxl_is_caught_and_named(sealed, tmp_path, case):
    digests = _digests(sealed)
    _check_caught(_with_openpyxl(sealed, TAMPERING[case], tmp_path), case, digests)


@needs_lo
@pytest.mark.parametrize("case", ["points", "delete", "date_in", "ledger", "digest"])
def test_an_edit_with_libreoffice_is_caught_and_named(sealed, tmp_path, case):
    digests = _digests(sealed)
    _check_caught(_with_libreoffice(sealed, TAMPERING[case], tmp_path), case, digests)


@needs_lo
def test_a_sealed_workbook_resaved_by_libreoffice_still_verifies(sealed, tmp_path):
    from .lo import lo_convert

    resaved = lo_convert(sealed, "xlsx", tmp_path / "lo")
    assert _seal_findings(resaved) == []
    result = _verify(resaved)
    assert result.exit_code == 0, result.output
    assert [verification_code(d) for d in _digests(resaved)] == [verification_code(d) for d in _digests(sealed)]


def test_the_month_of_a_code_says_it_was_changed(sealed, tmp_path):
    code = verification_code(_digests(sealed)[2])
    _with_openpyxl(sealed, TAMPERING["points"], tmp_path)
    result = _verify(sealed, "--code", code)
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == f"校验码 {code} 是永宁寺村 2026-03 的封账（封账日期 2026-04-09），但这个月封账后有改动（见下）。"
    assert result.output.splitlines()[-1] == "已封账的月份封账后有 1 处改动（2026-03）。"


def test_free_columns_of_a_sealed_entry_may_be_edited(sealed, tmp_path):
    """备注, 证明材料, 评议人 ... are not sealed: they do not change anyone's points."""
    wb = openpyxl.load_workbook(sealed)
    ws = wb[S.ENTRIES.name]
    cols = {c.value: c.column for c in ws[1]}
    ws.cell(10, cols["备注"]).value = "村民代表会议通报表扬"
    ws.cell(4, cols["证明材料"]).value = "调解记录及照片"
    wb.save(sealed)
    assert _seal_findings(sealed) == []
    assert _verify(sealed).exit_code == 0


# -- legacy workbooks and the ledger -----------------------------------------------------------
def test_a_legacy_workbook_closed_without_seals_gets_warnings_only(village_book):
    assert CliRunner().invoke(cli, ["ledger", str(village_book)]).exit_code == 0  # 月度台账 through March
    _, report = app.check(app.open_backend(village_book), TODAY)
    assert report.valid
    assert [(p.level, p.sheet, p.row, p.column, p.rule, p.message) for p in report.problems] == [
        ("警告", "积分登记", row, "状态", "W-SEAL-01",
         f"{month} 已经结账（「月度台账」中有这个月，或之后的月份已封账），有 {n} 条已确认的登记（从本行起），"
         "但这个月没有封账记录，事后改动无法查出")
        for month, n, row in (("2026-01", 3, 2), ("2026-02", 4, 5), ("2026-03", 1, 10))]
    result = _verify(village_book)
    assert (result.exit_code, result.output) == (
        0, "工作簿「永宁寺村.xlsx」还没有封账的月份（「封账记录」中没有记录），没有可核对的内容。\n")


def test_the_ledger_keeps_sealed_months_as_sealed(sealed):
    before = _digests(sealed)
    result = CliRunner().invoke(cli, ["ledger", str(sealed), "--month", "2026-02"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1] == (
        "月度台账：3 个月，5 户（写到已封账的 2026-03：已封账的月份按封账时原样保留）。2026-02 排名前 10：")
    assert _verify(sealed).exit_code == 0  # March's rows were written back as sealed
    assert _digests(sealed) == before


def test_the_ledger_refuses_to_rewrite_a_sealed_month_that_recomputes_differently(sealed):
    """上年可用积分 of 0002 lowered by 5 after the close: every sealed month's 可用积分 of 0002
    recomputes 5 lower; the ledger names them and writes nothing."""
    wb = openpyxl.load_workbook(sealed)
    ws = wb[S.HOUSEHOLDS.name]
    cols = {c.value: c.column for c in ws[1]}
    ws.cell(3, cols["上年可用积分"]).value = 45
    wb.save(sealed)
    before = sealed.read_bytes()
    result = CliRunner().invoke(cli, ["ledger", str(sealed)])
    assert result.exit_code == 1
    assert result.output == (
        "错误：已封账月份按现在的数据重算，与封账时的「月度台账」不符，工具不会改写已封账的月份："
        "2026-01 户号「0002」的可用积分：封账时为 52（「月度台账」第 3 行），重算为 47；"
        "2026-02 户号「0002」的可用积分：封账时为 55（「月度台账」第 8 行），重算为 50；"
        "2026-03 户号「0002」的可用积分：封账时为 55（「月度台账」第 13 行），重算为 50。"
        "可能是「积分兑换」的兑换、「住户名册」的上年积分或户的状态在封账后被改到了已封账的月份。"
        "请恢复原来的数据；更正请记在未结账的月份。工作簿未被改动。\n")
    assert sealed.read_bytes() == before


def test_an_exchange_back_dated_into_a_sealed_month_is_named_by_validate_and_verify(sealed):
    """An exchange typed after the close but dated in sealed February: 0002's sealed 可用积分 of
    February and March no longer follow. validate and verify name the exchange's row (E-SEAL-10,
    on the first sealed month it changes); ledger refuses through validate; nothing is written."""
    wb = openpyxl.load_workbook(sealed)
    ws = wb[S.EXCHANGES.name]
    ws.append(["DH-03", dt.datetime(2026, 2, 10), "0002", "SP-02", 1, 5, "王文书", None])
    row = ws.max_row
    wb.save(sealed)
    before = sealed.read_bytes()
    want = [("错误", "积分兑换", row, "日期", "E-SEAL-10",
             "兑换「DH-03」的日期 2026-02-10 在已封账的 2026-02 内：户号「0002」这个月的可用积分封账时为 55，按现在的兑换重算为 50",
             "已封账月份的兑换不能再补记或改动：补记的兑换请把日期改为未结账月份的日期（在备注注明实际兑换的日期）；"
             "改动过的兑换请恢复原来的内容")]
    assert _seal_findings(sealed) == want
    result = _verify(sealed)
    assert result.exit_code == 1 and result.output.splitlines()[-1] == "已封账的月份封账后有 1 处改动（2026-02）。"
    got = json.loads(_verify(sealed, "--json").output)
    assert [m["月份"] for m in got["封账月份"] if not m["完整"]] == ["2026-02"]
    assert [(c["工作表"], c["行号"], c["规则编号"]) for c in got["改动"]] == [("积分兑换", row, "E-SEAL-10")]
    result = CliRunner().invoke(cli, ["ledger", str(sealed)])
    assert result.exit_code == 1 and "E-SEAL-10" in result.output
    assert sealed.read_bytes() == before


# -- corrections the SPEC way ----------------------------------------------------------------------
def _append_entry(path, values: dict) -> int:
    """The clerk types a new entry under the last one; returns its Excel row."""
    wb = openpyxl.load_workbook(path)
    ws = wb[S.ENTRIES.name]
    cols = {c.value: c.column for c in ws[1]}
    row = max(r for r in range(2, ws.max_row + 1) if ws.cell(r, 1).value is not None) + 1
    for header, value in values.items():
        ws.cell(row, cols[header]).value = value
    wb.save(path)
    return row


@pytest.mark.parametrize("note", ["更正2026-001", "更正 2026-001：数量应为 1，多记 3 分"])
def test_a_later_entry_naming_the_sealed_entry_it_corrects_is_accepted(sealed, note):
    """SPEC: a sealed month is never edited; the correction is a new entry in an open month that
    names the entry it corrects. Its 积分 is the change (−3: 2026-001 gave 2 × 3 where 1 × 3 was
    due), not 数量 × 分值: neither an E-SEAL finding nor E-ENT-07, and the ledger counts −3."""
    row = _append_entry(sealed, {"登记编号": "2026-011", "日期": dt.datetime(2026, 4, 6), "户号": "0001",
                                 "户主姓名": "张大山", "指标编码": "JC-22", "指标名称": "参与村级志愿者服务活动",
                                 "积分": -3, "来源": "个人申报", "评议人": "刘会计", "状态": "已确认",
                                 "备注": note})
    _, report = app.check(app.open_backend(sealed), TODAY)
    assert [(p.rule, p.row) for p in report.errors] == []
    assert _verify(sealed).exit_code == 0
    eff = app.load(app.open_backend(sealed)).village
    from jifen_xl.core.village import effective_entries
    got = effective_entries(eff).set_index("entry_id")
    assert (got.loc["2026-011", "effective"], got.loc["2026-011", "excel_row"]) == (-3.0, row)


@pytest.mark.parametrize("note, hh", [(None, "0001"), ("更正 2026-002", "0001"), ("更正 2026-010", "0002")])
def test_a_typed_difference_without_naming_an_earlier_entry_of_the_household_is_still_an_error(sealed, note, hh):
    """Not a correction: no note; a note naming another household's entry; a note naming an entry
    of the same month or later (2026-010 is April's)."""
    row = _append_entry(sealed, {"登记编号": "2026-011", "日期": dt.datetime(2026, 4, 6), "户号": hh,
                                 "户主姓名": {"0001": "张大山", "0002": "李秀英"}[hh], "指标编码": "JC-22",
                                 "指标名称": "参与村级志愿者服务活动", "积分": -3, "来源": "个人申报",
                                 "评议人": "刘会计", "状态": "公示中", "备注": note})
    _, report = app.check(app.open_backend(sealed), TODAY)
    assert [(p.rule, p.row, p.column) for p in report.errors] == [("E-ENT-07", row, "积分")]
    assert report.errors[0].fix == ("请改为 3，或清空「积分」由工具计算；如经异议更正，请在「异议处理」登记；"
                                    "更正已结账月份的登记时，在「备注」写明被更正的登记编号，「积分」填要加上或减去的差额")
