"""The workbook's buttons: one entry point per ``schema.BUTTONS`` entry (issue 12).

Each button's VBA Sub is one line, ``RunPython "import jifen_xl.macros as m; m.<name>()"``; the
function here takes the calling workbook (``xw.Book.caller()``), wraps it in the live backend
(``io.live.LiveBook``), makes ONE call into the same ``app`` function the CLI command makes and
shows the outcome in Chinese: the status bar where the engine has one, and a message box. Errors
are shown in a message box with the very text the CLI prints (``errors.chinese_os_text`` of the
error's message). No logic of its own (GUIDE §3.B): what the CLI takes as options comes from the
workbook, as ``app.due_months`` picks it (the month to publish, to close, to print), each confirmed
in a box first; files (notices, cards, reports) are written beside the workbook.

Every entry point also takes ``book`` (tests and a developer's ``set_mock_caller`` session pass
one) and ``confirm`` (False: do not ask, as a test run does).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from pathlib import Path

from . import app
from . import schema as S
from .core.clean import ROW
from .errors import JifenError, ValidationFailed, chinese_os_text
from .io.live import LiveBook

#: The title of every message box.
TITLE = "乡村治理积分"


def _caller():
    import xlwings as xw

    return xw.Book.caller()


def _folder(book) -> Path:
    """Where files made from the workbook go: beside it (the current folder for a workbook never saved)."""
    full = Path(book.fullname)
    return full.parent if full.is_absolute() else Path.cwd()


def _show(book, text: str, *, critical: bool = False) -> None:
    """The outcome: on the status bar where the engine has one, and in a message box."""
    try:
        book.app.status_bar = text.splitlines()[0][:250]
    except NotImplementedError:  # xlwings' remote engine has no status bar
        pass
    book.app.alert(text, TITLE, buttons="ok", mode="critical" if critical else "info")


def _ask(book, text: str, confirm: bool) -> bool:
    """Whether to go ahead: the clerk's OK (an engine that cannot answer at once never goes ahead)."""
    if not confirm:
        return True
    return book.app.alert(text, TITLE, buttons="ok_cancel", mode="info") == "ok"


def _pdf(path: Path) -> Path | None:
    """``path`` when LibreOffice can print the PDF, else None (the HTML page is made all the same)."""
    from .io.pdf import find_soffice

    return path if find_soffice() is not None else None


def _made(paths) -> str:
    """The files written, one line each, and a word when the PDF could not be made."""
    lines = [f"已生成「{p}」。" for p in paths if p is not None]
    if not any(str(p).endswith(".pdf") for p in paths if p is not None):
        lines.append("没有找到 LibreOffice，只生成了网页版（.html），可用浏览器打开后打印。")
    return "\n".join(lines)


def _counts(report) -> str:
    return f"共 {len(report.errors)} 个错误、{len(report.warnings)} 个警告"


def _report_text(report) -> str:
    if not report.problems:
        return "校验通过：没有发现问题。"
    return f"{_counts(report)}，详见「{S.FINDINGS.name}」工作表（有颜色的单元格就是出问题的地方）。"


def button(func):
    """An entry point: the caller's workbook, and every error as a message box in Chinese."""

    @functools.wraps(func)
    def wrapper(book=None, *, confirm: bool = True):
        book = book or _caller()
        try:
            text = func(book, confirm)
        except ValidationFailed as exc:
            _show(book, chinese_os_text(exc.message) + "\n" + _report_text(exc.report), critical=True)
            return None
        except JifenError as exc:
            _show(book, chinese_os_text(exc.message), critical=True)
            return None
        except Exception as exc:  # noqa: BLE001 - the clerk gets a box, never a Python traceback
            _show(book, f"处理时出现意外错误，请把这段文字发给技术人员（技术信息：{type(exc).__name__}: {exc}）。",
                  critical=True)
            return None
        if text:
            _show(book, text)
        return text

    return wrapper


@button
def validate(book, confirm):
    """校验: every finding to 校验结果, the offending cells highlighted."""
    result = app.validate_book(LiveBook(book))
    if result.not_written is not None:  # the CLI's words: the findings stand, the sheet was not written
        raise JifenError(f"{_counts(result.report)}。上面的校验结果没有写入「{S.FINDINGS.name}」工作表。"
                         + result.not_written.message)
    return _report_text(result.report)


@button
def publish(book, confirm):
    """生成公示: the earliest month with entries to publish, published from today."""
    live = LiveBook(book)
    month = app.due_months(live).publish
    if month is None:
        return f"没有需要公示的月份：「{S.ENTRIES.name}」中没有“{S.ENTRY_PENDING}”的登记。"
    if not _ask(book, f"发布 {month} 的积分公示？（公示期从今天开始）", confirm):
        return None
    wechat = _folder(book) / f"{month}积分公示（微信群）.txt"
    from .cli import published_lines

    return "\n".join(published_lines(app.publish_book(live, month=month, wechat=wechat)))


@button
def print_notice(book, confirm):
    """打印公示: the latest published month's notice as a PDF (and HTML) beside the workbook."""
    live = LiveBook(book)
    month = app.due_months(live).notice
    if month is None:
        return f"还没有发布过公示（「{S.PUBLICITY.name}」中没有记录），请先按“生成公示”。"
    folder = _folder(book)
    result = app.notice_book(live, month=month, pdf=_pdf(folder / f"{month}积分公示.pdf"),
                             html=folder / f"{month}积分公示.html")
    return _made(result.files)


@button
def close_month(book, confirm):
    """封账: the earliest month not yet settled, closed today."""
    live = LiveBook(book)
    month = app.due_months(live).close
    if month is None:
        return "没有需要结账的月份：所有登记都已确认或撤销。"
    if not _ask(book, f"结账并封存 {month}？结账后这个月的登记不能再改。", confirm):
        return None
    from .cli import closed_lines

    return "\n".join(closed_lines(app.close_book(live, month=month)))


@button
def shop(book, confirm):
    """超市盘点: 库存台账 through the last month with a receipt or an exchange."""
    result = app.shop_book(LiveBook(book))
    if result.through is None:
        return "还没有物资入库或积分兑换，库存台账为空。"
    low = [p for p in result.report.warnings if p.rule == "W-GDS-01"]
    return "\n".join([f"「{S.STOCK.name}」已写到 {result.through}。",
                      *(f"库存预警（「{p.sheet}」第 {p.row} 行）：{p.message}。{p.fix}。" for p in low)])


@button
def print_cards(book, confirm):
    """打印积分卡: the card of the household whose row of 住户名册 is selected (PDF and HTML), or,
    with no household row selected, every 正常 household's card (HTML pages in 积分卡/)."""
    live = LiveBook(book)
    household = _selected_household(book, live)
    folder = _folder(book)
    if household is None:
        if not _ask(book, f"没有选中「{S.HOUSEHOLDS.name}」中的某一户：生成全部正常住户的积分卡？", confirm):
            return None
        pages = app.cards_book(live, folder / "积分卡")
        return f"已生成 {len(pages)} 户的积分卡（网页），在「{folder / '积分卡'}」文件夹中，可用浏览器打开后打印。"
    result = app.card_book(live, household=household, html=folder / f"积分卡_{household}.html",
                           pdf=_pdf(folder / f"积分卡_{household}.pdf"))
    return _made([result.pdf, result.html])


def _selected_household(book, live: LiveBook) -> str | None:
    """The 户号 on the selected row of 住户名册, as the reader reads it; None elsewhere."""
    selection = book.app.selection
    if selection is None or selection.sheet.name.strip() != S.HOUSEHOLDS.name:
        return None
    table = live.read_table(S.HOUSEHOLDS)
    codes = dict(zip(table.frame[ROW].tolist(), table.codes("hh_id").tolist()))
    code = codes.get(selection.row)
    return code if isinstance(code, str) and code else None


@button
def supervise(book, confirm):
    """监督报告: the year so far, as PDF and HTML beside the workbook."""
    folder = _folder(book)
    result = app.supervise_book(LiveBook(book), html=folder / "监督报告.html", pdf=_pdf(folder / "监督报告.pdf"))
    return _made([result.pdf, result.html])


@button
def rollover(book, confirm):
    """年度结转: next year's workbook beside this one (its name with the year moved on)."""
    live = LiveBook(book)
    year = app.due_months(live).year
    if year is None:
        return f"「{S.SETTINGS.name}」中没有年度，不能结转。请填写年度后重试。"
    stem = Path(book.fullname).stem
    name = re.sub(str(year), str(year + 1), stem) if str(year) in stem else f"{stem}{year + 1}"
    suffix = Path(book.fullname).suffix.lower()
    to = _folder(book) / f"{name}{suffix if suffix in ('.xlsx', '.xlsm') else '.xlsx'}"  # .xlsm: with the buttons
    if not _ask(book, f"生成 {year + 1} 年度的工作簿「{to.name}」？", confirm):
        return None
    result = app.rollover_book(live, to=to)
    return f"已生成 {year + 1} 年度工作簿「{result.path}」：带入 {len(result.rollover.carried)} 户，积分永不清零。"


#: The folder beside the township workbook that the 导入各村台账 button imports.
VILLAGES_FOLDER = "各村台账"


@button
def township_import(book, confirm):
    """导入各村台账: every village workbook in the folder 各村台账 beside the township workbook,
    with the award rules (评优规则) as they stand in the workbook the button was pressed in.

    The result goes to a NEW workbook beside this one, ``<this workbook's name>（M月D日导入）.xlsx``,
    with the printable report beside it (``…汇总报告.pdf`` where LibreOffice is found, and ``.html``)
    (the day's date: an import later the same day replaces it, with a backup in 备份/), which is
    then opened in Excel: the workbook the officer is in cannot be replaced while Excel has it
    open, the charts and tables are drawn by the file writer (``io.township_book``) rather than
    cell by cell, and earlier imports stay for comparison. Its name is known before the work, so an
    output that cannot be written (open in Excel from an earlier import) is refused first. The
    workbook's own folder is never imported: it holds this workbook and earlier results.
    """
    from .core.awards import default_award_rules
    from .io.township_book import award_rules_from_rows
    from .township import import_township

    folder = _folder(book)
    source = folder / VILLAGES_FOLDER
    if not source.is_dir():
        raise JifenError(f"没有找到存放各村台账的文件夹「{source}」。请在本工作簿所在的文件夹「{folder}」里"
                         f"新建一个名为“{VILLAGES_FOLDER}”的文件夹，把各村报送的工作簿（.xlsx）放进去，"
                         f"再按“导入各村台账”。")
    live = LiveBook(book)
    rows = live.sheet_rows(S.AWARD_RULES.name)
    try:  # a wrong rule is refused before any work, with the text the CLI prints
        rules = award_rules_from_rows(rows, book.name) if rows is not None else None
    except ValidationFailed as exc:
        raise JifenError(exc.message) from exc
    today = dt.date.today()
    stem = f"{Path(book.fullname).stem}（{today.month}月{today.day}日导入）"
    out, html = folder / f"{stem}.xlsx", folder / f"{stem}汇总报告.html"
    pdf = _pdf(folder / f"{stem}汇总报告.pdf")  # for the township meeting, as the print buttons make theirs
    result = import_township(source, out, workers=1, html=html, pdf=pdf,
                             rules=rules if rules is not None else default_award_rules())
    counts = "，".join(f"{s} {n} 个" for s, n in result.counts.items() if n)
    opened = live.open_file(result.out)
    return "\n".join([f"已导入 {len(result.villages)} 个村的台账（「{VILLAGES_FOLDER}」中共 {len(result.files)} 个文件：{counts}）。",
                      f"已生成乡镇汇总工作簿「{result.out}」" + ("，已在 Excel 中打开。" if opened else "，请在文件夹中打开它。"),
                      _made([pdf, html]), *(f"注意：{w}" for w in result.warnings)])


if __name__ == "__main__":  # a developer's session: Excel open on the workbook, then run a function here
    import xlwings as xw

    xw.Book("村级积分台账.xlsm").set_mock_caller()
