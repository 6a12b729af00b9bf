"""The ``jifen-xl`` command line: thin click commands over ``app``.

Exit codes: 0 fine, 1 problems found / refused / not written, 2 the file cannot be read at
all, 141 our output's reader went away (``| head``). Tracebacks only with ``--verbose``.
Every word is Chinese: click's own words and help layout come from ``cli_zh``.
"""

from __future__ import annotations

import datetime
import functools
import json
import os
import sys
from pathlib import Path

import click

from . import __version__, app
from . import schema as S
from .cli_zh import ChineseGroup, output_closed
from .core.ledger import ledger_records, month_span, month_words
from .core.stock import stock_records
from .errors import JifenError, ValidationFailed, chinese_os_text, os_reason
from .render import text_table


class JifenCliError(click.ClickException):
    """A JifenError shown to the clerk, with the error's own exit code (any English OS error
    text inside it in Chinese)."""

    def __init__(self, exc: JifenError, lead: str = ""):
        super().__init__(lead + chinese_os_text(exc.message))
        self.exit_code = exc.exit_code


def _stamp(path) -> tuple | None:
    """What identifies the file's content on disk now (a write replaces the file: new inode)."""
    try:
        st = os.stat(path)
    except (OSError, TypeError, ValueError):
        return None
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


def _file_note(target, before) -> str:
    """What became of the command's file, checked on disk (never assumed)."""
    if target is None:
        return ""
    after, name = _stamp(target), Path(target).name
    if after is None and before is None:
        return f"没有写入文件「{name}」。"
    if after == before:
        return f"文件「{name}」未被改动。"
    if before is None:
        return f"文件「{name}」已经生成。"
    return f"文件「{name}」在出错前已经写入。"


def unexpected_error(exc: Exception, target=None, before=None) -> JifenError:
    """The clerk's message for an error no part of the toolkit expected (exit 2); it says the file
    is unchanged only when the file on disk shows it."""
    note = _file_note(target, before)
    if isinstance(exc, OSError):
        where = f"「{exc.filename}」" if getattr(exc, "filename", None) else ""
        err = JifenError(f"读写文件{where}时出错（{os_reason(exc)}）。{note}请检查文件名、所在文件夹和权限后重试；"
                         f"如果仍然出错，请加 --verbose 重新运行，把输出发给技术人员。")
    else:
        err = JifenError(f"处理时出现意外错误。{note}请加 --verbose 重新运行，把输出发给技术人员"
                         f"（技术信息：{type(exc).__name__}: {exc}）。")
    err.exit_code = 2
    return err


def handle_errors(func):
    """Translate JifenError (and, without --verbose, anything unexpected) into a clean message."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        ctx = click.get_current_context()
        target = kwargs.get("book") or kwargs.get("path")  # the file this command may write
        before = _stamp(target)
        try:
            return func(*args, **kwargs)
        except ValidationFailed as exc:
            _print_report(exc.report, as_json=bool(kwargs.get("as_json")), err=True)
            raise JifenCliError(exc) from exc
        except JifenError as exc:
            if ctx.find_root().params.get("verbose"):
                raise
            raise JifenCliError(exc) from exc
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:  # noqa: BLE001 - the clerk gets a message, developers use --verbose
            if isinstance(exc, BrokenPipeError) and output_closed():
                raise  # our reader went away (| head): ChineseGroup ends quietly, the work stays done
            if ctx.find_root().params.get("verbose"):
                raise
            raise JifenCliError(unexpected_error(exc, target, before)) from exc

    return wrapper


def collector_paused(func):
    """Run a command with Python's garbage collector paused (``app.collector_paused``): pausing it
    is the driver's choice, and the commands that read a workbook make it."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with app.collector_paused():
            return func(*args, **kwargs)

    return wrapper


def format_table(headers: list[str], rows: list[list]) -> str:
    """A plain aligned text table (CJK characters count double)."""
    return "\n".join(text_table(headers, rows))


def _print_report(report, as_json: bool, err: bool = False) -> None:
    if as_json:
        click.echo(json.dumps(report.records(), ensure_ascii=False, indent=1), err=err)
        return
    if not report.problems:
        click.echo("校验通过：没有发现问题。", err=err)
        return
    rows = [[p.level, p.sheet, p.row or "", p.column, p.message, p.fix, p.rule] for p in report.problems]
    click.echo(format_table(list(S.FINDING_HEADERS), rows), err=err)
    click.echo(f"\n共 {len(report.errors)} 个错误、{len(report.warnings)} 个警告。", err=err)


def _written(result) -> None:
    if result is not None:
        for name in result.added:
            click.echo(f"工作簿原来没有「{name}」工作表，已在最后新增。")
        click.echo(f"已写入「{result.label}」；原文件备份在「{result.backup}」。")


json_option = click.option("--json", "as_json", is_flag=True, help="以 JSON 格式输出（便于其他程序读取）。")
dry_run_option = click.option("--dry-run", is_flag=True, help="只检查和计算，不写入工作簿。")
book_argument = click.argument("book", type=click.Path(dir_okay=False))


@click.group("jifen-xl", cls=ChineseGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="jifen-xl", message="%(prog)s 版本 %(version)s", help="显示版本号后退出。")
@click.option("--verbose", is_flag=True, help="出错时显示完整的技术信息（供技术人员排查）。")
def cli(verbose):
    """乡村治理积分制工具：校验积分登记、生成月度台账、管理爱心超市。"""


def _filled(ctx, param, value):
    """A name the workbook's 基本信息 requires: spaces around it dropped, blank refused."""
    text = value.strip() if isinstance(value, str) else value
    if isinstance(value, str) and not text:
        raise click.BadParameter(f"不能为空，请填写{param.help.rstrip('。')}。")
    return text


@cli.command()
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--district", required=True, callback=_filled, help="区县，例如 沙坪坝区。")
@click.option("--township", required=True, callback=_filled, help="镇街，例如 中梁镇。")
@click.option("--village", required=True, callback=_filled, help="村名，例如 永宁寺村。")
@click.option("--year", required=True, type=click.IntRange(2000, 2100), help="年度，例如 2026。")
@click.option("--publicity-days", default=7, show_default=True, type=click.IntRange(1, 60), help="公示天数。")
@handle_errors
def new(path, district, township, village, year, publicity_days):
    """新建一个村级积分工作簿（含默认积分指标）。

    文件名以 .xlsm 结尾时，工作簿带按钮（校验、生成公示、封账等，见“使用说明”工作表）；以 .xlsx 结尾时不带按钮。
    """
    settings = dict(district=district, township=township, village=village, year=year,
                    publicity_days=publicity_days)
    out = app.new_book(path, settings)
    click.echo(f"已新建工作簿「{out}」：{village} {year} 年度，积分指标已按区委通知附件预置。")
    if out.suffix.lower() == ".xlsm":
        click.echo(f"按钮在“{S.HELP_SHEET_NAME}”工作表中。在 Excel 中使用前，请把工作簿所在的文件夹设为受信任位置"
                   "（文件 → 选项 → 信任中心 → 信任中心设置 → 受信任位置），否则按钮不会运行。")


@cli.command("build-workbook")
@click.argument("out", nargs=-1, type=click.Path(dir_okay=False), metavar="[工作簿]...")
@click.option("--township", is_flag=True, help="生成乡镇汇总工作簿（默认生成村级工作簿）。")
@handle_errors
def build_workbook_cmd(out, township):
    """生成带按钮的标准工作簿（.xlsm），每次生成的文件完全相同。

    不写文件名时，重新生成当前文件夹（源代码目录）下 workbook 文件夹中的村级积分台账.xlsm 和乡镇积分汇总.xlsm。
    """
    for path in app.build_workbooks(list(out), township=township):
        click.echo(f"已生成「{path}」。")


@cli.command(name="validate")
@book_argument
@json_option
@dry_run_option
@handle_errors
@collector_paused
def validate_cmd(book, as_json, dry_run):
    """校验工作簿，列出全部问题，并写入“校验结果”工作表。

    写不进“校验结果”时（工作簿正在 Excel 或 WPS 中打开、只能读取的格式、文件夹只读、磁盘已满），照样列出全部问题，再说明没有写入的原因（退出码 1），工作簿不变。
    """
    result = app.validate_book(app.open_backend(book), dry_run=dry_run)
    _print_report(result.report, as_json)
    if not as_json:
        _written(result.written)
    if result.not_written is not None:
        raise JifenCliError(result.not_written, lead=f"上面的校验结果没有写入「{S.FINDINGS.name}」工作表。")
    sys.exit(0 if result.report.valid else 1)


@cli.command()
@book_argument
@click.option("--month", metavar="年-月",
              help="从 1 月算到哪个月，例如 2026-03。默认：算到有已确认登记的最后一个月；"
                   "但如果某个月还有“待公示”“公示中”的登记或未处理的异议，只算到最早的这样一个月之前"
                   "（这些月份要等公示期满、异议处理完才能计入）。"
                   "指定的月份（或它之前的月份）还不能结账时，不生成台账，并列出未完成的登记和异议。")
@json_option
@dry_run_option
@handle_errors
@collector_paused
def ledger(book, month, as_json, dry_run):
    """根据已确认的积分登记生成“月度台账”（累计积分、可用积分、村内排名）。"""
    result = app.ledger_book(app.open_backend(book), month=month, dry_run=dry_run)
    frame = result.ledger
    shown = frame[frame["month"] == result.through] if month else frame
    if as_json:
        click.echo(json.dumps(ledger_records(shown), ensure_ascii=False, indent=1))
        return
    if result.unsettled:
        click.echo(f"{'、'.join(result.unsettled)} 还有待公示/公示中的登记或未处理的异议，暂不计入台账。")
    last = frame[frame["month"] == result.through]
    beyond = frame["month"].max() if len(frame) and result.through and frame["month"].max() > result.through else None
    click.echo(f"月度台账：{frame['month'].nunique()} 个月，{frame['hh_id'].nunique()} 户"
               + (f"（写到已封账的 {beyond}：已封账的月份按封账时原样保留）" if beyond else "")
               + f"。{result.through or ''} 排名前 10：")
    top = ledger_records(last.head(10))
    click.echo(format_table(S.LEDGER.headers, [list(r.values()) for r in top]))
    if result.report.warnings:
        click.echo(f"另有 {len(result.report.warnings)} 个警告，可运行 jifen-xl validate 查看。")
    _written(result.written)


@cli.command()
@book_argument
@click.option("--month", metavar="年-月",
              help="从 1 月算到哪个月，例如 2026-03。默认：算到有物资入库或积分兑换的最后一个月。")
@json_option
@dry_run_option
@handle_errors
@collector_paused
def shop(book, month, as_json, dry_run):
    """检查爱心超市（商品目录、物资入库、积分兑换）并生成“库存台账”：每种商品每月的期初库存、本月入库、本月出库、期末库存。

    整个工作簿都会校验：有错误时不生成库存台账，只把问题写入“校验结果”（退出码 1）；加 --json 时按 validate --json 的格式列出问题。
    """
    try:
        result = app.shop_book(app.open_backend(book), month=month, dry_run=dry_run)
    except ValidationFailed as exc:
        if not as_json:
            raise
        _print_report(exc.report, as_json=True)  # on standard output, as validate --json prints them
        raise JifenCliError(exc) from exc
    if as_json:
        click.echo(json.dumps(stock_records(result.stock), ensure_ascii=False, indent=1))
        return
    if result.through is None:
        click.echo("还没有物资入库或积分兑换，库存台账为空。")
    else:
        last = result.stock[result.stock["month"] == result.through]
        click.echo(f"库存台账：{last['goods_id'].nunique()} 种商品，{month_span(result.through)}。"
                   f"{month_words(result.through)}的库存：")
        click.echo(format_table(S.STOCK.headers, [list(r.values()) for r in stock_records(last)]))
    low = [p for p in result.report.warnings if p.rule == LOW_STOCK_RULE]
    for p in low:  # the supermarket's own warning, shown where the clerk looks at the stock
        click.echo(f"库存预警（「{p.sheet}」第 {p.row} 行）：{p.message}。{p.fix}。")
    if len(result.report.warnings) > len(low):
        click.echo(f"另有 {len(result.report.warnings) - len(low)} 个警告，可运行 jifen-xl validate 查看。")
    _written(result.written)


#: The warning ``shop`` prints in full: an item at or below its 预警库存.
LOW_STOCK_RULE = "W-GDS-01"


@cli.command()
@book_argument
@click.option("--code", metavar="校验码",
              help="公示上印的校验码（8 位字母和数字，中间的短横线可不写，大小写均可）：查它是哪个村哪个月的封账，"
                   "这个月封账后有没有被改动。")
@json_option
@handle_errors
@collector_paused
def verify(book, code, as_json):
    """核对封账：已封账月份的登记和台账封账后有没有被改动，逐条指出改了什么（只读，不改工作簿）。

    退出码：0 = 封账链完整（用 --code 时：校验码找到且那个月没有改动）；1 = 发现改动，或校验码不属于这个工作簿。
    """
    result = app.verify_book(app.open_backend(book), code=code)
    if as_json:
        click.echo(json.dumps(_verify_record(result), ensure_ascii=False, indent=1))
    else:
        for line in _verify_lines(result):
            click.echo(line)
    sys.exit(0 if result.ok else 1)


def _verify_lines(result) -> list[str]:
    """``verify``'s text: the code's month (with --code), then the chain and what changed."""
    lines = []
    village = result.village or "（未填写村名）"
    if result.code is not None:
        m = result.code_month
        if m is None:
            lines.append(f"校验码「{result.code}」不属于工作簿「{result.label}」（{village}）中任何已封账的月份。"
                         "请核对校验码和工作簿是否对应。")
        else:
            state = "封账后没有改动。" if m.intact else "但这个月封账后有改动（见下）。"
            lines.append(f"校验码 {m.code} 是{village} {m.month} 的封账（封账日期 {m.sealed_on or '空'}），{state}")
    if not result.months and not result.findings:
        lines.append(f"工作簿「{result.label}」还没有封账的月份（「{S.SEALS.name}」中没有记录），没有可核对的内容。")
    elif result.intact:
        lines.append(f"封账链完整：{result.months[0].month} 至 {result.months[-1].month} 共 {len(result.months)} "
                     "个月，封账后没有改动。")
        lines.append(format_table(["月份", "封账日期", "校验码"], [[m.month, m.sealed_on or "", m.code] for m in result.months]))
    else:
        rows = [[p.sheet, p.row or "", p.column, p.message, p.fix, p.rule] for p in result.findings]
        lines.append(format_table(["工作表", "行号", "列名", "问题说明", "修改建议", "规则编号"], rows))
        months = "、".join(m.month for m in result.months if not m.intact) or "封账记录"
        lines.append(f"\n已封账的月份封账后有 {len(result.findings)} 处改动（{months}）。")
    return lines


def _verify_record(result) -> dict:
    months = [{"月份": m.month, "封账日期": m.sealed_on.isoformat() if m.sealed_on else None, "校验码": m.code,
               "完整": m.intact} for m in result.months]
    out = {"工作簿": result.label, "村": result.village, "完整": result.intact, "封账月份": months,
           "改动": [p.as_record() for p in result.findings]}
    if result.code is not None:
        m = result.code_month
        out["校验码"] = {"输入": result.code, "月份": m.month if m else None, "村": result.village if m else None,
                      "完整": m.intact if m else None}
    return out


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--households", default=320, show_default=True, type=click.IntRange(10, 5000), help="户数。")
@click.option("--seed", default=2026, show_default=True, type=int, help="随机种子（相同种子生成相同数据）。")
@handle_errors
def demo(directory, households, seed):
    """生成一个示范村（数百户、一年的登记、异议、兑换和几处故意的错误）并跑一遍全流程。"""
    from .demo import run_demo

    for line in run_demo(directory, households=households, seed=seed):
        click.echo(line)


@cli.command(name="rules")
@json_option
def rules_cmd(as_json):
    """列出全部校验规则：规则编号、级别、工作表、列名和说明（--json 另含问题说明和修改建议）。"""
    from .rules import CATALOGUE_HEADERS, RULES, catalogue_rows

    if as_json:
        click.echo(json.dumps(RULES.records(), ensure_ascii=False, indent=1))
        return
    click.echo(format_table(CATALOGUE_HEADERS, catalogue_rows()))
    errors = sum(1 for r in RULES.values() if r.level == S.LEVEL_ERROR)
    click.echo(f"\n共 {len(RULES)} 条规则：{errors} 条错误（须改正后才能生成月度台账）、{len(RULES) - errors} 条警告。"
               "加 --json 可查看每条规则的问题说明和修改建议。")


# -- the monthly cycle (issue 9) ---------------------------------------------------------------------
month_required_option = click.option("--month", required=True, metavar="年-月", help="月份，例如 2026-03。")


def _points(value) -> str:
    """A points figure as the clerk reads it (6, not 6.0; 2.5 kept)."""
    value = round(float(value), 6) + 0.0  # float noise away (0.1 + 0.2), never -0
    return str(int(value)) if value.is_integer() else f"{value:.6f}".rstrip("0")


def _print_dry_run(dry_run: bool) -> None:
    if dry_run:
        click.echo("（试运行：只检查和计算，没有写入工作簿。）")


def _warnings_note(report) -> None:
    if report.warnings:
        click.echo(f"另有 {len(report.warnings)} 个警告，可运行 jifen-xl validate 查看。")


def _published(result) -> None:
    """What ``publish`` did, for the clerk."""
    click.echo("\n".join(published_lines(result)))


def published_lines(result) -> list[str]:
    """What ``publish`` did, as the clerk reads it (the CLI prints it; the 生成公示 button shows it)."""
    lines = [f"{result.month} 的积分公示：{result.entries} 条登记，涉及 {result.households} 户。"]
    if result.moved:
        lines.append(f"{len(result.moved)} 条登记由“{S.ENTRY_PENDING}”改为“{S.ENTRY_PUBLIC}”。")
    if result.adopted:
        lines.append(f"{len(result.adopted)} 条登记原已是“{S.ENTRY_PUBLIC}”，补记了它们的公示期。")
    if result.filled:
        lines.append(f"{len(result.filled)} 条登记的积分原为空，已按 数量 × 分值 填入；已填写的积分未改动。")
    who = "、".join(x for x in (result.contact, result.phone) if x) or f"村委会（「{S.SETTINGS.name}」中未填异议受理人）"
    lines.append(f"公示期 {result.start.isoformat()} 至 {result.end.isoformat()}（{result.days} 天）。"
                 f"对公示有异议的，请在公示期内向 {who} 提出，异议登记在「{S.OBJECTIONS.name}」工作表。")
    after = result.end + datetime.timedelta(days=1)
    lines.append(f"公示期满后（{after.isoformat()} 起）可运行 jifen-xl close 结账。")
    if result.written is not None and S.NOTICE_SHEET_NAME in result.written.images:
        lines.append(f"填好的公示已放进工作簿的「{S.NOTICE_SHEET_NAME}」工作表，可直接打印张贴。")
    lines += [f"已生成{name}「{path}」。" for name, path in result.outputs.items()]
    return lines


def _published_json(result) -> dict:
    pub = S.PUBLICITY.header_of
    return {pub("month"): result.month, pub("start"): result.start.isoformat(), pub("end"): result.end.isoformat(),
            "公示天数": result.days, "改为公示中": [i for i, _ in result.moved],
            "补记公示期": [i for i, _ in result.adopted], "填入积分": {i: float(p) for i, p in result.filled.items()},
            "涉及户数": result.households, "已写入": result.written is not None}


def _closed(result) -> None:
    """What ``close`` did, for the clerk."""
    click.echo("\n".join(closed_lines(result)))


def closed_lines(result) -> list[str]:
    """What ``close`` did, as the clerk reads it (the CLI prints it; the 封账 button shows it)."""
    t = result.totals
    lines = [f"{result.month} 已结账（结账日期 {result.date.isoformat()}）：{result.confirmed} 条登记确认"
             + (f"（其中 {result.corrected} 条按异议处理结果更正了积分）" if result.corrected else "")
             + f"，{result.withdrawn} 条撤销" + (f"，{result.kept} 条原已确认" if result.kept else "") + "。"]
    lines.append(f"本月 {t['households']} 户有积分变动：加分 {_points(t['rewards'])}，扣分 {_points(t['deductions'])}，"
                 f"当月积分合计 {_points(t['total'])}。「{S.LEDGER.name}」为 {month_span(result.month)}"
                 f"（共 {len(result.ledger)} 行）。")
    lines.append(f"本月已封账，校验码 {result.code}（记在「{S.SEALS.name}」）：以后打印的公示和积分卡都带这个校验码，"
                 f"可用 jifen-xl verify 工作簿 --code {result.code} 核对本月数据是否被改动过。")
    if result.written is not None and S.NOTICE_SHEET_NAME in result.written.images:
        lines.append(f"工作簿的「{S.NOTICE_SHEET_NAME}」工作表已按结账结果重新填写，印上了校验码，可重新打印张贴。")
    return lines


def _closed_json(result) -> dict:
    t = result.totals
    return {"月份": result.month, "结账日期": result.date.isoformat(), "确认": result.confirmed,
            "其中更正": result.corrected, "撤销": result.withdrawn, "原已确认": result.kept,
            "加分": t["rewards"], "扣分": t["deductions"], "当月积分合计": t["total"], "有积分变动的户数": t["households"],
            "校验码": result.code, "摘要": result.digest, "已写入": result.written is not None}


# --- points cards, the 监督报告, the year rollover (issue 9) -------------------------------------------
html_option = click.option("--html", "html", type=click.Path(dir_okay=False), metavar="文件",
                           help="另存为网页文件，可在浏览器中打印或发到公众号。")
pdf_option = click.option("--pdf", "pdf", type=click.Path(dir_okay=False), metavar="文件",
                          help="另存为可直接打印的文件（Ａ４纸，由 LibreOffice 生成）。")


def _print_files(result) -> None:
    for path in (result.html, result.pdf):
        if path is not None:
            click.echo(f"已生成「{path}」。")


@cli.command()
@book_argument
@month_required_option
@click.option("--start", metavar="年-月-日",
              help="公示开始日期，例如 2026-04-01；默认今天。公示期按“基本信息”中的公示天数计算（默认 7 天），含开始当天。")
@click.option("--pdf", type=click.Path(dir_okay=False), metavar="文件", help="同时生成可张贴打印的 PDF 公示（需要 LibreOffice）。")
@click.option("--html", type=click.Path(dir_okay=False), metavar="文件", help="同时生成网页版公示（用于公众号）。")
@click.option("--wechat", type=click.Path(dir_okay=False), metavar="文件", help="同时生成可直接粘贴到村微信群的文字。")
@click.option("--mask-names", is_flag=True, help="网页和微信群文字中隐去户主姓名的中间字（张*三）；张贴的公示不隐去。")
@json_option
@dry_run_option
@handle_errors
@collector_paused
def publish(book, month, start, pdf, html, wechat, mask_names, as_json, dry_run):
    """发布某月的公示：把该月“待公示”的登记改为“公示中”，空着的积分按 数量 × 分值 填入，并在“公示记录”中记下公示期。

    同时把填好的公示放进工作簿的“公示”工作表（可直接打印张贴）；--pdf、--html、--wechat 另存公示文件。

    工作簿有错误时不发布，列出全部问题。已经手工改为“公示中”、但“公示记录”中还没有这个月的登记，也会补记公示期（请用 --start 写公示实际开始的日期）。
    """
    result = app.publish_book(app.open_backend(book), month=month, start=start, dry_run=dry_run, pdf=pdf, html=html,
                              wechat=wechat, masked=mask_names)
    if as_json:
        click.echo(json.dumps(_published_json(result), ensure_ascii=False, indent=1))
        return
    _print_dry_run(dry_run)
    _published(result)
    _warnings_note(result.report)
    _written(result.written)


@cli.command()
@book_argument
@click.option("--month", metavar="年-月", help="只列出对这个月登记的异议，例如 2026-03。")
@json_option
@handle_errors
@collector_paused
def objections(book, month, as_json):
    """列出还没有处理的异议（“异议处理”中“处理结果”为空的行），以及被异议的登记属于哪一户。"""
    found = app.objections_book(app.open_backend(book), month=month)
    if as_json:
        click.echo(json.dumps([o.record() for o in found], ensure_ascii=False, indent=1))
        return
    scope = f"对 {month} 登记的" if month else ""
    if not found:
        click.echo(f"没有{scope}未处理的异议。")
        return
    shown = 8  # 异议编号 .. 异议内容 and the row in 异议处理
    rows = [[v if v is not None else "" for v in o.record().values()][:shown] for o in found]
    click.echo(format_table(list(app.OPEN_OBJECTION_HEADERS[:shown]), rows))
    click.echo(f"\n共 {len(found)} 条{scope}未处理的异议。核实后请在「{S.OBJECTIONS.name}」的"
               f"“{S.OBJECTIONS.header_of('result')}”列填写{'、'.join(S.OBJECTION_RESULTS)}"
               f"（{S.OBJ_CORRECT}还要填“{S.OBJECTIONS.header_of('corrected_points')}”）。")


@cli.command()
@book_argument
@month_required_option
@click.option("--date", metavar="年-月-日", help="结账日期，例如 2026-04-09；默认今天。须在公示期满之后。")
@json_option
@dry_run_option
@handle_errors
@collector_paused
def close(book, month, date, as_json, dry_run):
    """结账某月：公示期满、异议都处理完后，按处理结果确认、更正或撤销该月的登记，并生成到该月为止的“月度台账”。

    公示期未满、有未处理的异议、还有“待公示”的登记、更早的月份没有结账或工作簿有错误时不结账，并说明原因。
    """
    result = app.close_book(app.open_backend(book), month=month, date=date, dry_run=dry_run)
    if as_json:
        click.echo(json.dumps(_closed_json(result), ensure_ascii=False, indent=1))
        return
    _print_dry_run(dry_run)
    _closed(result)
    _warnings_note(result.report)
    _written(result.written)


@cli.command()
@book_argument
@click.option("--household", required=True, metavar="户号", help="户号，例如 0001；也可以写户主姓名（只有一户叫这个名字时）。")
@json_option
@html_option
@pdf_option
@handle_errors
@collector_paused
def card(book, household, as_json, html, pdf):
    """一户的积分卡：本年每条登记及理由、每月积分、累计积分、可用积分、兑换记录和村内排名。"""
    result = app.card_book(app.open_backend(book), household=household, html=html, pdf=pdf)
    data = result.card.as_dict()
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=1))
        return
    for line in card_lines(data):
        click.echo(line)
    _print_files(result)


def card_lines(d: dict) -> list[str]:
    """The points card as terminal lines."""
    h = d["household"]
    lines = [f"{d['place']['village']} {d['place']['year']} 年积分卡　户号 {h['hh_id']}　户主 {h['head']}　"
             f"{h['hukou']}　{h['group'] or ''}",
             f"上年累计积分 {d['carried_total']}　本年已确认 {d['year_points']}　累计积分 {d['cumulative']}　"
             f"累计兑换 {d['spent']}　可用积分 {d['available']}　村内排名 "
             + (f"第 {d['rank']} 名（共 {d['households_ranked']} 户，截至 {d['through']}）" if d["rank"] else "—"),
             "", "积分登记："]
    rows = [[e["date"], e["item"], e["points"], e["status"], e["scorers"], e["objection"]] for e in d["entries"]]
    lines += text_table(["日期", "事由（指标名称）", "积分", "状态", "评议人", "异议"], rows) if rows else ["（本年没有登记）"]
    lines += ["", "每月积分："]
    rows = [[m["month"], m["basic"], m["contrib"], m["deduct"], m["month_total"], m["cumulative"], m["spent"],
             m["available"], m["rank"]] for m in d["months"]]
    lines += text_table(["月份", "基础积分", "贡献积分", "扣分", "当月积分", "累计积分", "累计兑换", "可用积分", "排名"],
                        rows) if rows else ["（没有月度台账）"]
    if d["exchanges"]:
        lines += ["", "兑换记录："]
        lines += text_table(["日期", "商品", "数量", "消耗积分"],
                            [[x["date"], x["goods"], x["qty"], x["points"]] for x in d["exchanges"]])
    if d["pending"]:
        lines += ["", f"另有 {d['pending']} 条登记还在公示或待公示，确认后才计入积分。"]
    if d.get("code"):
        lines += ["", f"已结账封存至 {d['sealed_through']}，封账校验码：{d['code']}（与该月公示上印的校验码相同）。"]
    return lines


@cli.command()
@book_argument
@click.option("--month", metavar="年-月", help="报告一个月，例如 2026-03。")
@click.option("--year", metavar="年度", help="报告全年，例如 2026。不写 --month 和 --year 时，报告本年 1 月到本月。")
@json_option
@html_option
@pdf_option
@handle_errors
@collector_paused
def supervise(book, month, year, as_json, html, pdf):
    """给监督管理小组的监督报告：评议人评分情况、长期未评分的住户、加扣分之比、回避问题。

    报告包括：每位评议人的评分条数、平均分、被提异议情况；三个月以上未评分的住户；加分与扣分之比；
    没有证明材料的扣分；回避问题；已封账月份的改动。"""
    result = app.supervise_book(app.open_backend(book), month=month, year=year, html=html, pdf=pdf)
    data = result.supervision.as_dict()
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=1))
        return
    for line in supervise_lines(data, len(result.report.errors)):
        click.echo(line)
    _print_files(result)


def supervise_lines(d: dict, errors: int) -> list[str]:
    """The 监督报告 as terminal lines."""
    lines = [f"{d['place']['village']} {d['period']} 监督报告（登记 {d['entries']} 条）", "", "一、评议人评分情况："]
    rows = [[s["scorer"], s["entries"], s["rewards"], s["deductions"], s["total"], s["average"], s["objected"],
             f"{s['objection_rate']}%", s["kept"], s["corrected"], s["withdrawn"], s["open"]] for s in d["scorers"]]
    lines += text_table(["评议人", "登记", "加分条数", "扣分条数", "积分合计", "平均分", "被提异议", "异议率",
                         "维持", "更正", "撤销", "待处理"], rows) if rows else ["（本期没有登记）"]
    lines += ["", f"二、连续 {d['unscored_months']} 个月以上未评分的住户："]
    rows = [[u["hh_id"], u["head"], u["group"], u["last"] or "本年未评分", u["months"]] for u in d["unscored"]]
    lines += text_table(["户号", "户主", "村民小组", "最近评分", "未评分月数"], rows) if rows else ["（没有）"]
    b = d["balance"]
    verdict = "加分为主，符合“奖为主、罚为辅”。" if b["rewards_dominate"] else "扣分多于加分，不符合“奖为主、罚为辅”，请评议小组注意。"
    lines += ["", f"三、加分 {b['rewards']} 条共 {b['reward_points']} 分，扣分 {b['deductions']} 条共 "
                  f"{b['deduction_points']} 分" + (f"，加分是扣分的 {b['ratio']} 倍" if b["ratio"] else "")
              + f"。{verdict}", "", "四、没有证明材料的扣分："]
    rows = [[x["entry_id"], x["row"], x["date"], x["hh_id"], x["head"], x["item"], x["points"], x["scorers"]]
            for x in d["no_evidence"]]
    lines += text_table(["登记编号", "行号", "日期", "户号", "户主", "事由", "积分", "评议人"], rows) if rows else ["（没有）"]
    lines += ["", "五、应当回避而没有回避（评议人给本户评分）："]
    rows = [[x["entry_id"], x["row"], x["date"], x["hh_id"], x["head"], x["scorer"], x["reason"]] for x in d["recusal"]]
    lines += text_table(["登记编号", "行号", "日期", "户号", "户主", "评议人", "原因"], rows) if rows else ["（没有）"]
    lines += ["", "六、已封账月份的改动："]
    rows = [[c["month"], c["kind"], c["entry_id"], c["field"], c["sealed"], c["current"], c.get("sheet", ""), c["row"]]
            for c in d["sealed_changes"]]
    lines += (text_table(["月份", "类型", "登记编号", "项目", "封账时", "现在", "工作表", "行号"], rows) if rows
              else ["（没有）"])
    if errors:
        lines += ["", f"工作簿另有 {errors} 个错误，可运行 jifen-xl validate 查看。"]
    return lines


@cli.command()
@book_argument
@click.option("--to", "to", required=True, type=click.Path(dir_okay=False), metavar="文件",
              help="下一年度的新工作簿，例如 永宁寺村2027.xlsx（不能已存在）。")
@handle_errors
@collector_paused
def rollover(book, to):
    """年度结转：生成下一年度的工作簿，带入住户、积分指标、小组成员，积分永不清零。

    新工作簿带入正常住户（上年累计积分、上年可用积分）、仍有效的积分指标、任期未满的小组成员和商品目录。

    本年度有错误，或有月份还没有结账（待公示、公示中的登记，未处理的异议）时不结转，并列出这些月份。
    """
    result = app.rollover_book(app.open_backend(book), to=to)
    plan = result.rollover
    click.echo(f"已生成 {plan.settings['year']} 年度工作簿「{result.path}」：带入 {len(plan.carried)} 户，"
               f"上年累计积分、上年可用积分按 {plan.through[:4]} 年 {int(plan.through[5:])} 月底的累计积分、可用积分带入（积分永不清零）。")
    if plan.left_behind:
        click.echo("没有带入的住户（已迁出或注销）：" + "、".join(f"{x['hh_id']} {x['head']}（{x['status']}）"
                                                    for x in plan.left_behind) + "。")
    if plan.dropped_items:
        click.echo("已失效、没有带入的积分指标：" + "、".join(f"{x['code']} {x['name']}（{x['valid_to']} 失效）"
                                                 for x in plan.dropped_items) + "。")
    if plan.ended_members:
        click.echo("任期已满、没有带入的小组成员：" + "、".join(f"{x['name']}（{x['group']}，{x['term_to']} 任期结束）"
                                                   for x in plan.ended_members)
                   + f"。请在新工作簿的「{S.MEMBERS.name}」中登记新一届成员。")


def _day(ctx, param, value):
    """A date typed as 2026-04-01 (also 2026/4/1, 2026年4月1日)."""
    if value is None:
        return None
    import datetime as dt
    import re

    m = re.fullmatch(r"\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*", value)
    try:
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else dt.date.fromisoformat("x")
    except ValueError:
        raise click.BadParameter(f"日期「{value}」格式不对，请写成“年-月-日”，例如 2026-04-01。") from None


def _out(help_text):
    return click.option(help_text[0], type=click.Path(dir_okay=False), help=help_text[1])


@cli.command()
@book_argument
@click.option("--month", required=True, metavar="年-月", help="要公示的月份，例如 2026-03（须已发布公示或已结账）。")
@click.option("--start", callback=_day, metavar="年-月-日",
              help="公示开始日期，例如 2026-04-01。工作簿有“公示记录”时以记录为准；否则默认今天。")
@click.option("--end", callback=_day, metavar="年-月-日", help="公示截止日期（含当天）。默认：开始日期加“公示天数”减 1。")
@_out(("--pdf", "生成可张贴打印的 PDF 公示（需要 LibreOffice）。"))
@_out(("--html", "生成网页版公示（用于公众号）。"))
@_out(("--wechat", "生成可直接粘贴到村微信群的文字（按长度分成几条消息）。"))
@_out(("--xlsx", "生成按公示模板填好的表格（只有一个工作表，可在 Excel 或 WPS 中打印）。"))
@click.option("--mask-names", is_flag=True, help="隐去户主姓名的中间字（张*三），用于微信群和公众号。")
@handle_errors
@collector_paused
def notice(book, month, start, end, pdf, html, wechat, xlsx, mask_names):
    """生成某月的积分公示：PDF、网页、微信群文字或表格；不改动工作簿。

    不指定输出文件时，把微信群文字显示在屏幕上。公示不含身份证号和户的联系电话。
    """
    result = app.notice_book(app.open_backend(book), month=month, start=start, end=end, pdf=pdf, html=html,
                             wechat=wechat, xlsx=xlsx, masked=mask_names)
    if not result.files:
        click.echo("\n\n".join(result.messages))
    click.echo(f"{result.month} 公示期：{result.start.isoformat()} 至 {result.end.isoformat()}，"
               f"{result.data['totals']['households']} 户。", err=not result.files)
    if result.pending_rows:
        click.echo(f"注意：另有 {len(result.pending_rows)} 条“待公示”登记（「{S.ENTRIES.name}」第 "
                   f"{'、'.join(map(str, result.pending_rows[:10]))} 行）不在这份公示里，发布后才会公示。")
    for path in result.files:
        click.echo(f"已生成「{path}」。")


@cli.command("shop-notice")
@book_argument
@click.option("--month", required=True, metavar="年-月", help="要公示的月份，例如 2026-03。")
@click.option("--start", callback=_day, metavar="年-月-日", help="公示开始日期，例如 2026-04-01。默认今天。")
@click.option("--end", callback=_day, metavar="年-月-日", help="公示截止日期（含当天）。默认：开始日期加“公示天数”减 1。")
@_out(("--pdf", "生成可张贴打印的 PDF 公示（需要 LibreOffice）。"))
@_out(("--html", "生成网页版公示（用于公众号）。"))
@_out(("--wechat", "生成可直接粘贴到村微信群的文字（按长度分成几条消息）。"))
@_out(("--xlsx", "生成按超市公示模板填好的表格（只有一个工作表，可在 Excel 或 WPS 中打印）。"))
@click.option("--mask-names", is_flag=True, help="隐去户主姓名的中间字（张*三），用于微信群和公众号。")
@handle_errors
@collector_paused
def shop_notice(book, month, start, end, pdf, html, wechat, xlsx, mask_names):
    """生成爱心超市某月的物资接收与兑换公示：PDF、网页、微信群文字或表格；不改动工作簿。

    公示包括：本月物资接收明细（按来源类型和捐赠方）、按来源汇总、各户兑换情况和兑换后可用积分、月末库存。
    不指定输出文件时，把微信群文字显示在屏幕上。公示不含身份证号和户的联系电话。
    """
    result = app.shop_notice_book(app.open_backend(book), month=month, start=start, end=end, pdf=pdf, html=html,
                                  wechat=wechat, xlsx=xlsx, masked=mask_names)
    if not result.files:
        click.echo("\n\n".join(result.messages))
    t = result.data["totals"]
    click.echo(f"{result.month} 爱心超市公示期：{result.data['start'].isoformat()} 至 {result.data['end'].isoformat()}；"
               f"入库 {t['receipts']} 笔，兑换 {t['exchanges']} 笔（{t['households']} 户）。", err=not result.files)
    for path in result.files:
        click.echo(f"已生成「{path}」。")


# -- township: batch import of village workbooks (issue 11) -------------------------------

@cli.group(name="township")
def township_group():
    """乡镇汇总：批量导入各村报送的积分工作簿，生成乡镇汇总工作簿。"""


class _ImportProgress:
    """A Chinese progress bar on standard error, only when it is a terminal (never with --json)."""

    def __init__(self, shown: bool):
        self.shown, self.bar = shown and sys.stderr.isatty(), None

    def __call__(self, done: int, total: int, name: str) -> None:
        if not self.shown:
            return
        if self.bar is None:
            self.bar = click.progressbar(length=total, label="正在读取各村工作簿", file=sys.stderr,
                                         show_pos=True, info_sep="  ")
            self.bar.__enter__()
        self.bar.update(1, Path(name).name)
        if done >= total:
            self.close()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


def _township_lines(result) -> list[str]:
    """The import summary: every file with its status and reason (and first findings), the villages."""
    rows = [[f.file, f.status, f.reason] for f in result.files]
    lines = [format_table(["文件", "状态", "原因"], rows)]
    for f in result.files:
        if f.findings and f.status == S.FILE_REJECTED:
            lines.append(f"\n「{f.file}」的前 {len(f.findings)} 个问题：")
            lines += [f"  {p['级别']}　「{p['工作表']}」" + (f"第 {p['行号']} 行" if p["行号"] else "")
                      + (f"「{p['列名']}」" if p["列名"] else "") + f"：{p['问题说明']}" for p in f.findings]
    counts = "，".join(f"{s} {n} 个" for s, n in result.counts.items() if n)
    lines.append(f"\n共 {len(result.files)} 个文件：{counts}。")
    if result.villages:
        heads = ["村", "户数", "参与户数", "加分合计", "扣分合计", "积分合计", "异议数", "兑换积分"]
        lines.append(f"\n{result.year} 年度计入汇总的村（{len(result.villages)} 个）：")
        lines.append(format_table(heads, [[v.get(h) for h in heads] for v in result.villages]))
    lines += [f"注意：{w}" for w in result.warnings]
    return lines


parquet_option = click.option(
    "--parquet", type=click.Path(file_okay=False), metavar="文件夹",
    help="同时把汇总明细写成 Parquet 数据集（按 年度/区县/镇街/村 分区，供市、省平台的数据库直接读取）；"
         "同一村再次导入时替换该村的分区。")


@township_group.command(name="import")
@click.argument("source", type=click.Path(), metavar="文件夹或压缩包")
@click.option("-o", "--output", "out", required=True, type=click.Path(dir_okay=False), metavar="文件",
              help="乡镇汇总工作簿（.xlsx；带“导入各村台账”按钮的为 .xlsm），例如 中梁镇2026年积分汇总.xlsx。正被 Excel 打开时拒绝导入。")
@json_option
@click.option("--workers", type=click.IntRange(1, 64), metavar="进程数", help="同时读取的进程数。默认等于处理器核数；1 表示逐个读取。")
@click.option("--year", type=click.IntRange(2000, 2100), metavar="年度",
              help="只汇总这一年度，例如 2026；其他年度的工作簿标为“已跳过”。默认：多数工作簿的年度。")
@click.option("--mapping", type=click.Path(exists=True, dir_okay=False), metavar="映射文件",
              help="宽表（每户一行、每个指标和期间一列）的导入映射：含「导入映射」工作表的工作簿，"
                   "用于自身没有「导入映射」的宽表文件。示例见模板文件夹中的「宽表映射示例.xlsx」。")
@parquet_option
@click.option("--html", type=click.Path(dir_okay=False), metavar="文件",
              help="同时生成供镇街会议用的汇总报告（网页，含图表，可在浏览器中打印）。")
@click.option("--pdf", type=click.Path(dir_okay=False), metavar="文件",
              help="同时生成可直接打印的汇总报告（Ａ４横向，含图表，由 LibreOffice 生成）。")
@handle_errors
def township_import(source, out, as_json, workers, year, mapping, parquet, html, pdf):
    """导入文件夹（含子文件夹）或 zip 压缩包中各村的积分工作簿，逐个校验，生成乡镇汇总工作簿。

    每个文件都有状态：已导入、已导入有警告、已拒绝（有错误，不计入汇总）、已跳过（不是工作簿、临时锁文件、已损坏、加密、其他年度）、重复（同一村同一年度，只计入较新的文件）。只要有一个村导入成功，退出码就是 0。

    --html、--pdf 同时生成供镇街会议用的汇总报告：各村汇总概况、月度趋势和扣分热点（含图表）、评优候选、爱心超市物资来源、各文件校验情况。
    """
    from .township import NothingImported, import_township

    progress = _ImportProgress(not as_json)
    try:
        result = import_township(source, out, workers=workers, year=year, progress=progress, mapping=mapping,
                                 parquet=parquet, html=html, pdf=pdf)
    except NothingImported as exc:
        progress.close()
        _print_township(exc.result, as_json)
        raise JifenCliError(exc) from exc
    _print_township(result, as_json)
    if not as_json:
        click.echo(f"已生成乡镇汇总工作簿「{result.out}」。")
        if result.parquet is not None:
            click.echo(f"已写入 Parquet 数据集「{result.parquet}」（按 年度/区县/镇街/村 分区）。")
        for path in result.reports.values():
            click.echo(f"已生成汇总报告「{path}」。")


def _print_township(result, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(result.records(), ensure_ascii=False, indent=1, default=str))
    else:
        click.echo("\n".join(_township_lines(result)))


# -- district: the roll-up of townships in DuckDB (issue 11) ---------------------------------

@cli.group(name="district")
def district_group():
    """区县汇总：汇总各镇街的村级工作簿（或 Parquet 数据集），生成区县汇总工作簿。"""


@district_group.command(name="import")
@click.argument("source", type=click.Path(exists=True, file_okay=False), metavar="文件夹")
@click.option("-o", "--output", "out", required=True, type=click.Path(dir_okay=False), metavar="文件",
              help="区县汇总工作簿（.xlsx），例如 沙坪坝区2026年积分汇总.xlsx。正被 Excel 打开时拒绝导入。")
@json_option
@click.option("--workers", type=click.IntRange(1, 64), metavar="进程数", help="同时读取的进程数。默认等于处理器核数。")
@click.option("--year", type=click.IntRange(2000, 2100), metavar="年度", help="只汇总这一年度。默认：村数最多的年度。")
@parquet_option
@click.option("--html", type=click.Path(dir_okay=False), metavar="文件",
              help="同时生成区县汇总报告（网页，含图表，可在浏览器中打印）。")
@click.option("--pdf", type=click.Path(dir_okay=False), metavar="文件",
              help="同时生成可直接打印的区县汇总报告（Ａ４横向，含图表，由 LibreOffice 生成）。")
@handle_errors
def district_import(source, out, as_json, workers, year, parquet, html, pdf):
    """汇总一个区县：文件夹下每个子文件夹作为一个镇街，逐镇导入其中（含更深子文件夹）的村级工作簿；
    也可以直接指定 township import --parquet 写出的 Parquet 数据集文件夹。汇总查询在内嵌的数据库引擎中完成，无需另装软件。

    汇总概况按镇街列出各村，每个镇街后有“小计”行，最后是“全区合计”；月度趋势按镇街；户排名和评优候选在全区范围内选出，注明镇街和村。

    --html、--pdf 同时生成区县汇总报告（与乡镇汇总报告同样的内容，按全区汇总）。
    """
    from .district import import_district

    progress = _ImportProgress(not as_json)
    try:
        result = import_district(source, out, parquet=parquet, workers=workers, year=year, progress=progress,
                                 html=html, pdf=pdf)
    finally:
        progress.close()
    if as_json:
        click.echo(json.dumps(result.records(), ensure_ascii=False, indent=1, default=str))
        return
    if result.files:
        click.echo(format_table(["文件", "状态", "原因"], [[f["文件"], f["状态"], f["原因"]] for f in result.files]))
    heads = ["镇街", "村", "户数", "参与户数", "加分合计", "扣分合计", "积分合计", "兑换积分"]
    click.echo(f"\n{result.year} 年度各镇街小计（{len(result.townships)} 个镇街，{len(result.villages)} 个村）：")
    click.echo(format_table(heads, [[t.get(h) for h in heads] for t in result.townships]))
    for w in result.warnings:
        click.echo(f"注意：{w}")
    click.echo(f"已生成区县汇总工作簿「{result.out}」。")
    if result.dataset is not None:
        click.echo(f"Parquet 数据集在「{result.dataset}」。")
    for path in result.reports.values():
        click.echo(f"已生成汇总报告「{path}」。")


# --- the exchange slip (兑换单), issue 10 ----------------------------------------------------------
@cli.command()
@book_argument
@click.option("--exchange", metavar="兑换编号", help="「积分兑换」中的兑换编号；也可以只写编号里的数字，例如 12（只有一笔兑换是这个数字时）。")
@click.option("--month", metavar="年-月", help="打印这个月的全部兑换单（每笔一页），例如 2026-03。")
@json_option
@html_option
@pdf_option
@handle_errors
@collector_paused
def slip(book, exchange, month, as_json, html, pdf):
    """爱心超市兑换单：一笔兑换的户主、商品、数量、消耗积分和兑换前后的可用积分，供户主和经办人签字。

    打印的兑换单每页两联（存根联、户主联），中间有裁剪线。用 --exchange 指定一笔兑换，或用 --month 打印一个月的全部兑换单。
    兑换单不含身份证号和联系电话；工作簿有错误时不生成。"""
    result = app.slip_book(app.open_backend(book), exchange=exchange, month=month, html=html, pdf=pdf)
    if as_json:
        click.echo(json.dumps(result.slips if month else result.slips[0], ensure_ascii=False, indent=1))
        return
    for i, s in enumerate(result.slips):
        click.echo(("\n" if i else "") + "\n".join(slip_lines(s)))
    _print_files(result)


def _figure(value) -> str:
    """A points figure, or 「—」 when there is none."""
    return "—" if value is None else _points(value)


def slip_lines(s: dict) -> list[str]:
    """One exchange slip as terminal lines."""
    g, h = s["goods"], s["household"]
    _points = _figure
    spec = f"（{g['spec']}）" if g["spec"] else ""
    return [f"{s['place']['village']}爱心超市积分兑换单　兑换编号 {s['exchange_id']}　日期 {s['date']}",
            f"户主 {h['head']}（户号 {h['hh_id']}{'，' + h['group'] if h['group'] else ''}）",
            f"商品 {g['name']}{spec}（{g['goods_id']}）　数量 {s['qty']} {g['unit']}　"
            f"兑换积分 {_points(s['price'])} 分/{g['unit']}　消耗积分 {_points(s['points'])}",
            f"兑换前可用积分 {_points(s['available_before'])}　兑换后可用积分 {_points(s['available_after'])}"
            + (f"　经办人 {s['handler']}" if s["handler"] else "")]


# --- where the supermarket's goods come from (资金来源), issue 10 -------------------------------------
@cli.command()
@click.argument("books", nargs=-1, required=True, type=click.Path(), metavar="工作簿或文件夹...")
@click.option("--year", type=click.IntRange(2000, 2100), metavar="年度", help="统计的年度，例如 2026；默认工作簿的年度。")
@json_option
@html_option
@pdf_option
@handle_errors
@collector_paused
def funding(books, year, as_json, html, pdf):
    """爱心超市的资金来源：按来源类型（财政补贴、社会组织捐赠、帮扶单位支持、企业爱心捐助、村集体经济收入、其他）统计物资入库的折合金额。

    一个工作簿：逐月和全年的金额、各来源占比，以及来源是否多元、投入是否持续（长效投入机制）。
    几个工作簿、一个文件夹或 zip 压缩包（镇街汇总，含子文件夹）：每村一行加合计行；读不了的文件列出原因，不影响其他村，此时退出码为 1；
    锁定文件、「备份」文件夹、文件夹中的压缩包和不是工作簿的文件列为已跳过并说明原因。
    只读，不改动工作簿。"""
    from .core.funding import table_records

    single = len(books) == 1 and not app.is_folder_or_zip(books[0])
    if single:
        result = app.funding_book(app.open_backend(books[0]), year=year, html=html, pdf=pdf)
        data = {"place": result.place, "year": result.year, "rows": table_records(result.table),
                "summary": result.summary}
        lines = funding_lines(data, len(result.report.errors))
    else:
        result = app.funding_files(books, year=year, html=html, pdf=pdf)
        data = {"year": result.year, "rows": table_records(result.table), "villages": result.villages,
                "unreadable": [{"file": name, "reason": why} for name, why in result.unreadable],
                "skipped": [{"file": name, "reason": why} for name, why in result.skipped]}
        lines = township_funding_lines(data)
    click.echo(json.dumps(data, ensure_ascii=False, indent=1) if as_json else "\n".join(lines))
    if not as_json:
        _print_files(result)
    if not single and result.unreadable:
        raise click.exceptions.Exit(1)


def _funding_rows(rows: list[dict]) -> tuple[list[str], list[list]]:
    headers = list(rows[0]) if rows else []
    return headers, [[r[h] for h in headers] for r in rows]


def funding_lines(d: dict, errors: int) -> list[str]:
    """A village's funding view as terminal lines."""
    s = d["summary"]
    lines = [f"{d['place']['village']}爱心超市 {d['year']} 年度物资来源（折合金额，元）", ""]
    lines += text_table(["来源类型", "折合金额", "占比", "入库笔数"],
                        [[x["source"], x["amount"], "—" if x["share"] is None else f"{x['share']:g}%", x["receipts"]]
                         for x in s["sources"]] + [["合计", s["total"], "100%" if s["total"] else "—", s["receipts"]]])
    lines += ["", *text_table(*_funding_rows(d["rows"])), "", s["sentence"]]
    if s["missing_rows"]:
        lines.append(f"没有填写折合金额的入库（「{S.RECEIPTS.name}」）：" + "、".join(
            f"{m['receipt_id']}（第 {m['row']} 行，{m['date']}，{m['goods']}）" for m in s["missing_rows"]) + "。")
    if errors:
        lines.append(f"工作簿另有 {errors} 个错误，统计可能不全，可运行 jifen-xl validate 查看。")
    return lines


def township_funding_lines(d: dict) -> list[str]:
    """Several villages' funding as terminal lines."""
    year = f" {d['year']} 年度" if d["year"] else ""
    lines = [f"爱心超市物资来源{year}（按村，折合金额，元）", "", *text_table(*_funding_rows(d["rows"]))]
    if d["villages"]:
        lines += ["", *[f"{v['village']}：{v['sentence']}" for v in d["villages"]]]
    for u in d["unreadable"]:
        lines.append(f"无法读取「{u['file']}」：{u['reason']}")
    for u in d.get("skipped", ()):
        lines.append(f"已跳过「{u['file']}」：{u['reason']}")
    return lines
