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
