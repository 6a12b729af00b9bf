"""The demo end to end: build the demonstration village (every entry 待公示, as its clerk typed
it) and a copy with planted mistakes, run the monthly cycle on the clean one as a clerk would
from the CLI (publish, objections decided, close with its seal, month by month; the last month
published with its notice as PDF, HTML and WeChat text and left under publicity with an open
objection), verify the seals, validate both workbooks, and tell the clerk what happened (Chinese
lines)."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

from .. import app
from .. import schema as S
from ..core.ledger import month_span, month_words
from ..errors import JifenError, ValidationFailed
from ..io.pdf import find_soffice
from ..io.template import build_workbook
from ..render import text_table
from .mistakes import planted_mistakes
from .village import CHANGED_ITEM, DISTRICT, TOWNSHIP, VILLAGE, cycle_days, generate_village


def _table(headers: list[str], rows: list[list]) -> list[str]:
    return text_table(headers, rows, indent="  ")


def _num(x) -> str:
    x = float(x)
    return str(int(x)) if x.is_integer() else f"{x:g}"


def _day(ts) -> str:
    return f"{ts.month} 月 {ts.day} 日"


def notice_paths(folder: Path, village: str, year: int, month: int) -> dict[str, Path]:
    """The last month's notice files the demo writes beside the workbooks, by kind."""
    stem = f"{village}-{year}-{month:02d}月公示"
    return {kind: folder / f"{stem}.{ext}" for kind, ext in (("pdf", "pdf"), ("html", "html"), ("wechat", "txt"))}


def shop_notice_paths(folder: Path, village: str, year: int, month: int) -> dict[str, Path]:
    """The love supermarket's posting of ``month`` (物资接收与兑换公示) the demo writes, by kind."""
    stem = f"{village}-{year}-{month:02d}月超市公示"
    return {kind: folder / f"{stem}.{kind}" for kind in ("pdf", "html")}


#: Households of the demo township's villages besides the demo village (small, so the demo stays
#: quick); the second one's workbook carries the planted mistakes (已拒绝).
TOWNSHIP_HOUSEHOLDS = (60, 90, 120)


def township_villages(village: str) -> list[str]:
    """The demo township's other villages: the first names of ``demo.township.VILLAGE_NAMES``
    that are not the demo village's."""
    from .township import VILLAGE_NAMES

    return [n for n in VILLAGE_NAMES if n != village][:len(TOWNSHIP_HOUSEHOLDS)]


def township_paths(folder: Path, township: str, year: int, pdf: bool) -> dict[str, Path]:
    """Where the demo puts its township: the villages' folder, the township workbook, the report."""
    stem = f"{township}{year}年积分汇总"
    return {"villages": folder / f"{township}各村", "book": folder / f"{stem}.xlsx",
            "report": folder / f"{stem}报告.{'pdf' if pdf else 'html'}"}


def run_demo(directory, households: int = 320, seed: int = 2026, *, district: str = DISTRICT,
             township: str = TOWNSHIP, village: str = VILLAGE, year: int = 2026, pdf: bool | None = None):
    """Build the demo village, write a clean and a wrong workbook, run the monthly cycle on the
    clean one, verify and validate both.

    A generator of Chinese lines for the clerk (the CLI prints them as they come). It drives the
    app like the CLI does, so it pauses the garbage collector around each app call itself.

    :param directory: folder for the two workbooks and the last month's notice files (created if
        missing). Existing files are never overwritten.
    :param households: number of households.
    :param seed: the same seed gives the same village.
    :param district: 区县; ``township``: 镇街; ``village``: 村 (the workbooks are named after it).
    :param year: the workbooks' year.
    :param pdf: print the last month's notice to PDF (LibreOffice headless); default: when
        LibreOffice is installed (otherwise the demo says how to print it later).
    """
    started = time.perf_counter()
    folder = Path(directory)
    clean_path = folder / f"{village}-{year}.xlsx"
    wrong_path = folder / f"{village}-{year}-有错误.xlsx"
    buttons_path = clean_path.with_suffix(".xlsm")
    if folder.exists() and not folder.is_dir():
        raise JifenError(f"「{folder}」是一个文件，不是文件夹。请换一个文件夹名。")

    settings, tables = generate_village(households=households, seed=seed, year=year, district=district,
                                        township=township, village=village)
    hh, ent, obj, ex, rc = (tables[k] for k in ("households", "entries", "objections", "exchanges", "receipts"))
    last_month = int(ent["date"].dt.month.max())
    notices = notice_paths(folder, village, year, last_month)
    no_lo = pdf is None and find_soffice() is None
    if pdf is None:
        pdf = not no_lo
    shop_notices = shop_notice_paths(folder, village, year, last_month - 1) if last_month > 1 else {}
    if not pdf:
        notices.pop("pdf")
        shop_notices.pop("pdf", None)
    town = township_paths(folder, township, year, pdf)
    existing = [p.name for p in (clean_path, buttons_path, wrong_path, *notices.values(), *shop_notices.values(), *town.values())
                if p.exists()]
    if existing:
        raise JifenError(f"文件夹「{folder}」中已有「{'」「'.join(existing)}」。为避免覆盖，示范不会改写它们；"
                         f"请换一个空文件夹，或先把这些文件移走。")
    folder.mkdir(parents=True, exist_ok=True)

    place = f"{settings['district']}{settings['township']}{settings['village']}"
    outcomes = obj["result"].fillna("待处理").value_counts()
    yield f"生成示范村：{place} {year} 年度（随机种子 {seed}，相同种子生成相同数据）"
    yield (f"  住户 {len(hh)} 户：非本村户籍常住 {int((hh['hukou'] == S.HUKOU_TYPES[1]).sum())} 户，"
           f"迁出 {int((hh['status'] == '迁出').sum())} 户，注销 {int((hh['status'] == '注销').sum())} 户")
    yield (f"  积分指标 {len(tables['indicators'])} 行（区委通知附件的参考指标；「{CHANGED_ITEM}」"
           f"7 月 1 日起经村民代表会议由 3 分调为 5 分）")
    yield (f"  积分登记 {len(ent)} 条（1—{last_month} 月，录入时都是“{S.ENTRY_PENDING}”）；"
           f"异议 {len(obj)} 条（" + "、".join(f"{k} {outcomes.get(k, 0)}" for k in
                                               (*S.OBJECTION_RESULTS, "待处理")) + "）")
    yield (f"  爱心超市：商品 {len(tables['goods'])} 种，入库 {len(rc)} 笔（{'、'.join(S.FUNDING_SOURCES)}），"
           f"兑换 {len(ex)} 笔")

    build_workbook(clean_path, settings, tables)
    yield f"已写入工作簿：{clean_path}"
    # the same village as a workbook with the buttons, before the walk-through below: the clerk
    # presses 生成公示, 封账 … in Windows Excel to walk the same months (it takes the committed
    # standard workbook's VBA project, as `new NAME.xlsm` does)
    app.new_book(buttons_path, settings, tables=tables)
    yield (f"已写入带按钮的工作簿：{buttons_path}（内容与上面的 .xlsx 相同，还没有公示和结账；"
           f"在 Windows 版 Excel 中打开，按“{S.HELP_SHEET_NAME}”中的按钮自己走一遍）")
    wrong_tables, mistakes = planted_mistakes(tables)
    build_workbook(wrong_path, settings, wrong_tables)
    yield f"已写入有错误的工作簿：{wrong_path}（故意设置了 {len(mistakes)} 处常见错误）："
    for n, m in enumerate(mistakes, 1):
        yield f"  {n:>2}. {m.text}"

    # -- the monthly cycle on the clean workbook, as the clerk runs it from the CLI ----------
    yield ""
    start1, end1, close1 = cycle_days(year, 1)
    yield (f"按月走一遍公示、异议、结账（每月 {start1.day} 日发布公示，公示 {settings['publicity_days']} 天；"
           f"公示期满、异议处理完后结账封存）：")
    rows = []
    first_backup, done = None, None
    for month in range(1, last_month):
        label = f"{year}-{month:02d}"
        start, end, close = cycle_days(year, month)
        with app.collector_paused():
            pub = app.publish_book(app.open_backend(clean_path), month=label, start=start.date(), today=start.date())
        first_backup = first_backup or getattr(pub.written, "backup", None)
        # the review group's decisions on the month's objections are in 异议处理 already
        with app.collector_paused():
            done = app.close_book(app.open_backend(clean_path), month=label, date=close.date(), today=close.date())
        objected = int(obj["entry_id"].isin(set(ent.loc[ent["date"].dt.month == month, "entry_id"])).sum())
        rows.append([label, f"{_day(start)}—{_day(end)}", pub.entries, len(pub.filled), objected,
                     f"{done.corrected}/{done.withdrawn}", _day(close), _num(done.totals["total"]), done.code])
    yield from _table(["月份", "公示期", "公示条数", "补算积分", "异议", "更正/撤销", "结账日期", "当月积分合计", "校验码"],
                      rows)

    label = f"{year}-{last_month:02d}"
    start, end, close = cycle_days(year, last_month)
    with app.collector_paused():
        pub = app.publish_book(app.open_backend(clean_path), month=label, start=start.date(), today=start.date(),
                               **{k: str(v) for k, v in notices.items()})
    with app.collector_paused():
        still_open = app.objections_book(app.open_backend(clean_path), month=label)
    yield (f"{label} 已发布公示：{pub.entries} 条登记、{pub.households} 户，公示期 {pub.start.isoformat()} 至 "
           f"{pub.end.isoformat()}，异议向{pub.contact}（{pub.phone}）提出；{pub.end.isoformat()} 之前不能结账。")
    for o in still_open:
        yield (f"  异议 {o.objection_id}（「{S.OBJECTIONS.name}」第 {o.row} 行）：{o.raised_by} {o.raised_on.isoformat()} "
               f"对登记 {o.entry_id}（户号「{o.hh_id}」{o.head}）提出「{o.content}」，正在调查核实，"
               f"处理完之前这个月不能结账（jifen-xl objections 列出未处理的异议）。")
    yield f"  公示已填入工作簿的「{S.NOTICE_SHEET_NAME}」工作表，并写在工作簿旁边："
    names = {"pdf": "打印张贴用（PDF）", "html": "公众号网页（HTML）", "wechat": "微信群文字"}
    for kind, path in notices.items():
        yield f"    {path}（{names[kind]}）"
    if not pdf:
        yield (f"    （{'没有找到 LibreOffice，' if no_lo else ''}没有生成 PDF。打印用的 PDF 要用 LibreOffice 生成，可运行：jifen-xl notice \"{clean_path}\" --month {label} "
               f"--pdf \"{folder / (notices['html'].stem + '.pdf')}\"）")

    with app.collector_paused():
        verified = app.verify_book(app.open_backend(clean_path))
    sealed = [m.month for m in verified.months]
    yield ((f"核对封账记录：{_months(sealed)}共 {len(sealed)} 个月的封账链完整，结账后没有改动"
            if verified.intact else f"核对封账记录：发现 {len(verified.findings)} 处改动——示范数据本不该有改动，请把下列内容发给技术人员：")
           if sealed else "核对封账记录：没有已封账的月份。")
    for p in verified.findings:
        yield f"  {p.sheet} 第 {p.row or '—'} 行「{p.column}」：{p.message}（{p.rule}）"
    if sealed and verified.intact:
        yield (f"  （公示上印的校验码可用 jifen-xl verify 工作簿 --code 校验码 核对，"
               f"例如 --code {verified.months[-1].code}）")

    # -- the love supermarket's stock ledger ---------------------------------------------------------
    with app.collector_paused():
        try:
            shop = app.shop_book(app.open_backend(clean_path))
        except ValidationFailed as exc:
            shop = None
            yield f"爱心超市：没有生成「{S.STOCK.name}」——示范数据本不该有错误，请把下列内容发给技术人员：{exc}"
    if shop is not None:
        months_stock = shop.stock[shop.stock["month"] == shop.through]
        yield (f"爱心超市：「{S.STOCK.name}」已写入，{months_stock['goods_id'].nunique()} 种商品，{month_span(shop.through)}，"
               f"期末库存合计 {_num(months_stock['closing'].sum())}（jifen-xl shop 重新生成）。")
        if shop_notices:
            shop_label = f"{year}-{last_month - 1:02d}"
            with app.collector_paused():
                posted = app.shop_notice_book(app.open_backend(clean_path), month=shop_label, start=start.date(),
                                              today=start.date(), **{k: str(v) for k, v in shop_notices.items()})
            t = posted.data["totals"]
            yield (f"  {month_words(shop_label)}的物资接收与兑换公示：入库 {t['receipts']} 笔，兑换 {t['exchanges']} 笔"
                   f"（{t['households']} 户），与 {label} 的积分公示同日张贴（jifen-xl shop-notice）：")
            for path in posted.files:
                yield f"    {path}"
        with app.collector_paused():
            funded = app.funding_book(app.open_backend(clean_path), today=start.date())
        yield f"  资金来源（jifen-xl funding）：{funded.summary['sentence']}"

    # -- validation of both workbooks -----------------------------------------------------------
    yield ""
    with app.collector_paused():
        clean = app.validate_book(app.open_backend(clean_path))
    rep = clean.report
    yield (f"校验「{clean_path.name}」：{len(rep.errors)} 个错误、{len(rep.warnings)} 个警告"
           + ("。" if rep.valid and not rep.warnings else "——示范数据本不该有问题，请把下列内容发给技术人员："))
    for p in rep.problems:
        yield f"  [{p.level}] {p.sheet} 第 {p.row or '—'} 行「{p.column}」：{p.message}（{p.rule}）"
    with app.collector_paused():
        wrong = app.validate_book(app.open_backend(wrong_path)).report
    yield (f"校验「{wrong_path.name}」：{len(wrong.errors)} 个错误、{len(wrong.warnings)} 个警告，"
           f"已写入其「{S.FINDINGS.name}」工作表（有错误时 jifen-xl publish 不会发布公示）：")
    for p in wrong.problems:
        yield f"  [{p.level}] {p.sheet} 第 {p.row or '—'} 行「{p.column}」：{p.message}（{p.rule}）"
        yield f"        修改建议：{p.fix}"
    found = {(p.sheet, p.row, p.rule) for p in wrong.problems}
    missed = [m for m in mistakes if not m.expected() <= found]
    yield (f"故意设置的 {len(mistakes)} 处错误全部被找到。" if not missed else
           f"有 {len(missed)} 处故意设置的错误没有被找到：" + "；".join(m.text for m in missed))

    if done is not None:
        yield from _ledger_lines(done.ledger)
    yield ""
    yield from _township_lines(town, clean_path, district=district, township=township, village=village, year=year,
                               seed=seed, pdf=pdf)
    yield ""
    yield "输出文件："
    closed = (f"{_months(sealed)}已结账封存（「{S.SEALS.name}」「{S.SEALED_ENTRIES.name}」"
              f"「{S.LEDGER.name}」），" if sealed else "")
    yield (f"  {clean_path}（{'无错误' if rep.valid else f'{len(rep.errors)} 个错误'}；{closed}{label} 公示中"
           f"（「{S.NOTICE_SHEET_NAME}」「{S.PUBLICITY.name}」），含「{S.STOCK.name}」和校验结果）")
    yield (f"  {buttons_path}（带按钮的同一个示范村，停在示范开始之前：还没有公示和结账，"
           f"可在 Windows 版 Excel 中按“{S.HELP_SHEET_NAME}”中的按钮走一遍公示和结账；"
           f"使用前先按其“{S.HELP_SHEET_NAME}”装好 Python 和积分工具、把文件夹设为受信任位置）")
    yield f"  {wrong_path}（含 {len(mistakes)} 处故意设置的错误及其校验结果）"
    for path in (*notices.values(), *shop_notices.values()):
        yield f"  {path}"
    yield f"  {town['villages']}（{township}各村报送的工作簿）"
    yield f"  {town['book']}（乡镇汇总工作簿）"
    yield f"  {town['report']}（乡镇汇总报告）"
    if first_backup:
        backups = Path(first_backup).parent
        yield (f"  每次写入前，原文件都已自动备份到「{backups}」（共 {sum(1 for _ in backups.glob('*.xlsx'))} 份，"
               f"按时间命名）。")
    yield f"全部完成，用时 {time.perf_counter() - started:.1f} 秒。"


def _months(labels: list[str]) -> str:
    """The first to the last of ``labels`` (YYYY-MM) in words: 「2026年1月至11月」."""
    first, last = pd.Period(labels[0], "M"), pd.Period(labels[-1], "M")
    if first == last:
        return month_words(first)
    return f"{month_words(first)}至{month_words(last) if last.year != first.year else f'{last.month}月'}"


def _ledger_lines(led) -> list[str]:
    """What the clean workbook's 月度台账 holds after the cycle, and the top of its last month."""
    out = [""]
    through = led["month"].max()
    out.append(f"月度台账（「{S.LEDGER.name}」工作表）：已结账的 {led['month'].nunique()} 个月 × "
               f"{led['hh_id'].nunique()} 户 = {len(led)} 行。")
    top = led[led["month"] == through].head(5)
    out.append(f"{through} 村内排名前 5 户：")
    out += _table(["排名", "户号", "户主姓名", "当月积分", "累计积分", "累计兑换", "可用积分"],
                  [[int(r.rank), r.hh_id, r.head, _num(r.month_total), _num(r.cumulative), _num(r.spent),
                    _num(r.available)] for r in top.itertuples(index=False)])
    return out


def _township_lines(town: dict[str, Path], clean_path: Path, *, district: str, township: str, village: str,
                    year: int, seed: int, pdf: bool):
    """The township part of the demo: the demo village's workbook and three small villages (one
    with the planted mistakes) in one folder, as the township receives them, imported into the
    township workbook and its report (``township.import_township``)."""
    import shutil

    from ..township import import_township
    from .township import generate_township

    started = time.perf_counter()
    names = township_villages(village)
    rejected = names[1]
    made = generate_township(town["villages"], district=district, township=township, villages=names,
                             households=list(TOWNSHIP_HOUSEHOLDS), mistakes_in=rejected, seed=seed, year=year,
                             settled_months=11)
    shutil.copyfile(clean_path, town["villages"] / clean_path.name)
    yield (f"乡镇汇总：{township}收到 {len(made) + 1} 个村的工作簿，放在「{town['villages']}」——本示范村的工作簿"
           f"（「{clean_path.name}」），以及 {'、'.join(names)}（各 {'、'.join(map(str, TOWNSHIP_HOUSEHOLDS))} 户，"
           f"1—11 月已结账；{rejected}的工作簿故意设置了常见错误）。")
    with app.collector_paused():
        result = import_township(town["villages"], town["book"], **{("pdf" if pdf else "html"): town["report"]})
    yield "  jifen-xl township import 逐个校验后导入："
    yield from _table(["文件", "状态", "原因"], [[f.file, f.status, _first_sentence(f.reason)] for f in result.files])
    heads = ["村", "户数", "参与户数", "积分合计", "户均积分", "兑换积分"]
    yield f"  计入 {year} 年度汇总的 {len(result.villages)} 个村："
    yield from _table(heads, [[v.get(h) if v.get(h) is not None else "—" for h in heads] for v in result.villages])
    yield (f"  乡镇汇总工作簿：{result.out}（汇总概况、月度趋势和图表、扣分热点、户排名、评优候选、评优规则、校验汇总）")
    kind = "可打印的 PDF" if pdf else "网页，可在浏览器中打印"
    yield f"  供镇街会议用的汇总报告（{kind}，含图表）：{town['report']}"
    yield f"  （乡镇汇总部分用时 {time.perf_counter() - started:.1f} 秒：生成 {len(made)} 个村、导入 {len(result.files)} 个文件、写出汇总和报告）"


def _first_sentence(text: str) -> str:
    """The first sentence of a reason (the fix follows it in the township workbook)."""
    return text.split("。")[0] + "。" if text else ""
