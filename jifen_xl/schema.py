"""The one declaration of the village workbook (SPEC "The exchange contract").

Sheet names, Excel-table names, headers, field names, types, required flags and
dropdown lists live here and nowhere else. The template builder, the reader,
the writer and the validator all read this module; no other module names a
sheet or a header literally.

Field names (English, snake_case) are what the pure core sees; headers
(Chinese) are what the clerk sees.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

# --- value types -------------------------------------------------------------
TEXT = "text"  # free text, kept as typed
CODE = "code"  # identifier (户号, 编码, 编号): 101 and "101" and "１０１" are the same
INT = "int"  # whole number
NUMBER = "number"  # decimal number
DATE = "date"  # calendar date (serial, date cell or typed text)
MONTH = "month"  # "YYYY-MM" (written by the toolkit)
NAMES = "names"  # several person names joined by 、 (every NAMES column holds person names)

# --- dropdown lists (SPEC) ----------------------------------------------------
HUKOU_TYPES = ("本村户籍", "非本村户籍常住")
HH_ACTIVE = "正常"
HOUSEHOLD_STATUS = (HH_ACTIVE, "迁出", "注销")
KIND_BASIC, KIND_CONTRIB, KIND_DEDUCT = "基础积分", "贡献积分", "扣分项目"
INDICATOR_KINDS = (KIND_BASIC, KIND_CONTRIB, KIND_DEDUCT)
GROUP_REVIEW, GROUP_SUPERVISE = "积分评议小组", "监督管理小组"
GROUPS = (GROUP_REVIEW, GROUP_SUPERVISE)
GROUP_SIZE = (3, 5)  # members of each group (the notice: 3–5 people)
SOURCES = ("平时发现", "群众反映", "他人报告", "个人申报")
ENTRY_PENDING, ENTRY_PUBLIC, ENTRY_CONFIRMED, ENTRY_WITHDRAWN = "待公示", "公示中", "已确认", "已撤销"
ENTRY_STATUS = (ENTRY_PENDING, ENTRY_PUBLIC, ENTRY_CONFIRMED, ENTRY_WITHDRAWN)
OBJ_KEEP, OBJ_CORRECT, OBJ_WITHDRAW = "维持", "更正", "撤销"
OBJECTION_RESULTS = (OBJ_KEEP, OBJ_CORRECT, OBJ_WITHDRAW)  # blank = 待处理
FUNDING_SOURCES = ("财政补贴", "社会组织捐赠", "帮扶单位支持", "企业爱心捐助", "村集体经济收入", "其他")
LEVEL_ERROR, LEVEL_WARNING = "错误", "警告"
LEVELS = (LEVEL_ERROR, LEVEL_WARNING)
NAME_JOINER = "、"
DEFAULT_PUBLICITY_DAYS = 7  # 基本信息.公示天数 left blank

# Resolution placeholder written into the default catalogue (积分指标.决议依据).
RESOLUTION_PLACEHOLDER = "待村民代表会议表决（请填写会议日期和决议文号）"


@dataclass(frozen=True)
class Bounds:
    """The numbers a column allows: ``low`` ≤ x (``low`` < x when ``low_open``) ≤ ``high``; with
    ``whole``, whole numbers only (an ``INT`` column is whole already). Validation reports a value
    outside them (``rules.py`` words the range for the clerk)."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    whole: bool = False


POSITIVE = Bounds(low=0, low_open=True)
POSITIVE_WHOLE = Bounds(low=0, low_open=True, whole=True)
NOT_NEGATIVE = Bounds(low=0)

@dataclass(frozen=True)
class ColumnSpec:
    """One column of a sheet.

    :param header: the Chinese header as displayed.
    :param field: the English field name used by the core.
    :param type: one of the value types above.
    :param required: a blank cell is an error.
    :param choices: allowed values (becomes a dropdown).
    :param lookup: ``(sheet_key, field)`` whose values feed a dropdown.
    :param width: column width in characters for the template.
    :param number_format: Excel number format for the template.
    :param hint: short help shown in the dropdown's input message and in 使用说明.
    :param patched: in a clerk's sheet, a column whose cells the toolkit may set row by row
        (积分登记.状态 when a month is published or closed, a blank 积分 filled when it is
        published, 积分 := 更正后积分 when it is closed); every other cell of a clerk's
        sheet is only read.
    :param bounds: the numbers allowed (``INT``/``NUMBER`` columns), checked by validation.
    :param person: the column holds a person's name (or, for ``NAMES``, several): whitespace
        inside a name is not part of it (「王　军」 is 王军, SPEC "Meanings").
    """

    header: str
    field: str
    type: str = TEXT
    required: bool = False
    choices: tuple[str, ...] | None = None
    lookup: tuple[str, str] | None = None
    width: float = 12
    number_format: str | None = None
    hint: str = ""
    patched: bool = False
    bounds: Bounds | None = None
    person: bool = False

    @property
    def wraps(self) -> bool:
        """Free text (决议依据, 捐赠方, 异议内容, 问题说明, names ...) wraps in its cell instead of being
        cut off on screen and in print; a dropdown's choices, codes, numbers and dates do not."""
        return self.type in (TEXT, NAMES) and not self.choices


@dataclass(frozen=True)
class SheetSpec:
    """One sheet of the workbook.

    :param key: English identifier used in code.
    :param name: the Chinese sheet name (contract).
    :param table: the Excel table (ListObject) name in the toolkit's template.
    :param columns: ordered columns (template order; files may reorder them).
    :param owned: the toolkit writes this sheet (``*`` in SPEC); clerks do not type in it.
    :param key_field: the field that identifies a row, if any; validation reports a repeated key.
    :param key_periods: ``(from_field, to_field)`` when the key may repeat for periods that do not
        overlap (积分指标: a value changed by resolution is a new row of the same code).
    :param purpose: one line for 使用说明.
    """

    key: str
    name: str
    table: str
    columns: tuple[ColumnSpec, ...]
    owned: bool = False
    key_field: str | None = None
    key_periods: tuple[str, str] | None = None
    purpose: str = ""
    kv_rows: tuple[ColumnSpec, ...] = field(default=())

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns]

    @property
    def fields(self) -> list[str]:
        return [c.field for c in self.columns]

    def column(self, field_name: str) -> ColumnSpec:
        for c in self.columns:
            if c.field == field_name:
                return c
        raise KeyError(field_name)

    def header_of(self, field_name: str) -> str:
        return self.column(field_name).header

    def column_by_header(self, header: str) -> ColumnSpec:
        for c in self.columns:
            if c.header == header:
                return c
        raise KeyError(header)


C = ColumnSpec

SETTINGS = SheetSpec(
    key="settings",
    name="基本信息",
    table="tblSettings",
    purpose="本村基本信息：区县、镇街、村名、年度、公示天数、异议受理人和联系电话。",
    columns=(C("项目", "item", TEXT, True, width=16), C("内容", "value", TEXT, width=36)),
    # The rows of this key/value sheet, declared like columns: header = 项目 text.
    kv_rows=(
        C("区县", "district", TEXT, True),
        C("镇街", "township", TEXT, True),
        C("村", "village", TEXT, True),
        C("年度", "year", INT, True, bounds=Bounds(2000, 2100)),
        C("公示天数", "publicity_days", INT, hint="默认 7 天", bounds=Bounds(1, 60)),
        C("异议受理人", "objection_contact", TEXT),
        C("联系电话", "phone", TEXT),
    ),
)

HOUSEHOLDS = SheetSpec(
    key="households",
    name="住户名册",
    table="tblHouseholds",
    key_field="hh_id",
    purpose="每户一行。非本村户籍常住村民同样登记，享受同等积分激励。",
    columns=(
        C("户号", "hh_id", CODE, True, width=10, number_format="@", hint="每户唯一编号"),
        C("户主姓名", "head", TEXT, True, width=10, person=True),
        C("户籍类型", "hukou", TEXT, True, choices=HUKOU_TYPES, width=16),
        C("村民小组", "group", TEXT, width=10),
        C("家庭人口", "members", INT, width=9, number_format="0", bounds=Bounds(low=1)),
        C("联系电话", "phone", TEXT, width=14, number_format="@"),
        C("身份证号", "id_number", TEXT, width=20, number_format="@"),
        C("状态", "status", TEXT, True, choices=HOUSEHOLD_STATUS, width=8),
        C("上年累计积分", "carried_total", NUMBER, width=13, number_format="0.##",
          hint="截至上年底的累计积分，即上年工作簿“月度台账”12月的累计积分；第一年留空（按 0 计）"),
        C("上年可用积分", "carried_available", NUMBER, width=13, number_format="0.##",
          hint="截至上年底还能兑换的积分，即上年工作簿“月度台账”12月的可用积分；第一年留空（按 0 计）"),
        C("备注", "note", TEXT, width=20),
    ),
)

INDICATORS = SheetSpec(
    key="indicators",
    name="积分指标",
    table="tblIndicators",
    key_field="code",
    key_periods=("valid_from", "valid_to"),
    purpose="积分指标由村民代表会议民主决定；改分值时新增一行并设生效/失效日期，旧登记按当日分值计算。",
    columns=(
        C("指标编码", "code", CODE, True, width=10, number_format="@"),
        C("积分类型", "kind", TEXT, True, choices=INDICATOR_KINDS, width=10),
        C("指标类别", "category", TEXT, True, width=10),
        C("指标名称", "name", TEXT, True, width=28),
        C("分值", "points", NUMBER, True, width=7, number_format="0.##", hint="扣分项目填负数"),
        C("每月上限", "cap_month", NUMBER, width=9, number_format="0.##", hint="每户每月最多计分（绝对值）",
          bounds=POSITIVE),
        C("每年上限", "cap_year", NUMBER, width=9, number_format="0.##", hint="每户每年最多计分（绝对值）",
          bounds=POSITIVE),
        C("生效日期", "valid_from", DATE, True, width=11, number_format="yyyy-mm-dd"),
        C("失效日期", "valid_to", DATE, width=11, number_format="yyyy-mm-dd"),
        C("决议依据", "resolution", TEXT, True, width=34),
        C("备注", "note", TEXT, width=20),
    ),
)

MEMBERS = SheetSpec(
    key="members",
    name="小组成员",
    table="tblMembers",
    purpose="积分评议小组、监督管理小组各 3—5 人；同一人不能同时在两个小组。",
    columns=(
        C("姓名", "name", TEXT, True, width=10, person=True),
        C("户号", "hh_id", CODE, lookup=("households", "hh_id"), width=10, number_format="@"),
        C("小组", "group", TEXT, True, choices=GROUPS, width=14),
        C("职务", "role", TEXT, width=10),
        C("任期开始", "term_from", DATE, width=11, number_format="yyyy-mm-dd"),
        C("任期结束", "term_to", DATE, width=11, number_format="yyyy-mm-dd"),
    ),
)

ENTRIES = SheetSpec(
    key="entries",
    name="积分登记",
    table="tblEntries",
    key_field="entry_id",
    purpose="每条加分或扣分一行；积分 = 数量 × 登记日期当天的分值（数量留空按 1 计）。",
    columns=(
        C("登记编号", "entry_id", CODE, True, width=12, number_format="@"),
        C("日期", "date", DATE, True, width=11, number_format="yyyy-mm-dd"),
        C("户号", "hh_id", CODE, True, lookup=("households", "hh_id"), width=8, number_format="@"),
        C("户主姓名", "head", TEXT, width=10, person=True),
        C("指标编码", "code", CODE, True, lookup=("indicators", "code"), width=10, number_format="@"),
        C("指标名称", "item_name", TEXT, width=24),
        C("数量", "qty", NUMBER, width=6, number_format="0", hint="留空按 1 计", bounds=POSITIVE_WHOLE),
        C("积分", "points", NUMBER, width=7, number_format="0.##", patched=True,
          hint="留空时，发布公示时由工具按 数量 × 分值 填入；已填写的不会被改动"),
        C("来源", "source", TEXT, True, choices=SOURCES, width=10),
        C("评议人", "scorers", NAMES, True, width=16, hint="多人用顿号“、”分隔", person=True),
        C("证明材料", "evidence", TEXT, width=16),
        C("状态", "status", TEXT, True, choices=ENTRY_STATUS, width=8, patched=True),
        C("备注", "note", TEXT, width=20),
    ),
)

OBJECTIONS = SheetSpec(
    key="objections",
    name="异议处理",
    table="tblObjections",
    key_field="objection_id",
    purpose="公示期内的异议逐条登记；处理结果留空表示待处理。",
    columns=(
        C("异议编号", "objection_id", CODE, True, width=10, number_format="@"),
        C("登记编号", "entry_id", CODE, True, lookup=("entries", "entry_id"), width=12, number_format="@"),
        C("提出人", "raised_by", TEXT, True, width=10, person=True),
        C("提出日期", "raised_on", DATE, True, width=11, number_format="yyyy-mm-dd"),
        C("异议内容", "content", TEXT, width=30),
        C("核实人", "checked_by", NAMES, width=12, person=True),
        C("处理结果", "result", TEXT, choices=OBJECTION_RESULTS, width=9, hint="留空 = 待处理"),
        C("更正后积分", "corrected_points", NUMBER, width=11, number_format="0.##"),
        C("处理日期", "resolved_on", DATE, width=11, number_format="yyyy-mm-dd"),
        C("备注", "note", TEXT, width=20),
    ),
)

LEDGER = SheetSpec(
    key="ledger",
    name="月度台账",
    table="tblLedger",
    owned=True,
    purpose="由工具生成：每户每月的积分汇总、累计积分、可用积分和村内排名。请勿手工修改。",
    columns=(
        C("月份", "month", MONTH, width=9),
        C("户号", "hh_id", CODE, width=8),
        C("户主姓名", "head", TEXT, width=10),
        C("基础积分", "basic", NUMBER, width=9, number_format="0.##"),
        C("贡献积分", "contrib", NUMBER, width=9, number_format="0.##"),
        C("扣分", "deduct", NUMBER, width=8, number_format="0.##"),
        C("当月积分", "month_total", NUMBER, width=9, number_format="0.##"),
        C("累计积分", "cumulative", NUMBER, width=9, number_format="0.##",
          hint="上年累计积分 + 本年截至当月已确认的积分；终生累计，兑换不减少，用于评星评优"),
        C("累计兑换", "spent", NUMBER, width=9, number_format="0.##", hint="本年截至当月“积分兑换”的消耗积分合计"),
        C("可用积分", "available", NUMBER, width=9, number_format="0.##",
          hint="上年可用积分 + 本年截至当月已确认的积分 − 本年截至当月“积分兑换”的消耗积分；在爱心超市可用于兑换"),
        C("村内排名", "rank", INT, width=9, number_format="0"),
    ),
)

PUBLICITY = SheetSpec(
    key="publicity",
    name="公示记录",
    table="tblPublicity",
    owned=True,
    purpose="由工具生成：每次发布公示一行，记下公示的月份和公示期；公示期满后才能结账。请勿手工修改。",
    columns=(
        C("月份", "month", MONTH, width=9),
        C("公示开始", "start", DATE, width=11, number_format="yyyy-mm-dd"),
        C("公示截止", "end", DATE, width=11, number_format="yyyy-mm-dd", hint="公示期最后一天（含当天）"),
        C("登记条数", "entries", INT, width=9, number_format="0"),
        C("涉及户数", "households", INT, width=9, number_format="0"),
        C("发布日期", "published_on", DATE, width=11, number_format="yyyy-mm-dd"),
    ),
)

SEALS = SheetSpec(
    key="seals",
    name="封账记录",
    table="tblSeals",
    owned=True,
    purpose="由工具生成：每个已结账月份一行，含该月登记和台账的摘要（SHA-256）及校验码，逐月相连，防止事后改动。请勿手工修改。",
    columns=(
        C("月份", "month", MONTH, width=9),
        C("封账日期", "sealed_on", DATE, width=11, number_format="yyyy-mm-dd"),
        C("登记条数", "entries", INT, width=9, number_format="0"),
        C("涉及户数", "households", INT, width=9, number_format="0"),
        C("当月积分合计", "month_total", NUMBER, width=12, number_format="0.##"),
        C("摘要", "digest", TEXT, width=66, hint="本月封账明细和月度台账的 SHA-256 摘要（含上月摘要）"),
        C("上月摘要", "previous", TEXT, width=66, hint="上一行的摘要；第一个封账月份为空"),
        C("校验码", "code", TEXT, width=11, hint="公示上印的校验码，可用 jifen-xl verify 核对"),
    ),
)

SEALED_ENTRIES = SheetSpec(
    key="sealed_entries",
    name="封账明细",
    table="tblSealedEntries",
    owned=True,
    purpose="由工具生成：已结账月份的积分登记在结账时的样子，用于核对事后是否被改动。请勿手工修改。",
    columns=(
        C("月份", "month", MONTH, width=9),
        C("登记编号", "entry_id", CODE, width=12, number_format="@"),
        C("日期", "date", DATE, width=11, number_format="yyyy-mm-dd"),
        C("户号", "hh_id", CODE, width=8, number_format="@"),
        C("指标编码", "code", CODE, width=10, number_format="@"),
        C("数量", "qty", NUMBER, width=6, number_format="0.##"),
        C("积分", "points", NUMBER, width=7, number_format="0.##", hint="异议处理后实际计入的积分；已撤销为 0"),
        C("状态", "status", TEXT, width=8),
    ),
)

GOODS = SheetSpec(
    key="goods",
    name="商品目录",
    table="tblGoods",
    key_field="goods_id",
    purpose="爱心超市可兑换的商品及所需积分。",
    columns=(
        C("商品编码", "goods_id", CODE, True, width=10, number_format="@"),
        C("商品名称", "name", TEXT, True, width=16),
        C("规格", "spec", TEXT, width=10),
        C("单位", "unit", TEXT, width=6),
        C("兑换积分", "price", NUMBER, True, width=9, number_format="0.##", bounds=POSITIVE),
        C("预警库存", "alert_level", INT, width=9, number_format="0", bounds=NOT_NEGATIVE),
        C("备注", "note", TEXT, width=20),
    ),
)

RECEIPTS = SheetSpec(
    key="receipts",
    name="物资入库",
    table="tblReceipts",
    key_field="receipt_id",
    purpose="爱心超市每次收到物资登记一行，注明资金或物资来源。",
    columns=(
        C("入库编号", "receipt_id", CODE, True, width=10, number_format="@"),
        C("日期", "date", DATE, True, width=11, number_format="yyyy-mm-dd"),
        C("来源类型", "funding", TEXT, True, choices=FUNDING_SOURCES, width=14),
        C("捐赠方", "donor", TEXT, width=16),
        C("商品编码", "goods_id", CODE, True, lookup=("goods", "goods_id"), width=10, number_format="@"),
        C("数量", "qty", NUMBER, True, width=6, number_format="0", bounds=POSITIVE_WHOLE),
        C("折合金额", "amount", NUMBER, width=9, number_format="0.00", bounds=NOT_NEGATIVE),
        C("经办人", "handler", TEXT, width=8, person=True),
        C("备注", "note", TEXT, width=20),
    ),
)

EXCHANGES = SheetSpec(
    key="exchanges",
    name="积分兑换",
    table="tblExchanges",
    key_field="exchange_id",
    purpose="村民用积分兑换物品，每次一行。",
    columns=(
        C("兑换编号", "exchange_id", CODE, True, width=10, number_format="@"),
        C("日期", "date", DATE, True, width=11, number_format="yyyy-mm-dd"),
        C("户号", "hh_id", CODE, True, lookup=("households", "hh_id"), width=8, number_format="@"),
        C("商品编码", "goods_id", CODE, True, lookup=("goods", "goods_id"), width=10, number_format="@"),
        C("数量", "qty", NUMBER, True, width=6, number_format="0", bounds=POSITIVE_WHOLE),
        C("消耗积分", "points", NUMBER, True, width=9, number_format="0.##", bounds=POSITIVE),
        C("经办人", "handler", TEXT, width=8, person=True),
        C("备注", "note", TEXT, width=20),
    ),
)

STOCK = SheetSpec(
    key="stock",
    name="库存台账",
    table="tblStock",
    owned=True,
    purpose="由工具生成：每种商品每月的期初、入库、出库和期末库存。请勿手工修改。",
    columns=(
        C("月份", "month", MONTH, width=9),
        C("商品编码", "goods_id", CODE, width=10),
        C("商品名称", "name", TEXT, width=16),
        C("期初库存", "opening", NUMBER, width=9, number_format="0"),
        C("本月入库", "received", NUMBER, width=9, number_format="0"),
        C("本月出库", "issued", NUMBER, width=9, number_format="0"),
        C("期末库存", "closing", NUMBER, width=9, number_format="0"),
    ),
)

FINDINGS = SheetSpec(
    key="findings",
    name="校验结果",
    table="tblFindings",
    owned=True,
    purpose="由工具生成：最近一次校验发现的问题。点击“问题说明”可跳到出错的单元格。",
    columns=(
        C("级别", "level", TEXT, width=6),
        C("工作表", "sheet", TEXT, width=10),
        C("行号", "row", INT, width=6, number_format="0"),
        C("列名", "column", TEXT, width=10),
        C("问题说明", "message", TEXT, width=48),
        C("修改建议", "fix", TEXT, width=40),
        C("规则编号", "rule", TEXT, width=14),
    ),
)

#: Every sheet of the contract, in the template's tab order.
SHEETS: tuple[SheetSpec, ...] = (
    SETTINGS,
    HOUSEHOLDS,
    INDICATORS,
    MEMBERS,
    ENTRIES,
    OBJECTIONS,
    LEDGER,
    PUBLICITY,
    SEALS,
    SEALED_ENTRIES,
    GOODS,
    RECEIPTS,
    EXCHANGES,
    STOCK,
    FINDINGS,
)
BY_KEY: dict[str, SheetSpec] = {s.key: s for s in SHEETS}
BY_NAME: dict[str, SheetSpec] = {s.name: s for s in SHEETS}

#: The template's instructions sheet (not part of the exchange contract).
HELP_SHEET_NAME = "使用说明"

#: The filled monthly notice (公示): an owned sheet of free layout (no table), made from the notice
#: template and written whole.
NOTICE_SHEET_NAME = "公示"
#: The owned sheets of free layout: each is written whole from a one-sheet image
#: (``io.base.WriteRequest.images``), found by its exact name (surrounding spaces aside; a
#: clerk's 「公示（3月存档）」 is the clerk's), and added after the last sheet when missing.
IMAGE_SHEETS: tuple[str, ...] = (NOTICE_SHEET_NAME,)

#: The seven keys of a finding, as printed by ``validate --json``.
FINDING_HEADERS = tuple(FINDINGS.headers)


#: The sheets clerks fill in (the toolkit reads them, never rewrites them whole).
CLERK_SHEETS: tuple[SheetSpec, ...] = tuple(s for s in SHEETS if not s.owned)


def is_village_workbook(has_sheet) -> bool:
    """Whether a workbook is a village workbook, judged by which clerk sheets it has
    (``has_sheet(spec)``): at least half of them. The reader refuses anything else, and the
    writer adds a missing owned sheet only to a village workbook."""
    return sum(1 for spec in CLERK_SHEETS if has_sheet(spec)) * 2 >= len(CLERK_SHEETS)


def sheet(key: str) -> SheetSpec:
    """Return the spec of sheet ``key`` (English key, e.g. ``"entries"``)."""
    return BY_KEY[key]


# --- the township workbook (issue 11): generated whole by ``io.township_book`` ------------------
#: Awards the township selects (SPEC "Use of results").
AWARD_STAR, AWARD_FAMILY, AWARD_COURTYARD = "星级文明户", "最美家庭", "最美庭院"
AWARDS = (AWARD_STAR, AWARD_FAMILY, AWARD_COURTYARD)
YES, NO = "是", "否"
TOTAL_LABEL = "合计"  # the 村 cell of 汇总概况's last row
_PCT, _PTS, _N = "0.0%", "#,##0.##", "#,##0"

TOWNSHIP_SUMMARY = SheetSpec(
    key="t_summary", name="汇总概况", table="tblTownSummary", owned=True,
    purpose="每村一行：户数、参与情况、加扣分、异议处理、积分兑换、库存和数据质量；最后一行为全镇合计。",
    columns=(
        C("区县", "district", TEXT, width=10), C("镇街", "township", TEXT, width=10),
        C("村", "village", TEXT, width=12), C("年度", "year", INT, width=7, number_format="0"),
        C("台账截至", "through", MONTH, width=9, hint="该村月度台账已结算到的月份；之后的月份积分尚未确定"),
        C("户数", "households", INT, width=7, number_format=_N, hint="住户名册中状态为“正常”的户数"),
        C("非本村户籍户数", "nonlocal", INT, width=9, number_format=_N),
        C("参与户数", "taking_part", INT, width=8, number_format=_N, hint="全年至少有一条已确认积分的正常户"),
        C("参与率", "participation", NUMBER, width=8, number_format=_PCT),
        C("加分合计", "reward", NUMBER, width=10, number_format=_PTS),
        C("扣分合计", "deduct", NUMBER, width=10, number_format=_PTS),
        C("积分合计", "total", NUMBER, width=10, number_format=_PTS, hint="全年已确认积分（异议处理后）"),
        C("户均积分", "average", NUMBER, width=8, number_format="0.00"),
        C("奖扣比", "ratio", NUMBER, width=7, number_format="0.00", hint="加分合计 ÷ |扣分合计|；无扣分时留空"),
        C("异议数", "objections", INT, width=7, number_format=_N),
        C("维持", "kept", INT, width=6, number_format=_N), C("更正", "corrected", INT, width=6, number_format=_N),
        C("撤销", "withdrawn", INT, width=6, number_format=_N), C("待处理", "open", INT, width=7, number_format=_N),
        C("兑换笔数", "exchanges", INT, width=8, number_format=_N),
        C("兑换积分", "spent", NUMBER, width=9, number_format=_PTS),
        C("库存价值（积分）", "stock_value", NUMBER, width=10, number_format=_PTS,
          hint="最后一个月各商品期末库存 × 兑换积分之和"),
        C("错误数", "errors", INT, width=7, number_format=_N), C("警告数", "warnings", INT, width=7, number_format=_N),
    ),
)

TOWNSHIP_TREND = SheetSpec(
    key="t_trend", name="月度趋势", table="tblTownTrend", owned=True,
    purpose="每村每月已确认积分、参与户数和兑换积分；右侧为全镇月度合计、各村月度积分和图表。",
    columns=(
        C("月份", "month", MONTH, width=9), C("村", "village", TEXT, width=12),
        C("积分合计", "total", NUMBER, width=10, number_format=_PTS),
        C("参与户数", "taking_part", INT, width=8, number_format=_N),
        C("兑换积分", "spent", NUMBER, width=9, number_format=_PTS),
    ),
)
#: 月度趋势's township block (beside the per-village table; feeds the bar chart).
TOWNSHIP_TREND_TOTAL = SheetSpec(
    key="t_trend_total", name="月度趋势", table="tblTownMonthly", owned=True,
    columns=(
        C("月份", "month", MONTH, width=9),
        C("全镇积分合计", "total", NUMBER, width=12, number_format=_PTS),
        C("全镇兑换积分", "spent", NUMBER, width=12, number_format=_PTS),
        C("全镇参与户数", "taking_part", INT, width=12, number_format=_N),
    ),
)
#: 月度趋势's village-by-month block: 月份 then one column per village (feeds the line chart).
TREND_PIVOT_FIRST = "月份"
TREND_PIVOT_TABLE = "tblTownByVillage"

TOWNSHIP_HOTSPOTS = SheetSpec(
    key="t_hotspots", name="扣分热点", table="tblTownHotspots", owned=True,
    purpose="全镇出现次数最多的扣分项目（已确认的扣分）。",
    columns=(
        C("指标编码", "code", CODE, width=10), C("指标名称", "name", TEXT, width=28),
        C("指标类别", "category", TEXT, width=16), C("次数", "count", INT, width=7, number_format=_N),
        C("涉及户数", "households", INT, width=9, number_format=_N),
        C("涉及村数", "villages", INT, width=9, number_format=_N),
        C("扣分合计", "points", NUMBER, width=10, number_format=_PTS),
    ),
)

TOWNSHIP_RANKING = SheetSpec(
    key="t_ranking", name="户排名", table="tblTownRanking", owned=True,
    purpose="全镇年度积分最高的农户（只列姓名，不含身份证号和电话）。",
    columns=(
        C("名次", "rank", INT, width=6, number_format="0"), C("村", "village", TEXT, width=12),
        C("户号", "hh_id", CODE, width=8, number_format="@"), C("户主姓名", "head", TEXT, width=10),
        C("年度积分", "year_points", NUMBER, width=9, number_format=_PTS, hint="本年已确认积分"),
        C("累计积分", "cumulative", NUMBER, width=9, number_format=_PTS, hint="月度台账最后一个月的累计积分"),
        C("扣分次数", "deductions", INT, width=8, number_format=_N),
    ),
)

TOWNSHIP_CANDIDATES = SheetSpec(
    key="t_candidates", name="评优候选", table="tblTownCandidates", owned=True,
    purpose="按“评优规则”从各村农户中选出的评优候选，每行写明所用规则。",
    columns=(
        C("荣誉", "award", TEXT, width=12), C("村", "village", TEXT, width=12),
        C("户号", "hh_id", CODE, width=8, number_format="@"), C("户主姓名", "head", TEXT, width=10),
        C("依据积分", "points", NUMBER, width=9, number_format=_PTS), C("名次", "rank", INT, width=6, number_format="0",
                                                                     hint="规则有全镇名额时为全镇名次，否则为村内名次"),
        C("依据规则", "rule", TEXT, width=60),
    ),
)

AWARD_RULES = SheetSpec(
    key="award_rules", name="评优规则", table="tblAwardRules",
    purpose="每种荣誉一行，可以修改；下次导入时按这里的规则选出评优候选。",
    key_field="award",
    columns=(
        C("荣誉", "award", TEXT, True, width=12),
        C("指标类别", "category", TEXT, width=12, hint="只计这一类别的积分；留空 = 全部类别"),
        C("最低积分", "min_points", NUMBER, True, width=9, number_format="0.##", bounds=NOT_NEGATIVE),
        C("全年无扣分", "no_deduction", TEXT, True, choices=(YES, NO), width=10),
        C("每村名额", "per_village", INT, width=9, number_format="0", bounds=POSITIVE_WHOLE,
          hint="每村最多几户；留空 = 不限"),
        C("全镇名额", "per_township", INT, width=9, number_format="0", bounds=POSITIVE_WHOLE,
          hint="全镇最多几户；留空 = 不限"),
        C("说明", "note", TEXT, width=36),
    ),
)

TOWNSHIP_CHECKS = SheetSpec(
    key="t_checks", name="校验汇总", table="tblTownChecks", owned=True,
    purpose="每个文件一行（含跳过和重复的文件）及其状态和原因；其后列出各文件的前几条校验发现。",
    columns=(
        C("文件", "file", TEXT, width=28), C("村", "village", TEXT, width=12), C("状态", "status", TEXT, width=12),
        C("原因", "reason", TEXT, width=48), C("错误数", "errors", INT, width=7, number_format=_N),
        C("警告数", "warnings", INT, width=7, number_format=_N),
    ),
)
#: 校验汇总's findings block (below the files; its columns line up under theirs).
TOWNSHIP_CHECK_FINDINGS = SheetSpec(
    key="t_check_findings", name="校验汇总", table="tblTownFindings", owned=True,
    columns=(
        C("文件", "file", TEXT, width=28), C("村", "village", TEXT, width=12), C("级别", "level", TEXT, width=12),
        C("说明", "message", TEXT, width=48), C("工作表", "sheet", TEXT, width=10), C("行", "row", INT, width=7),
        C("列", "column", TEXT, width=10), C("规则", "rule", TEXT, width=12),
    ),
)

#: The township workbook's sheets, in tab order.
TOWNSHIP_SHEETS: tuple[SheetSpec, ...] = (
    TOWNSHIP_SUMMARY, TOWNSHIP_TREND, TOWNSHIP_HOTSPOTS, TOWNSHIP_RANKING, TOWNSHIP_CANDIDATES, AWARD_RULES,
    TOWNSHIP_CHECKS,
)

# --- the consolidated workbook's level: a township's or a district's (issue 11) --------------
@dataclass(frozen=True)
class Level:
    """Whom a consolidated workbook (and its report) is for. The district's sheets are the
    township's (``level_sheets``), their texts saying ``whole`` where a township's say 全镇.

    :param key: ``township`` or ``district``.
    :param whole: the word for the whole: 全镇 / 全区 (全镇积分合计 → 全区积分合计, 全镇名额 → 全区名额).
    :param total: the 村 cell of 汇总概况's last row; ``subtotal``: of a township's row (district).
    :param book: what the workbook is called in messages and notes.
    :param unit: the header of 月度趋势's rows (a township's villages, a district's townships);
        ``units``: the same in words (各村 / 各镇街).
    :param place: the lists (户排名, 评优候选) name each household's 镇街 before its 村.
    """

    key: str
    whole: str
    total: str
    book: str
    unit: str
    units: str
    place: bool = False
    subtotal: str = "小计"


LEVEL_TOWNSHIP = Level("township", "全镇", TOTAL_LABEL, "乡镇汇总工作簿", "村", "各村")
LEVEL_DISTRICT = Level("district", "全区", "全区合计", "区县汇总工作簿", "镇街", "各镇街", place=True)
#: The column a district's lists add before 村.
PLACE_TOWNSHIP = C("镇街", "township", TEXT, width=10)


def level_sheets(level: Level = LEVEL_TOWNSHIP) -> tuple[SheetSpec, ...]:
    """``TOWNSHIP_SHEETS`` as ``level``'s workbook has them (the township's are returned as they
    are; a district's say 全区 for 全区, name 月度趋势's rows 镇街 and add 镇街 before 村 in
    户排名 and 评优候选). Sheet and table names never change."""
    if level == LEVEL_TOWNSHIP:
        return TOWNSHIP_SHEETS
    return tuple(_at_level(spec, level) for spec in TOWNSHIP_SHEETS)


def level_spec(spec: SheetSpec, level: Level = LEVEL_TOWNSHIP) -> SheetSpec:
    """One township sheet's spec (any of ``TOWNSHIP_SHEETS`` or ``TOWNSHIP_TREND_TOTAL``,
    ``TOWNSHIP_CHECK_FINDINGS``) at ``level``."""
    return spec if level == LEVEL_TOWNSHIP else _at_level(spec, level)


def _at_level(spec: SheetSpec, level: Level) -> SheetSpec:
    def word(text: str) -> str:
        return text.replace(LEVEL_TOWNSHIP.whole, level.whole)

    columns = [replace(c, header=word(c.header), hint=word(c.hint)) for c in spec.columns]
    purpose = word(spec.purpose)
    if spec.key == TOWNSHIP_TREND.key:
        columns = [replace(c, header=level.unit) if c.field == "village" else c for c in columns]
        purpose = purpose.replace("每村", f"每个{level.unit}").replace(LEVEL_TOWNSHIP.units, level.units)
    if level.place and spec.key in (TOWNSHIP_RANKING.key, TOWNSHIP_CANDIDATES.key):
        columns.insert([c.field for c in columns].index("village"), PLACE_TOWNSHIP)
    if level.place:
        purpose = purpose.replace(f"最后一行为{level.whole}合计",
                                  f"每个镇街后有“{level.subtotal}”行，最后一行为{level.total}")
    return replace(spec, columns=tuple(columns), purpose=purpose)


# --- township import: the status of each file (issue 11) ----------------------------------
#: 状态 of one file in ``jifen-xl township import``: read with no finding / read with warnings
#: only / read with at least one 错误 (its figures are not consolidated) / not read (not a
#: workbook, a lock file, damaged, encrypted, not a village workbook, another year) / the same
#: village and year as a newer file (counted once, the newer wins).
FILE_IMPORTED, FILE_IMPORTED_WARNINGS, FILE_REJECTED, FILE_SKIPPED, FILE_DUPLICATE = (
    "已导入", "已导入有警告", "已拒绝", "已跳过", "重复")
IMPORT_STATUSES = (FILE_IMPORTED, FILE_IMPORTED_WARNINGS, FILE_REJECTED, FILE_SKIPPED, FILE_DUPLICATE)

# --- the wide layout (宽表) import mapping (issue 11) --------------------------------------
#: 用途 of one row of 「导入映射」: a column of the wide sheet holding 户号 / 户主姓名 / 户籍类型 /
#: 村民小组 / points of an item in a period (积分); the place (区县 镇街 村 年度: a value typed in
#: 取值, or a column of the wide sheet named in 列名); the wide sheet's name (数据工作表).
WIDE_HH_ID, WIDE_HEAD, WIDE_HUKOU, WIDE_GROUP, WIDE_POINTS, WIDE_SHEET = (
    "户号", "户主姓名", "户籍类型", "村民小组", "积分", "数据工作表")
WIDE_PLACE = ("区县", "镇街", "村", "年度")
WIDE_USES = (WIDE_HH_ID, WIDE_HEAD, WIDE_HUKOU, WIDE_GROUP, WIDE_POINTS) + WIDE_PLACE + (WIDE_SHEET,)
#: 期间 of a points column, as typed: 1月 … 12月, 第1季度 … 第4季度, 上半年, 下半年, 全年.
WIDE_PERIOD_HINT = "1月—12月、第1季度—第4季度、上半年、下半年、全年"

WIDE_MAPPING = SheetSpec(
    key="wide_mapping", name="导入映射", table="tblWideMapping",
    purpose="宽表（每户一行、每个指标和期间一列）按这里的映射导入：每个数据列一行，写明它是户号、户主姓名，"
            "还是哪个指标哪个期间的积分；区县、镇街、村、年度直接填写在「取值」，或写明数据表中的哪一列。",
    columns=(
        C("用途", "use", TEXT, True, choices=WIDE_USES, width=10,
          hint="户号、户主姓名、户籍类型、村民小组、积分、区县、镇街、村、年度、数据工作表"),
        C("列名", "header", TEXT, width=16, hint="数据工作表中这一列的标题，与宽表完全一致"),
        C("指标编码", "code", CODE, width=10, number_format="@"),
        C("指标名称", "name", TEXT, width=20),
        C("积分类型", "kind", TEXT, choices=INDICATOR_KINDS, width=10),
        C("指标类别", "category", TEXT, width=10),
        C("期间", "period", TEXT, width=10, hint=WIDE_PERIOD_HINT),
        C("取值", "value", TEXT, width=14, hint="区县、镇街、村、年度、数据工作表直接填写的内容"),
        C("说明", "note", TEXT, width=24),
    ),
)

# --- the macro buttons of the .xlsm workbooks (issue 12) ------------------------------------
BOOK_VILLAGE, BOOK_TOWNSHIP = "village", "township"


@dataclass(frozen=True)
class Button:
    """A form-control button of a built ``.xlsm`` workbook.

    It calls the one-line VBA Sub ``sub`` of ``macros/*.bas``, whose only statement is
    ``RunPython "import jifen_xl.macros as m; m.<macro>()"``, or, for a button that calls the
    xlwings VBA module itself (``macro`` empty), the statement ``vba``.
    """

    caption: str  # Chinese, on the button
    sub: str  # VBA Sub name, ASCII, in macros/*.bas
    macro: str  # function name in jifen_xl.macros ("" when the Sub's statement is ``vba``)
    sheet: str  # the sheet the button sits on (a declared sheet name)
    book: str  # BOOK_VILLAGE | BOOK_TOWNSHIP
    help: str = ""  # Chinese: what pressing it does, shown beside it (使用说明)
    vba: str = ""  # the Sub's one statement when it is not RunPython: a Sub of the xlwings module

    @property
    def statement(self) -> str:
        """The one statement of the button's Sub (ASCII VBA)."""
        return self.vba or f'RunPython "import jifen_xl.macros as m; m.{self.macro}()"'


#: Every button, in the order they are laid out (left to right, top to bottom). The village's sit
#: in a button row at the top of 使用说明 (nothing there is a table a button could cover); the
#: township's on 汇总概况.
BUTTONS: tuple[Button, ...] = (
    Button("校验", "JifenValidate", "validate", HELP_SHEET_NAME, BOOK_VILLAGE,
           "检查整个工作簿，把发现的问题写入“校验结果”，每条都写明工作表、行号和修改建议（同命令 jifen-xl validate）。"),
    Button("生成公示", "JifenPublish", "publish", HELP_SHEET_NAME, BOOK_VILLAGE,
           "公示当月积分：当月“待公示”的登记改为“公示中”，空着的积分按数量 × 分值填上，公示期记入“公示记录”（同 jifen-xl publish）。"),
    Button("打印公示", "JifenPrintNotice", "print_notice", HELP_SHEET_NAME, BOOK_VILLAGE,
           "把当月公示打印成 PDF，保存在本工作簿旁边，可贴到公示栏（同 jifen-xl notice --pdf）。"),
    Button("封账", "JifenClose", "close_month", HELP_SHEET_NAME, BOOK_VILLAGE,
           "公示期满、异议处理完后封账：确认当月积分，生成“月度台账”，并记入“封账记录”（同 jifen-xl close）。"),
    Button("超市盘点", "JifenShop", "shop", HELP_SHEET_NAME, BOOK_VILLAGE,
           "核对爱心超市的入库和兑换，生成“库存台账”，列出库存预警（同 jifen-xl shop）。"),
    Button("打印积分卡", "JifenCards", "print_cards", HELP_SHEET_NAME, BOOK_VILLAGE,
           "打印“住户名册”中选中农户的积分卡；没有选中时打印全部农户（同 jifen-xl card）。"),
    Button("监督报告", "JifenSupervise", "supervise", HELP_SHEET_NAME, BOOK_VILLAGE,
           "生成给监督管理小组看的监督报告：评议人、长期未评分的农户、奖扣比例、回避情况（同 jifen-xl supervise）。"),
    Button("年度结转", "JifenRollover", "rollover", HELP_SHEET_NAME, BOOK_VILLAGE,
           "年底生成下一年度的工作簿，带入各户的累计积分和可用积分（同 jifen-xl rollover）。"),
    Button("导入公式函数", "JifenImportFunctions", "", HELP_SHEET_NAME, BOOK_VILLAGE,
           "让本工作簿能用积分公式函数 JIFEN_TOTAL、JIFEN_BALANCE、JIFEN_RANK、JIFEN_EXPECTED（见下方“公式函数”）。"
           "每个工作簿只需点一次；要先在 Excel 中勾选“信任对 VBA 工程对象模型的访问”（文件 → 选项 → 信任中心 → "
           "信任中心设置 → 宏设置）。只能在 Windows 版 Excel 中使用。",
           vba="ImportPythonUDFs"),
    Button("导入各村台账", "JifenTownshipImport", "township_import", TOWNSHIP_SUMMARY.name, BOOK_TOWNSHIP,
           "导入本工作簿旁“各村台账”文件夹中各村交回的工作簿，按本工作簿的“评优规则”生成新的汇总工作簿（文件名带导入日期）并打开（同 jifen-xl township import）。"),
)


def buttons(book: str) -> tuple[Button, ...]:
    """The buttons of one workbook kind (``BOOK_VILLAGE`` or ``BOOK_TOWNSHIP``)."""
    return tuple(b for b in BUTTONS if b.book == book)


# --- the xlwings settings sheet of a village .xlsm (issue 12) --------------------------------
@dataclass(frozen=True)
class ConfSheet:
    """The settings sheet xlwings' standalone VBA module reads (``GetConfigFromSheet``): keys in
    column A from A1 down, contiguous, no header, values in column B; keys are compared upper-case.
    A key written here overrides the clerk's own xlwings settings (the user's and the folder's
    ``xlwings.conf`` files), even when its value is blank, so only keys the toolkit needs are set:
    ``UDF Modules`` names the module ``ImportPythonUDFs`` imports (its default is a module named
    like the workbook, which does not exist). The interpreter is left unset: xlwings then runs the
    ``pythonw`` found on PATH, and a clerk whose Python is elsewhere sets ``INTERPRETER_WIN`` in
    ``%USERPROFILE%\\.xlwings\\xlwings.conf`` (workbook/README.md says how), which also survives
    年度结转 (next year's workbook gets these rows afresh).
    """

    name: str  # exactly the name xlwings looks for
    rows: tuple[tuple[str, str], ...]  # (key, value), from A1 down
    state: str  # the sheet's visibility: "hidden" (the clerk can unhide it) | "visible"


XLWINGS_CONF = ConfSheet(
    name="xlwings.conf",
    rows=(("UDF Modules", "jifen_xl.udfs"),),
    state="hidden",
)


# --- the worksheet functions (UDFs) of a village .xlsm (issue 12) ----------------------------
@dataclass(frozen=True)
class Udf:
    """A worksheet function of ``jifen_xl.udfs``: its ASCII name (what the clerk types), an
    example formula, and what it returns (Chinese: the description in Excel's function wizard
    and in 使用说明's 公式函数 section)."""

    name: str
    example: str
    help: str


UDFS: tuple[Udf, ...] = (
    Udf("JIFEN_TOTAL", '=JIFEN_TOTAL("0001")',
        f"某户的{LEDGER.header_of('cumulative')}（终生累计，兑换后不减少），取“{LEDGER.name}”最近一个已结账月份的数。"),
    Udf("JIFEN_BALANCE", '=JIFEN_BALANCE("0001")',
        f"某户的{LEDGER.header_of('available')}（{LEDGER.header_of('cumulative')}减去在爱心超市兑换掉的），"
        f"取“{LEDGER.name}”最近一个已结账月份的数。"),
    Udf("JIFEN_RANK", '=JIFEN_RANK("0001")',
        f"某户的{LEDGER.header_of('rank')}（按{LEDGER.header_of('cumulative')}从高到低，同分同名次），"
        f"取“{LEDGER.name}”最近一个已结账月份的数。"),
    Udf("JIFEN_EXPECTED", '=JIFEN_EXPECTED("JC-22", 2, "2026-03-15")',
        "一条登记应得的积分：数量 × 该指标在这一天的分值（数量不填为 1，日期不填为今天）。"),
)
#: The category the functions are listed under in Excel's function wizard (插入函数).
UDF_CATEGORY = "乡村治理积分"
