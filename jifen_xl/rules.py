"""The rule catalogue: every validation rule declared once (issue 8, section 3).

A rule has its 规则编号 (``E-`` = 错误, blocks the ledger; ``W-`` = 警告), the sheet and
columns it reports on (schema specs, never literal names), a message and a fix template
(``str.format`` with named fields) and a one-line 说明. Findings are made from the catalogue
(``RULES["E-HH-01"].flag(frame, mask, first=...)``), so a clerk's wording lives here only.

Templates may name, besides the finding's own values:

* ``{sheet}`` / ``{header}``: the rule's sheet and column (filled in here when the rule has one
  column, else when the finding is made);
* ``{sheet:KEY}`` / ``{header:KEY.FIELD}`` / ``{bounds:KEY.FIELD}``: another sheet's name, a
  column's header, a column's allowed range, from the schema;
* ``{target}`` / ``{target_header}``: the sheet and column a lookup column refers to;
* the constants in ``CONSTANTS`` (group names, the deduction kind ...).

Schema-driven rules (required cells, dropdown lists, unique keys, lookups, numeric ranges) are
bound to a *check*: ``RULES.for_check(KEY, spec, field)`` gives the rule a sheet's own
declaration carries (E-HH-01 for 住户名册.户号), else the general one (E-KEY).
"""

from __future__ import annotations

import datetime as _dt
import string
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from . import schema as S
from .core.clean import ROW
from .core.problems import Problem, level_of

# -- the checks a rule may carry --------------------------------------------------------
REQUIRED = "required"  # ColumnSpec.required
CHOICE = "choice"  # ColumnSpec.choices
KEY = "key"  # SheetSpec.key_field (with key_periods: periods must not overlap)
LOOKUP = "lookup"  # ColumnSpec.lookup
RANGE = "range"  # ColumnSpec.bounds
FORMAT = "format"  # a cell the cleaning or the reader could not read as its type
DOMAIN = "domain"  # a rule of the points system, written in validate/
SCHEMA_CHECKS = (REQUIRED, CHOICE, KEY, LOOKUP, RANGE)

#: Words every template may use (resolved when the catalogue is built).
CONSTANTS: dict[str, str] = {
    "review_group": S.GROUP_REVIEW,
    "supervise_group": S.GROUP_SUPERVISE,
    "group_size": f"{S.GROUP_SIZE[0]}—{S.GROUP_SIZE[1]}",
    "deduct": S.KIND_DEDUCT,
    "correct": S.OBJ_CORRECT,
    "joiner": S.NAME_JOINER,
}

#: Chinese names of template fields, for the catalogue as printed (``jifen-xl rules --json``);
#: a field that is a column of the rule's sheet is shown by that column's header instead.
FIELD_LABELS: dict[str, str] = {
    "sheet": "工作表", "header": "列名", "value": "填写的值", "first": "首次出现的行号",
    "target": "引用的工作表", "target_header": "引用的列", "near": "相近的值", "bounds": "允许范围",
    "choices": "可选值", "hint": "填写提示", "item": "项目", "scorer": "评议人", "year": "年度",
    "count": "人数", "day": "日期", "other": "另一行的行号", "total": "累计分", "cap": "上限",
    "balance": "兑换后可用积分", "word": "涉及的词", "registered": "住户名册中的户主",
    "hh_status": "住户状态", "catalogue_name": "积分指标中的名称", "computed": "数量×分值",
    "item_value": "分值", "count_qty": "数量", "rows": "行号", "decisions": "处理结果个数",
    "month": "月份", "sealed": "封账时的值", "current": "现在的值", "entry_count": "登记条数",
    "entry_id": "登记编号", "hh_id": "户号", "prior": "前一行的月份",
    "exchange_id": "兑换编号", "goods_name": "商品名称", "goods_id": "商品编码", "stock": "当天库存",
    "expected": "数量×兑换积分", "price": "兑换积分", "unit": "单位", "hh_head": "户主姓名",
    "closing": "月末库存", "receipt_id": "入库编号",
}

_FORMATTER = string.Formatter()


# -- values as a clerk reads them -----------------------------------------------------------
def shown(x) -> str:
    """A value in a message: numbers as a clerk writes them (5, -2, 1.5), dates as 2026-03-05,
    a blank as 空."""
    if x is None:
        return "空"
    if isinstance(x, str):
        return x
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    if isinstance(x, (float, np.floating)):
        if np.isnan(x):
            return "空"
        x = float(x)
        return str(int(x)) if x.is_integer() else f"{x:g}"
    if isinstance(x, (_dt.date, np.datetime64)):
        return "空" if pd.isna(x) else pd.Timestamp(x).strftime("%Y-%m-%d")
    return str(x)


def bounds_text(bounds: S.Bounds, whole: bool = False) -> str:
    """The allowed range in words: 正整数, 正数, 不小于 1 的整数, 1—60 之间的整数 ...

    :param whole: the column holds whole numbers anyway (an ``INT`` column).
    """
    noun = "整数" if bounds.whole or whole else "数"
    low, high = bounds.low, bounds.high
    if low is not None and high is not None:
        text = f"{shown(low)}—{shown(high)} 之间的{noun}"
    elif low is not None:
        if bounds.low_open:
            text = f"正{noun}" if low == 0 else f"大于 {shown(low)} 的{noun}"
        else:
            text = f"不小于 {shown(low)} 的{noun}"
    elif high is not None:
        text = f"不大于 {shown(high)} 的{noun}"
    else:
        text = noun
    return " " + text if text[0].isdigit() else text  # 「应为 1—60 …」 but 「应为正整数」


def column_bounds_text(col: S.ColumnSpec) -> str:
    return bounds_text(col.bounds, whole=col.type == S.INT) if col.bounds else ""


def _column(spec: S.SheetSpec, field_name: str) -> S.ColumnSpec:
    """A column of ``spec``, or one of its key/value rows (基本信息: 年度, 公示天数 ...)."""
    for c in spec.columns + spec.kv_rows:
        if c.field == field_name:
            return c
    raise KeyError(f"{spec.key}.{field_name}")


def _schema_ref(kind: str, ref: str) -> str:
    if kind == "sheet":
        return S.sheet(ref).name
    key, _, field_name = ref.partition(".")
    col = _column(S.sheet(key), field_name)
    if kind == "header":
        return col.header
    if kind == "bounds":
        return column_bounds_text(col)
    raise ValueError(f"unknown schema reference {{{kind}:{ref}}}")


def _escape(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def _resolve(template: str, known: Mapping[str, str]) -> str:
    """Fill in what is known when the catalogue is built; keep the other fields as ``{name}``."""
    out = []
    for literal, name, spec, conv in _FORMATTER.parse(template):
        out.append(_escape(literal))
        if name is None:
            continue
        if spec and name in ("sheet", "header", "bounds"):
            out.append(_escape(_schema_ref(name, spec)))
        elif name in known and not spec and not conv:
            out.append(_escape(known[name]))
        else:
            out.append("{" + name + ("!" + conv if conv else "") + (":" + spec if spec else "") + "}")
    return "".join(out)


def field_names(template: str) -> tuple[str, ...]:
    """The fields a (resolved) template still needs, in order of first use."""
    names: list[str] = []
    for _, name, _, _ in _FORMATTER.parse(template):
        if name is not None and name not in names:
            names.append(name)
    return tuple(names)


# -- a rule ----------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Rule:
    """One rule of the catalogue.

    :param id: 规则编号, e.g. ``E-ENT-05``; its first letter gives the level.
    :param sheet: the sheet it reports on; ``None`` for a schema-driven rule that applies to
        every column carrying its check (``scope()`` lists them).
    :param fields: the columns it reports on (基本信息: its items, e.g. ``year``).
    :param message: 问题说明 template.
    :param fix: 修改建议 template.
    :param description: 说明: one line on what the rule checks (resolved like the templates).
    :param check: the schema check it carries (``REQUIRED`` ... ``RANGE``), ``FORMAT`` or ``DOMAIN``.
    :param variants: other wordings for particular cases: name -> (message, fix) templates.
    :param format_type: for ``FORMAT`` rules about a value type, the schema type (``S.INT`` ...).
    """

    id: str
    sheet: S.SheetSpec | None
    fields: tuple[str, ...]
    message: str
    fix: str
    description: str
    check: str = DOMAIN
    variants: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    format_type: str | None = None

    @property
    def level(self) -> str:
        """错误 or 警告, from the identifier."""
        return level_of(self.id)

    @property
    def field(self) -> str | None:
        """The column, when the rule reports on exactly one."""
        return self.fields[0] if len(self.fields) == 1 else None

    def templates(self, variant: str | None = None) -> tuple[str, str]:
        """(message, fix) templates of the rule or of one of its variants."""
        return (self.message, self.fix) if variant is None else self.variants[variant]

    def _names(self, variant: str | None) -> tuple[str, ...]:
        message, fix = self.templates(variant)
        return tuple(dict.fromkeys(field_names(message) + field_names(fix)))

    def _where(self, spec: S.SheetSpec | None, field_name: str | None, column: str | None
               ) -> tuple[S.SheetSpec, str]:
        spec = spec or self.sheet
        if spec is None:
            raise ValueError(f"{self.id} applies to several sheets: say which")
        if column is None:
            field_name = field_name or self.field
            column = _column(spec, field_name).header if field_name else ""
        return spec, column

    def problem(self, row: int | None, *, spec: S.SheetSpec | None = None, field: str | None = None,
                column: str | None = None, variant: str | None = None, **values) -> Problem:
        """One finding.

        :param row: the Excel row the clerk sees (``None``: the whole sheet).
        :param spec: the sheet, for a rule declared for several.
        :param field: the column (a field name), for a rule declared for several.
        :param column: the header to report instead (基本信息's 内容 column).
        :param variant: one of ``variants``.
        :param values: the template's fields (shown as a clerk reads them).
        """
        spec, column = self._where(spec, field, column)
        message, fix = self.templates(variant)
        context = {"sheet": spec.name, "header": column}
        context.update({k: shown(v) for k, v in values.items()})
        return Problem(spec.name, None if row is None else int(row), column, self.id, self.level,
                       message.format_map(context), fix.format_map(context))

    def flag(self, frame: pd.DataFrame, mask, *, spec: S.SheetSpec | None = None, field: str | None = None,
             variant: str | None = None, **values) -> list[Problem]:
        """One finding per row of ``frame`` where ``mask`` holds (nothing is built for the others).

        A template field is taken from ``values`` (a scalar; a Series aligned with ``frame``; or a
        function of the flagged rows returning one value per row), else from the flagged rows'
        column of that name.
        """
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return []
        rows = frame[mask]
        spec, column = self._where(spec, field, None)
        message, fix = self.templates(variant)
        context = {"sheet": spec.name, "header": column}
        per_row: dict[str, list[str]] = {}
        for name in self._names(variant):
            if name in values:
                v = values[name]
                if callable(v):
                    per_row[name] = [shown(x) for x in v(rows)]
                elif isinstance(v, pd.Series):
                    per_row[name] = [shown(x) for x in v.to_numpy()[mask]]
                else:
                    context[name] = shown(v)
            elif name not in context:
                per_row[name] = [shown(x) for x in rows[name].tolist()]
        out = []
        for i, r in enumerate(rows[ROW].tolist()):
            for name, col in per_row.items():
                context[name] = col[i]
            out.append(Problem(spec.name, int(r), column, self.id, self.level,
                               message.format_map(context), fix.format_map(context)))
        return out

    # -- the catalogue as printed ----------------------------------------------------------
    def scope(self) -> list[tuple[str, str]]:
        """(sheet, header) pairs the rule reports on; from the schema for a general rule."""
        if self.sheet is not None:
            return [(self.sheet.name, _column(self.sheet, f).header) for f in self.fields] or [(self.sheet.name, "")]
        return [(spec.name, header) for spec, header in _general_scope(self)]

    def shown_template(self, template: str) -> str:
        """A template with its fields named in Chinese: 户号「{户号}」不在「住户名册」中."""
        out = []
        for literal, name, _, _ in _FORMATTER.parse(template):
            out.append(literal)
            if name is not None:
                out.append("{" + self.field_label(name) + "}")
        return "".join(out)

    def field_label(self, name: str) -> str:
        if self.sheet is not None:
            try:
                return _column(self.sheet, name).header
            except KeyError:
                pass
        return FIELD_LABELS[name]

    def record(self) -> dict:
        """The rule as one object of ``jifen-xl rules --json``."""
        scope = self.scope()
        sheets = list(dict.fromkeys(s for s, _ in scope))
        if len(sheets) == 1:
            columns = "、".join(h for _, h in scope if h)
        else:
            columns = "、".join(f"{s}.{h}" if h else s for s, h in scope)
        out = {
            "规则编号": self.id,
            "级别": self.level,
            "工作表": "、".join(sheets),
            "列名": columns,
            "说明": self.description,
            "问题说明": self.shown_template(self.message),
            "修改建议": self.shown_template(self.fix),
            "适用范围": [{"工作表": s, "列名": h} for s, h in scope],
        }
        if self.variants:
            out["其他情形"] = [{"问题说明": self.shown_template(m), "修改建议": self.shown_template(f)}
                              for m, f in self.variants.values()]
        return out


def _input_sheets() -> tuple[S.SheetSpec, ...]:
    return tuple(s for s in S.CLERK_SHEETS if s.key != "settings")


def _general_scope(rule: Rule) -> Iterator[tuple[S.SheetSpec, str]]:
    """The columns a general (sheet-less) rule applies to: every column carrying its check that
    no sheet-specific rule has claimed."""
    for spec in _input_sheets():
        if rule.check == FORMAT and rule.format_type is None:
            yield spec, ""
            continue
        if rule.check == KEY:
            if spec.key_field and RULES.for_check(KEY, spec, spec.key_field) is rule:
                yield spec, spec.header_of(spec.key_field)
            continue
        for col in spec.columns:
            carries = {REQUIRED: col.required, CHOICE: bool(col.choices), LOOKUP: bool(col.lookup),
                       RANGE: col.bounds is not None, FORMAT: col.type == rule.format_type}[rule.check]
            if carries and (rule.check == FORMAT or RULES.for_check(rule.check, spec, col.field) is rule):
                yield spec, col.header
    if rule.check == FORMAT and rule.format_type is not None:
        for col in S.SETTINGS.kv_rows:
            if col.type == rule.format_type:
                yield S.SETTINGS, col.header


# -- the catalogue ------------------------------------------------------------------------
class Catalogue(Mapping[str, Rule]):
    """Every rule by 规则编号, in declaration order."""

    def __init__(self, rules: list[Rule]):
        self._rules: dict[str, Rule] = {}
        for r in rules:
            if r.id in self._rules:
                raise ValueError(f"rule {r.id} declared twice")
            self._rules[r.id] = r

    def __getitem__(self, rule_id: str) -> Rule:
        return self._rules[rule_id]

    def __iter__(self):
        return iter(self._rules)

    def __len__(self) -> int:
        return len(self._rules)

    @cached_property
    def _bound(self) -> dict[tuple[str, str | None, str | None], Rule]:
        out = {}
        for r in self._rules.values():
            if r.check in SCHEMA_CHECKS:
                if r.sheet is None:
                    out[(r.check, None, None)] = r
                else:
                    for f in r.fields:
                        out[(r.check, r.sheet.key, f)] = r
        return out

    def for_check(self, check: str, spec: S.SheetSpec, field_name: str) -> Rule:
        """The rule that reports ``check`` on ``spec.field_name``: the sheet's own, else the general one."""
        return self._bound.get((check, spec.key, field_name)) or self._bound[(check, None, None)]

    def is_format(self, rule_id: str) -> bool:
        """Whether findings of ``rule_id`` are about unreadable cells (they are not "empty" too)."""
        r = self._rules.get(rule_id)
        return r is not None and r.check == FORMAT

    def records(self) -> list[dict]:
        return [r.record() for r in self._rules.values()]


def _rule(rule_id: str, where: tuple | None, message: str, fix: str, description: str, *,
          check: str = DOMAIN, variants: Mapping[str, tuple[str | None, str | None]] | None = None,
          format_type: str | None = None) -> Rule:
    """Declare a rule; ``where`` is ``(SheetSpec, field, ...)`` or ``None`` (every column of a check)."""
    spec = where[0] if where else None
    fields = tuple(where[1:]) if where else ()
    known = dict(CONSTANTS)
    if spec is not None:
        known["sheet"] = spec.name
        if len(fields) == 1:
            col = _column(spec, fields[0])
            known["header"] = col.header
            if col.bounds:
                known["bounds"] = column_bounds_text(col)
            if col.lookup:
                target = S.sheet(col.lookup[0])
                known["target"] = target.name
                known["target_header"] = target.header_of(col.lookup[1])
    resolved = {name: (_resolve(m if m is not None else message, known), _resolve(f if f is not None else fix, known))
                for name, (m, f) in (variants or {}).items()}
    return Rule(rule_id, spec, fields, _resolve(message, known), _resolve(fix, known),
                _resolve(description, known), check, resolved, format_type)


_DUPLICATE = "{header}「{value}」重复（第 {first} 行已有）"
_NOT_IN = "{header}「{value}」不在「{target}」中"
_NEAR = {"near": (None, "{target}中的{target_header}是「{near}」：请把该列设为文本格式后按「{near}」输入")}

HH, IND, MEM, ENT, OBJ, GOODS, REC, EXC, SET = (S.HOUSEHOLDS, S.INDICATORS, S.MEMBERS, S.ENTRIES, S.OBJECTIONS,
                                                 S.GOODS, S.RECEIPTS, S.EXCHANGES, S.SETTINGS)
SEAL, SEALED, LED = S.SEALS, S.SEALED_ENTRIES, S.LEDGER
#: The remedy for every edit of a sealed month's entries (SPEC: a closed month is never edited again).
_SEALED_FIX = "已封账月份的登记不能再改：请把{header}改回 {sealed}；如需更正，请在未结账的月份新增一条登记，并在备注注明更正的登记编号「{entry_id}」"
_OWNED_FIX = "「{sheet}」由工具生成，封账后不能手工修改：请把{header}改回 {sealed}"
_RESTORE = "请从改动前的备份（工作簿旁「备份」文件夹中工具每次写入前保存的副本）恢复「{sheet}」；工具生成的工作表请勿手工修改"

RULES = Catalogue([
    # -- cells that cannot be read (found while reading and cleaning) ----------------------------
    _rule("E-FMT-INT", None, "「{value}」不是整数", "请填写阿拉伯数字整数，例如 3",
          "整数列里填了读不成整数的内容（文字、小数、带单位）", check=FORMAT, format_type=S.INT,
          variants={"settings": ("「{item}」的内容「{value}」不是整数", "请填写整数，例如 7"),
                    "settings_year": ("「{item}」的内容「{value}」不是整数", "请填写整数，例如 2026")}),
    _rule("E-FMT-NUMBER", None, "「{value}」不是数字", "请填写数字，例如 5 或 -2；不要带单位或文字",
          "数字列里填了读不成数字的内容（文字、单位）", check=FORMAT, format_type=S.NUMBER),
    _rule("E-FMT-DATE", None, "「{value}」不是有效日期", "请填写日期，例如 2026-03-05 或 2026年3月5日",
          "日期列里填了读不成日期的内容", check=FORMAT, format_type=S.DATE),
    _rule("E-FMT-FORMULA", None, "公式结果是错误值 {value}", "请检查该单元格的公式，或直接填写数值",
          "单元格的公式算出了错误值（#DIV/0!、#REF! 等）", check=FORMAT),
    _rule("E-FMT-NOCALC", None, "公式没有计算结果（文件保存时未重新计算）",
          "请在 Excel/WPS 中打开文件，按 F9 重新计算后保存；或直接填写数值",
          "单元格有公式但文件里没有它的计算结果，工具读到的是空", check=FORMAT),
    # -- what the schema declares, on every sheet ------------------------------------------------
    _rule("E-REQ", None, "「{header}」不能为空", "请填写「{header}」{hint}",
          "必填列留空", check=REQUIRED),
    _rule("E-CHOICE", None, "「{value}」不是有效的{header}", "请从下拉列表中选择：{choices}",
          "下拉列表列填了列表以外的值", check=CHOICE),
    _rule("E-KEY", None, _DUPLICATE, "每行的{header}必须唯一；请改为未用过的编号",
          "编号重复（各表专门的编号规则以外的表）", check=KEY),
    _rule("E-REF", None, _NOT_IN, "请填写「{target}」中已有的{target_header}",
          "引用的编号在被引用的表中不存在（各表专门的引用规则以外的列）", check=LOOKUP, variants=_NEAR),
    _rule("E-RANGE", None, "「{header}」{value} 不合理，应为{bounds}", "请改为{bounds}",
          "数值超出允许范围（各表专门的范围规则以外的列）", check=RANGE),
    # -- 基本信息 --------------------------------------------------------------------------------
    _rule("E-SET-01", (SET, "year"), "「{header}」未填写或不是四位年份",
          "请在「{header:settings.item}」为“{header}”的那一行的「{header:settings.value}」填写年份，例如 2026",
          "年度未填写，或不是{bounds}", check=RANGE),
    _rule("E-SET-02", (SET, "publicity_days"), "「{header}」{value} 不合理", "请填写{bounds}，一般为 7",
          "公示天数不是{bounds}", check=RANGE),
    _rule("W-SET-03", (SET, "village"), "「{header}」未填写", "请填写村名，公示和汇总时要用", "村名未填写"),
    # -- 住户名册 --------------------------------------------------------------------------------
    _rule("E-HH-01", (HH, "hh_id"), _DUPLICATE, "每户只能登记一行；请删除重复行或改正户号",
          "户号重复", check=KEY),
    _rule("W-HH-02", (HH, "carried_available"),
          "{header} {carried_available} 大于{header:households.carried_total} {carried_total}",
          "可用积分 = 累计积分 − 已兑换积分，不会大于累计积分；请核对上年台账",
          "上年可用积分大于上年累计积分"),
    # -- 积分指标 --------------------------------------------------------------------------------
    _rule("E-IND-01", (IND, "code"), "{header}「{value}」与第 {first} 行的有效期重叠",
          "同一编码可以有多行（用于调整分值），但有效期不能重叠；请设置前一行的{header:indicators.valid_to}",
          "同一指标编码的几行有效期重叠", check=KEY),
    _rule("E-IND-02", (IND, "points"), "{kind}的{header}应为负数，这里是 {points}", "请把{header}改为 -{points}",
          "扣分项目的分值不是负数，或加分项目的分值是负数",
          variants={"reward": ("{kind}的{header}应为正数，这里是 {points}",
                               "扣分请放在“{deduct}”下；或把{header}改为正数")}),
    _rule("E-IND-03", (IND, "valid_to"),
          "{header:indicators.valid_from} {valid_from} 晚于{header} {valid_to}",
          "请改正日期：{header}应不早于{header:indicators.valid_from}", "生效日期晚于失效日期"),
    _rule("W-IND-04", (IND, "name"), "{kind}「{name}」涉及补贴或集体收益（「{word}」）",
          "区委通知规定：惩罚措施不得剥夺农民依法享有的政府补贴和集体经济收益等，请修改该指标",
          "扣分项目涉及政府补贴或集体经济收益"),
    _rule("W-IND-05", (IND, "points"), "{header}为 0，登记后不产生积分", "请填写{header}，或删除该指标",
          "指标分值为 0"),
    _rule("E-IND-06", (IND, "cap_month", "cap_year"), "上限 {value} 应为{bounds}（按绝对值计）",
          "请填写{bounds}，或留空表示不设上限", "每月上限或每年上限不是正数", check=RANGE),
    # -- 小组成员 --------------------------------------------------------------------------------
    _rule("E-GRP-01", (MEM, "group"), "{group}在 {day} 有 {count} 人，应为 {group_size} 人",
          "按区委通知，{group}由 {group_size} 人组成；请增减成员或填写任期",
          "{review_group}或{supervise_group}在任人数不是 {group_size} 人"),
    _rule("E-GRP-02", (MEM, "group"), "「{name}」同时在{review_group}和{supervise_group}（另见第 {other} 行）",
          "评议和监督须由不同的人担任；请从其中一个小组删除此人", "同一人任期内同时在两个小组"),
    # -- 积分登记 --------------------------------------------------------------------------------
    _rule("E-ENT-01", (ENT, "entry_id"), _DUPLICATE, "每条登记的编号必须唯一；请改为未用过的编号",
          "登记编号重复", check=KEY),
    _rule("E-ENT-02", (ENT, "hh_id"), _NOT_IN, "请先在「{target}」登记该户，或改正户号",
          "登记的户号不在住户名册中", check=LOOKUP, variants=_NEAR),
    _rule("E-ENT-03", (ENT, "code"), _NOT_IN, "请从下拉列表选择「{target}」中的编码",
          "登记的指标编码不在积分指标中", check=LOOKUP),
    _rule("E-ENT-04", (ENT, "code"), "指标「{code}」在 {date} 不在有效期内", "请核对登记日期，或选用当时有效的指标编码",
          "登记日期不在该指标的有效期内"),
    _rule("E-ENT-05", (ENT, "date"), "{header} {date} 不在 {year} 年度内",
          "本工作簿只登记 {year} 年的积分；请改正日期或登记到对应年度的工作簿", "登记日期不在工作簿的年度内"),
    _rule("E-ENT-06", (ENT, "qty"), "{header} {value} 不是{bounds}", "{header}填 1、2、3 这样的{bounds}；留空按 1 计",
          "数量不是{bounds}", check=RANGE),
    _rule("E-ENT-07", (ENT, "points"),
          "{header} {points} 与 {header:entries.qty}×{header:indicators.points} = {count_qty}×{item_value} = {computed} 不符",
          "请改为 {computed}，或清空「{header}」由工具计算；如经异议更正，请在「{sheet:objections}」登记；"
          "更正已结账月份的登记时，在「{header:entries.note}」写明被更正的登记编号，「{header}」填要加上或减去的差额",
          "填写的积分不等于 数量 × 登记当天的分值"),
    _rule("W-ENT-08", (ENT, "head"),
          "{header}「{head}」与{sheet:households}中{header:entries.hh_id}「{hh_id}」的户主「{registered}」不一致",
          "请核对{header:entries.hh_id}和{header}", "户主姓名与住户名册不一致"),
    _rule("W-ENT-09", (ENT, "item_name"),
          "{header}「{item_name}」与{sheet:indicators}中「{code}」的名称「{catalogue_name}」不一致",
          "请核对{header:entries.code}和{header}", "指标名称与积分指标不一致"),
    _rule("E-ENT-10", (ENT, "scorers"), "{header}「{scorer}」不是「{sheet:members}」中{review_group}的成员",
          "{header}须是当时在任的{review_group}成员；多人用顿号“{joiner}”分隔",
          "评议人不是积分评议小组成员，或登记当天不在任期内",
          variants={"term": ("{header}「{scorer}」在 {day} 不在{review_group}任期内", None)}),
    _rule("E-ENT-11", (ENT, "scorers"), "{header}「{scorer}」为本户（户号「{hh_id}」）评分，应当回避",
          "请改由其他评议小组成员评分", "评议人给自己家评分（应当回避）"),
    _rule("E-ENT-12", (ENT, "points"),
          "户号「{hh_id}」的指标「{code}」累计 {total} 分后超过{header:indicators.cap_month} {cap} 分（从本行起超出）",
          "请核对是否重复登记；超出{header:indicators.cap_month}的部分不能计分，请调整数量或撤销本条",
          "一户一个指标一个月的积分超过每月上限"),
    _rule("E-ENT-13", (ENT, "points"),
          "户号「{hh_id}」的指标「{code}」累计 {total} 分后超过{header:indicators.cap_year} {cap} 分（从本行起超出）",
          "请核对是否重复登记；超出{header:indicators.cap_year}的部分不能计分，请调整数量或撤销本条",
          "一户一个指标一年的积分超过每年上限"),
    _rule("W-ENT-14", (ENT, "hh_id"), "户号「{hh_id}」在{sheet:households}中的状态为「{hh_status}」",
          "已迁出或注销的户一般不再登记积分；请核对", "给已迁出或注销的户登记积分"),
    _rule("W-ENT-15", (ENT, "evidence"), "扣分没有填写{header}", "扣分须有据可查：请注明照片、记录或证人等{header}",
          "扣分没有证明材料"),
    _rule("E-ENT-16", (ENT, "status"), "登记「{entry_id}」已确认，但「{sheet:objections}」中还有未处理的异议",
          "请先处理完异议（填写{header:objections.result}），再把状态改为已确认",
          "登记已确认，但它的异议还没有处理"),
    # -- 异议处理 --------------------------------------------------------------------------------
    _rule("E-OBJ-01", (OBJ, "entry_id"), _NOT_IN, "请填写被提出异议的那条登记的编号",
          "异议的登记编号不在积分登记中", check=LOOKUP),
    _rule("E-OBJ-02", (OBJ, "corrected_points"), "{header:objections.result}为“{correct}”，但没有填写{header}",
          "请填写更正后的积分（扣分填负数）", "处理结果为更正，却没有更正后积分"),
    _rule("E-OBJ-03", (OBJ, "objection_id"), _DUPLICATE, "每条异议的编号必须唯一；请改为未用过的编号",
          "异议编号重复", check=KEY),
    _rule("W-OBJ-04", (OBJ, "resolved_on"), "已有{header:objections.result}，但没有{header}",
          "请填写{header}，便于监督管理小组核查", "异议已有处理结果，但没有处理日期"),
    _rule("E-OBJ-05", (OBJ, "corrected_points"),
          "{header} {corrected_points} 与被更正登记的{header:indicators.kind}正负不符",
          "{deduct}更正后填负数或 0，加分项目填正数或 0", "更正后积分与被更正登记的加分/扣分方向相反"),
    _rule("E-OBJ-06", (OBJ, "resolved_on"),
          "登记「{entry_id}」有 {decisions} 个处理结果（第 {rows} 行），本行没有{header}，无法确定以哪个为准",
          "请填写{header}：同一条登记有多个处理结果时，以{header}最晚的为准",
          "同一条登记有几个处理结果，其中有的没有处理日期，无法排出先后"),
    # -- 封账 (issue 9): a sealed month is never edited again ----------------------------------------
    _rule("E-SEAL-01", (ENT, "date", "hh_id", "code", "qty", "points", "status"),
          "登记「{entry_id}」属于已封账的 {month}：{header}封账时为 {sealed}，现在是 {current}", _SEALED_FIX,
          "已封账月份的登记被改动（日期、户号、指标编码、数量、积分或状态）",
          variants={"points": ("登记「{entry_id}」属于已封账的 {month}：计入的{header}封账时为 {sealed}，现在是 {current}"
                               "（积分、数量、{sheet:indicators}的分值或「{sheet:objections}」的处理结果被改动）",
                               "已封账月份的积分不能再改：请恢复原来的积分、数量、分值或异议处理结果；如需更正，请在未结账的月份"
                               "新增一条登记，并在备注注明更正的登记编号「{entry_id}」")}),
    _rule("E-SEAL-02", (SEALED, "entry_id"),
          "已封账的 {month} 的登记「{entry_id}」已从「{sheet:entries}」中删除（本行是封账时的记录）",
          "已封账月份的登记不能删除：请按本行把这条登记恢复到「{sheet:entries}」（{header:entries.date} {date}、"
          "{header:entries.hh_id}「{hh_id}」、{header:entries.code}「{code}」）；如需更正，请在未结账的月份新增一条登记，"
          "并在备注注明更正的登记编号「{entry_id}」",
          "已封账月份的登记从积分登记中被删除"),
    _rule("E-SEAL-03", (ENT, "date"), "{header} {current} 在已封账的 {month} 内，但登记「{entry_id}」封账时没有",
          "已封账的月份不能再补登记或改入：请把{header}改为未结账月份的日期，并在备注注明实际发生的日期；"
          "如果是日期填错了，请改回原来的日期",
          "登记新增到、或把日期改到已封账的月份"),
    _rule("E-SEAL-04", (SEAL, "digest"),
          "{month} 的{header}与「{sheet:sealed_entries}」「{sheet:ledger}」中这个月的内容不符：封账后这些行或{header}被改动过",
          "请从改动前的备份（工作簿旁「备份」文件夹中工具每次写入前保存的副本）恢复「{sheet}」「{sheet:sealed_entries}」"
          "「{sheet:ledger}」；工具生成的工作表请勿手工修改",
          "封账记录的摘要与该月的封账明细、月度台账不符（链断开）",
          variants={"edited": ("{month} 的{header}被改动过：下一行的上月摘要仍是封账时的 {sealed}", _OWNED_FIX)}),
    _rule("E-SEAL-05", (SEALED, "entry_id", "date", "hh_id", "code", "qty", "points", "status"),
          "{month} 登记「{entry_id}」的{header}是 {current}，封账时为 {sealed}（「{sheet:entries}」中仍为 {sealed}）",
          _OWNED_FIX, "封账明细的行被手工改动、删除或添加",
          variants={"missing": ("少了 {month} 的登记「{entry_id}」（「{sheet:entries}」中仍有，封账时也有）",
                                "「{sheet}」由工具生成，封账后不能手工修改：" + _RESTORE.replace("恢复「{sheet}」", "恢复这一行")),
                    "extra": ("{month} 多了一行登记「{entry_id}」，封账时没有",
                              "「{sheet}」由工具生成，封账后不能手工修改：请删除这一行")}),
    _rule("E-SEAL-06", (SEAL, "previous"),
          "{month} 的{header}与上一行的摘要不符：封账记录的行被删除、调换或改动过",
          _RESTORE, "封账记录的上月摘要与上一行的摘要不符（链断开：行被删除、调换或改动）"),
    _rule("E-SEAL-07", (SEAL, "code"), "{month} 的{header}「{current}」与摘要不符，应为 {sealed}", _OWNED_FIX,
          "封账记录的校验码与摘要不符"),
    _rule("E-SEAL-08", (SEAL, "month"), "{month} 封账了两次（{header}重复）", _RESTORE,
          "封账记录的月份重复、次序颠倒，或封账明细中的月份没有封账记录",
          variants={"order": ("{header} {month} 排在 {prior} 之后：封账记录应按月份先后排列", None),
                    "missing": ("「{sheet:sealed_entries}」中有 {month} 的登记（第 {first} 行起），但这里没有这个月的封账记录",
                                None)}),
    _rule("E-SEAL-09", (LED, "hh_id", "month_total", "cumulative", "available"),
          "已封账的 {month} 户号「{hh_id}」的{header}是 {current}，封账时为 {sealed}", _OWNED_FIX,
          "已封账月份的月度台账被手工改动（数字改动、行被删除或添加）",
          variants={"missing": ("已封账的 {month} 户号「{hh_id}」的一行被删除了",
                                "「{sheet}」由工具生成，封账后不能手工修改：" + _RESTORE.replace("恢复「{sheet}」", "恢复这一行")),
                    "extra": ("已封账的 {month} 多了户号「{hh_id}」的一行，封账时没有",
                              "「{sheet}」由工具生成，封账后不能手工修改：请删除这一行")}),
    _rule("E-SEAL-10", (EXC, "date"),
          "兑换「{exchange_id}」的{header} {date} 在已封账的 {month} 内：户号「{hh_id}」这个月的可用积分封账时为 {sealed}，"
          "按现在的兑换重算为 {current}",
          "已封账月份的兑换不能再补记或改动：补记的兑换请把{header}改为未结账月份的日期（在备注注明实际兑换的日期）；"
          "改动过的兑换请恢复原来的内容",
          "兑换补记到、或在已封账的月份被改动（已封账月份的可用积分因此不符）"),
    _rule("W-SEAL-01", (ENT, "status"),
          "{month} 已经结账（「{sheet:ledger}」中有这个月，或之后的月份已封账），有 {entry_count} 条已确认的登记（从本行起），"
          "但这个月没有封账记录，事后改动无法查出",
          "手工或用本工具之前结账的月份可以不处理；以后用 jifen-xl close 结账的月份会自动封账",
          "已结账却没有封账记录的月份（手工结账，或村里用本工具之前结账）"),
    # -- 爱心超市 --------------------------------------------------------------------------------
    _rule("E-EXC-01", (EXC, "hh_id"), _NOT_IN, "请改正户号", "兑换的户号不在住户名册中",
          check=LOOKUP, variants=_NEAR),
    _rule("E-EXC-02", (EXC, "goods_id"), _NOT_IN, "请从下拉列表选择{header}", "兑换的商品编码不在商品目录中",
          check=LOOKUP),
    _rule("E-EXC-03", (EXC, "points"), "户号「{hh_id}」兑换后可用积分为 {balance}，积分不足",
          "只能用已确认的积分兑换；请核对兑换数量或日期", "兑换用掉的积分超过该户当时的可用积分"),
    _rule("E-EXC-04", (EXC, "date"), "{header} {date} 不在 {year} 年度内", "请改正日期", "兑换日期不在工作簿的年度内"),
    _rule("E-EXC-05", (EXC, "qty"), "{header} {value} 不是{bounds}", "兑换{header}填 1、2、3 这样的{bounds}",
          "兑换数量不是{bounds}", check=RANGE),
    _rule("E-EXC-06", (EXC, "points"), "{header} {value} 应为{bounds}",
          "填写这次兑换用掉的积分（正数），退货请在备注说明并删除原兑换行", "消耗积分不是{bounds}", check=RANGE),
    _rule("E-EXC-07", (EXC, "qty"),
          "兑换「{exchange_id}」换出「{goods_name}」（{goods_id}）{qty} {unit}，但 {date} 当天库存只有 {stock} {unit}，兑换后库存为负",
          "请先在「{sheet:receipts}」登记这批物资的入库（入库日期不晚于兑换日期），或核对这次兑换的商品编码、数量和日期",
          "兑换数量超过该商品兑换当天的库存"),
    _rule("E-EXC-08", (EXC, "points"),
          "{header} {value} 与数量 {qty} × 兑换积分 {price} = {expected} 不符",
          "请把{header}改为 {expected}（「{sheet:goods}」中「{goods_name}」每{unit}兑换积分为 {price}）",
          "消耗积分不等于数量 × 商品目录中的兑换积分"),
    _rule("E-EXC-09", (EXC, "hh_id"),
          "户号「{hh_id}」（{hh_head}）在「{sheet:households}」中的状态是「{hh_status}」，已不能兑换",
          "请核对户号是否填错；该户确已迁出或注销的，这次兑换不能记在该户名下，请删除这一行",
          "已迁出或注销的住户兑换"),
    _rule("E-RCV-01", (REC, "donor"), "入库「{receipt_id}」没有填写{header}",
          "请填写提供物资或资金的单位或个人（财政补贴填拨款单位，如区财政局、镇人民政府）",
          "物资入库没有填写捐赠方"),
    _rule("W-GDS-01", (GOODS, "alert_level"),
          "「{name}」（{goods_id}）{month} 月末库存为 {closing}，不高于{header} {alert_level}",
          "请及时补货，到货后在「{sheet:receipts}」登记入库",
          "商品最近一个月的月末库存不高于预警库存"),
])


def catalogue_rows() -> list[list[str]]:
    """The catalogue as the rows of ``jifen-xl rules``: 规则编号, 级别, 工作表, 列名, 说明."""
    rows = []
    for r in RULES.values():
        scope = r.scope()
        sheets = list(dict.fromkeys(s for s, _ in scope))
        headers = list(dict.fromkeys(h for _, h in scope if h))
        sheet_text = sheets[0] if len(sheets) == 1 else f"{sheets[0]}等 {len(sheets)} 个工作表"
        column_text = "、".join(headers) if len(headers) <= 2 else f"{headers[0]}等 {len(headers)} 列"
        rows.append([r.id, r.level, sheet_text, column_text, r.description])
    return rows


#: The columns of ``jifen-xl rules``.
CATALOGUE_HEADERS = ["规则编号", "级别", "工作表", "列名", "说明"]

__all__ = ["RULES", "Rule", "Catalogue", "shown", "bounds_text", "field_names", "catalogue_rows", "CATALOGUE_HEADERS",
           "REQUIRED", "CHOICE", "KEY", "LOOKUP", "RANGE", "FORMAT", "DOMAIN"]
