"""The ``jifen-xl`` command line: thin click commands over ``app``.

Exit codes: 0 fine, 1 problems found / refused / not written, 2 the file cannot be read at
all, 141 our output's reader went away (``| head``). Tracebacks only with ``--verbose``.
Every word is Chinese: click's own words and help layout come from ``cli_zh``.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from pathlib import Path

import click

from . import __version__, app
from . import schema as S
from .cli_zh import ChineseGroup, output_closed
from .core.ledger import ledger_records
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
    """新建一个村级积分工作簿（含默认积分指标）。"""
    settings = dict(district=district, township=township, village=village, year=year,
                    publicity_days=publicity_days)
    out = app.new_book(path, settings)
    click.echo(f"已新建工作簿「{out}」：{village} {year} 年度，积分指标已按区委通知附件预置。")


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
    click.echo(f"月度台账：{frame['month'].nunique()} 个月，{frame['hh_id'].nunique()} 户。"
               f"{result.through or ''} 排名前 10：")
    top = ledger_records(last.head(10))
    click.echo(format_table(S.LEDGER.headers, [list(r.values()) for r in top]))
    if result.report.warnings:
        click.echo(f"另有 {len(result.report.warnings)} 个警告，可运行 jifen-xl validate 查看。")
    _written(result.written)


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
