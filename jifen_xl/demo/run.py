"""The demo end to end: build the demonstration village, write a clean and a wrong workbook,
validate both, compute the ledger, and tell the clerk what happened (Chinese lines)."""

from __future__ import annotations

import time
from pathlib import Path

from .. import app
from .. import schema as S
from ..errors import JifenError
from ..io.template import build_workbook
from ..render import text_table
from .mistakes import planted_mistakes
from .village import CHANGED_ITEM, DISTRICT, TOWNSHIP, VILLAGE, generate_village


def _table(headers: list[str], rows: list[list]) -> list[str]:
    return text_table(headers, rows, indent="  ")


def _num(x) -> str:
    x = float(x)
    return str(int(x)) if x.is_integer() else f"{x:g}"


def run_demo(directory, households: int = 320, seed: int = 2026, *, district: str = DISTRICT,
             township: str = TOWNSHIP, village: str = VILLAGE, year: int = 2026):
    """Build the demo village, write a clean and a wrong workbook, validate both, compute the ledger.

    A generator of Chinese lines for the clerk (the CLI prints them as they come). It drives the
    app like the CLI does, so it pauses the garbage collector around each app call itself.

    :param directory: folder for the two workbooks (created if missing). Existing files are never
        overwritten.
    :param households: number of households.
    :param seed: the same seed gives the same village.
    :param district: 区县; ``township``: 镇街; ``village``: 村 (the workbooks are named after it).
    :param year: the workbooks' year.
    """
    start = time.perf_counter()
    folder = Path(directory)
    clean_path = folder / f"{village}-{year}.xlsx"
    wrong_path = folder / f"{village}-{year}-有错误.xlsx"
    if folder.exists() and not folder.is_dir():
        raise JifenError(f"「{folder}」是一个文件，不是文件夹。请换一个文件夹名。")
    existing = [p.name for p in (clean_path, wrong_path) if p.exists()]
    if existing:
        raise JifenError(f"文件夹「{folder}」中已有「{'」「'.join(existing)}」。为避免覆盖，示范不会改写它们；"
                         f"请换一个空文件夹，或先把这些文件移走。")
    folder.mkdir(parents=True, exist_ok=True)

    settings, tables = generate_village(households=households, seed=seed, year=year, district=district,
                                        township=township, village=village)
    hh, ent, obj, ex, rc = (tables[k] for k in ("households", "entries", "objections", "exchanges", "receipts"))
    place = f"{settings['district']}{settings['township']}{settings['village']}"
    last_month = int(ent["date"].dt.month.max())
    outcomes = obj["result"].fillna("待处理").value_counts()
    yield f"生成示范村：{place} {year} 年度（随机种子 {seed}，相同种子生成相同数据）"
    yield (f"  住户 {len(hh)} 户：非本村户籍常住 {int((hh['hukou'] == S.HUKOU_TYPES[1]).sum())} 户，"
           f"迁出 {int((hh['status'] == '迁出').sum())} 户，注销 {int((hh['status'] == '注销').sum())} 户")
    yield (f"  积分指标 {len(tables['indicators'])} 行（区委通知附件的参考指标；「{CHANGED_ITEM}」"
           f"7 月 1 日起经村民代表会议由 3 分调为 5 分）")
    yield (f"  积分登记 {len(ent)} 条：1—{last_month - 1} 月已确认，{last_month} 月公示中；"
           f"异议 {len(obj)} 条（" + "、".join(f"{k} {outcomes.get(k, 0)}" for k in
                                               (*S.OBJECTION_RESULTS, "待处理")) + "）")
    yield (f"  爱心超市：商品 {len(tables['goods'])} 种，入库 {len(rc)} 笔（{'、'.join(S.FUNDING_SOURCES)}），"
           f"兑换 {len(ex)} 笔")

    build_workbook(clean_path, settings, tables)
    yield f"已写入工作簿：{clean_path}"
    wrong_tables, mistakes = planted_mistakes(tables)
    build_workbook(wrong_path, settings, wrong_tables)
    yield f"已写入有错误的工作簿：{wrong_path}（故意设置了 {len(mistakes)} 处常见错误）："
    for n, m in enumerate(mistakes, 1):
        yield f"  {n:>2}. {m.text}"

    yield ""
    with app.collector_paused():
        clean = app.validate_book(app.open_backend(clean_path))
    rep = clean.report
    yield (f"校验「{clean_path.name}」：{len(rep.errors)} 个错误、{len(rep.warnings)} 个警告"
           + ("。" if rep.valid else "——示范数据本不该有错误，请把下列内容发给技术人员："))
    for p in rep.errors:
        yield f"  {p.sheet} 第 {p.row or '—'} 行「{p.column}」：{p.message}（{p.rule}）"
    with app.collector_paused():
        wrong = app.validate_book(app.open_backend(wrong_path)).report
    yield (f"校验「{wrong_path.name}」：{len(wrong.errors)} 个错误、{len(wrong.warnings)} 个警告，"
           f"已写入其「{S.FINDINGS.name}」工作表：")
    for p in wrong.problems:
        yield f"  [{p.level}] {p.sheet} 第 {p.row or '—'} 行「{p.column}」：{p.message}（{p.rule}）"
        yield f"        修改建议：{p.fix}"
    found = {(p.sheet, p.row, p.rule) for p in wrong.problems}
    missed = [m for m in mistakes if not m.expected() <= found]
    yield (f"故意设置的 {len(mistakes)} 处错误全部被找到。" if not missed else
           f"有 {len(missed)} 处故意设置的错误没有被找到：" + "；".join(m.text for m in missed))

    yield ""
    # The last month is still under publicity (and has an open objection): it cannot be closed
    # yet (SPEC), so the ledger runs through the last settled month by default.
    with app.collector_paused():
        result = app.ledger_book(app.open_backend(clean_path))
    led = result.ledger
    if result.unsettled:
        n_open = int(obj["result"].isna().sum())
        pending = f"（还有 {n_open} 条异议待处理）" if n_open else ""
        yield (f"{'、'.join(result.unsettled)} 的登记仍在公示期内{pending}，不能关账；"
               f"月度台账计算到 {result.through}。")
    yield (f"生成月度台账：{led['month'].nunique()} 个月 × {led['hh_id'].nunique()} 户 = {len(led)} 行，"
           f"已写入「{S.LEDGER.name}」工作表。")
    top = led[led["month"] == result.through].head(5)
    yield f"{result.through} 村内排名前 5 户："
    yield from _table(["排名", "户号", "户主姓名", "当月积分", "累计积分", "累计兑换", "可用积分"],
                      [[int(r.rank), r.hh_id, r.head, _num(r.month_total), _num(r.cumulative), _num(r.spent),
                        _num(r.available)] for r in top.itertuples(index=False)])
    yield ""
    yield "输出文件："
    yield f"  {clean_path}（无错误，含校验结果和月度台账）"
    yield f"  {wrong_path}（含 {len(mistakes)} 处故意设置的错误及其校验结果）"
    backups = [b for b in (getattr(w, "backup", None) for w in (clean.written, result.written)) if b]
    if backups:
        yield f"  每次写入前，原文件都已自动备份到「{Path(backups[0]).parent}」。"
    yield f"全部完成，用时 {time.perf_counter() - start:.1f} 秒。"
