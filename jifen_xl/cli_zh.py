"""The command line speaks Chinese: click's own words, its help layout, and a closed output pipe.

Click writes its words through ``gettext`` (``from gettext import gettext as _`` and
``ngettext`` in its modules). Python's ``gettext.gettext`` picks the language from the
environment (LANGUAGE, LC_ALL, LANG), which a clerk's Windows machine does not set, so a
catalogue installed for the default domain would stay English there. Instead
:func:`install` points those names in click's modules at :class:`ClickChinese`, a
translation whose catalogue is the dictionary below (keys are click 8.x's exact message
ids). It is installed once, when this module is imported (by ``cli.py``, before its
commands are declared: ``click.Path`` names itself at construction).

What click composes without gettext is done by the classes here: the metavars it derives
from type names (``TEXT``, ``INTEGER RANGE``, ``PATH``), range descriptions (``1<=x<=60``),
number type names in messages (``is not a valid integer``), the ``Usage:`` line's pieces
(``[OPTIONS]``, ``COMMAND [ARGS]...``) and the help layout (CJK characters are two columns
wide). :class:`ChineseGroup` applies them to every command declared with ``@cli.command()``,
including ones added later; ``tests/test_cli_chinese.py`` walks them all.
"""

from __future__ import annotations

import functools
import gettext
import importlib
import os
import sys
from contextlib import contextmanager

import click
from click import types as click_types

from .render import display_width, wrap_display

#: Exit code when the reader of our output went away (``jifen-xl validate BOOK | head -1``):
#: what a shell reports for a program ended by SIGPIPE (128 + 13).
EXIT_OUTPUT_CLOSED = 141

# click 8.x message ids -> Chinese. The developer-facing ones (wrong declarations in code,
# shell-completion setup) are left out: a clerk never sees them.
CLICK_ZH = {
    # formatting / help
    "Usage:": "用法：",
    "Options": "选项",
    "Commands": "命令",
    "Show this message and exit.": "显示本帮助后退出。",
    "Show the version and exit.": "显示版本号后退出。",
    "%(prog)s, version %(version)s": "%(prog)s 版本 %(version)s",
    "default: {default}": "默认：{default}",
    "required": "必填",
    "env var: {var}": "环境变量：{var}",
    "(dynamic)": "（随情况而定）",
    "deprecated": "已停用",
    "DeprecationWarning: The command {name!r} is deprecated.{extra_message}":
        "提示：命令 {name!r} 已停用。{extra_message}",
    "DeprecationWarning: The {param_type} {name!r} is deprecated.{extra_message}":
        "提示：{name!r} 已停用。{extra_message}",
    # errors
    "Error: {message}": "错误：{message}",
    "Try '{command} {option}' for help.": "运行 {command} {option} 查看帮助。",
    "Missing command.": "缺少命令。",
    "Missing argument": "缺少参数",
    "Missing option": "缺少选项",
    "Missing parameter": "缺少参数",
    "Missing {param_type}": "缺少{param_type}",
    "Missing parameter: {param_name}": "缺少参数：{param_name}",
    "No such option {name!r}.": "没有选项 {name!r}。",
    "No such command {name!r}.": "没有命令 {name!r}。",
    "Invalid value for {param_hint}: {message}": "{param_hint} 的值不对：{message}",
    "Invalid value: {message}": "值不对：{message}",
    "Could not open file {filename!r}: {message}": "无法打开文件 {filename!r}：{message}",
    "unknown error": "未知错误",
    "Aborted!": "已中止。",
    "Value must be an iterable.": "这里需要一组值。",
    "Option {name!r} does not take a value.": "选项 {name!r} 后面不能带值。",
    "Argument {name!r} takes {nargs} values.": "参数 {name!r} 需要 {nargs} 个值。",
    # parameter types
    "file": "文件",
    "directory": "文件夹",
    "path": "路径",
    "{name} {filename!r} does not exist.": "{name} {filename!r} 不存在。",
    "{name} {filename!r} is a file.": "{filename!r} 是文件，这里需要文件夹。",
    "{name} {filename!r} is a directory.": "{filename!r} 是文件夹，这里需要文件。",
    "{name} {filename!r} is not readable.": "{name} {filename!r} 没有读取权限。",
    "{name} {filename!r} is not writable.": "{name} {filename!r} 没有写入权限。",
    "{name} {filename!r} is not executable.": "{name} {filename!r} 没有执行权限。",
    "{value!r} is not a valid {number_type}.": "{value!r} 不是有效的{number_type}。",
    "{value} is not in the range {range}.": "{value} 超出范围（{range}）。",
    "{value!r} is not a valid boolean. Recognized values: {states}": "{value!r} 不是有效的是/否值。可以写：{states}",
    "{value!r} is not a valid UUID.": "{value!r} 不是有效的编号。",
    "Choose from:\n\t{choices}": "可选：\n\t{choices}",
    "Choice({choices})": "可选（{choices}）",
    # prompts
    "Repeat for confirmation": "请再输入一次确认",
    "Error: The two entered values do not match.": "错误：两次输入的不一致。",
    "Error: invalid input": "错误：输入无效",
    "Press any key to continue...": "按任意键继续……",
    "Do you want to continue?": "是否继续？",
    "{editor}: Editing failed": "{editor}：编辑失败",
    "{editor}: Editing failed: {e}": "{editor}：编辑失败：{e}",
    "d": "天",  # progress bar's days
    "Windows error: {error}": "Windows 出错（错误号 {error}）",
    "Confirm the action without prompting.": "不询问，直接确认。",
}

# ngettext: singular id -> (Chinese for one, Chinese for several).
CLICK_ZH_PLURAL = {
    "Did you mean {possibility}?": ("是不是要输入 {possibility}？", "（是不是要输入其中之一：{possibilities}？）"),
    "Got unexpected extra argument ({args})": ("多余的参数：{args}", "多余的参数：{args}"),
    "Option {name!r} requires an argument.": ("选项 {name!r} 后面需要一个值。", "选项 {name!r} 后面需要 {nargs} 个值。"),
    "Takes {nargs} values but 1 was given.": ("需要 {nargs} 个值，只给了 1 个。", "需要 {nargs} 个值，给了 {len} 个。"),
    "{value!r} is not {choice}.": ("{value!r} 不是 {choice}。", "{value!r} 不是可选值 {choices} 之一。"),
    "{value!r} does not match the format {format}.": ("{value!r} 不符合格式 {format}。",
                                                      "{value!r} 不符合 {formats} 中的任何一种格式。"),
    "{len_type} values are required, but {len_value} was given.": ("需要 {len_type} 个值，给了 {len_value} 个。",
                                                                   "需要 {len_type} 个值，给了 {len_value} 个。"),
}


class ClickChinese(gettext.NullTranslations):
    """click's messages in Chinese (a message without an entry stays as it is)."""

    def gettext(self, message: str) -> str:
        return CLICK_ZH.get(message, message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        if singular in CLICK_ZH_PLURAL:
            return CLICK_ZH_PLURAL[singular][0 if n == 1 else 1]
        return singular if n == 1 else plural


TRANSLATION = ClickChinese()
# click's modules that print words through gettext (the rest import on demand, e.g. the
# Windows console module, and are patched if already loaded).
CLICK_MODULES = ("core", "decorators", "exceptions", "formatting", "parser", "types", "termui", "utils",
                 "shell_completion", "_termui_impl")


def install() -> list[str]:
    """Point ``_`` and ``ngettext`` of click's modules at the Chinese catalogue; idempotent.

    :returns: the modules patched (all that use gettext).
    """
    for name in CLICK_MODULES:
        importlib.import_module(f"click.{name}")
    patched = []
    for name, module in list(sys.modules.items()):
        if not (name == "click" or name.startswith("click.")):
            continue
        found = False
        if getattr(module, "_", None) in (gettext.gettext, TRANSLATION.gettext):
            module._ = TRANSLATION.gettext
            found = True
        if getattr(module, "ngettext", None) in (gettext.ngettext, TRANSLATION.ngettext):
            module.ngettext = TRANSLATION.ngettext
            found = True
        if found:
            patched.append(name)
    return sorted(patched)


install()


# --- parameter types and metavars ------------------------------------------------------------

class _ChineseRange:
    def _describe_range(self) -> str:
        low = high = None
        if self.min is not None:
            low = f"大于 {self.min}" if self.min_open else f"不小于 {self.min}"
        if self.max is not None:
            high = f"小于 {self.max}" if self.max_open else f"不大于 {self.max}"
        if low and high and not (self.min_open or self.max_open):
            return f"{self.min} 至 {self.max}"
        return "且".join(part for part in (low, high) if part)


class ChineseInt(click_types.IntParamType):
    name = "整数"


class ChineseFloat(click_types.FloatParamType):
    name = "数"


class ChineseIntRange(_ChineseRange, click.IntRange):
    name = "整数"


class ChineseFloatRange(_ChineseRange, click.FloatRange):
    name = "数"


def chinese_type(kind: click.ParamType) -> click.ParamType:
    """The same parameter type, with a Chinese name (for metavars and messages) and range text."""
    if type(kind) is click.IntRange:
        return ChineseIntRange(kind.min, kind.max, kind.min_open, kind.max_open, kind.clamp)
    if type(kind) is click.FloatRange:
        return ChineseFloatRange(kind.min, kind.max, kind.min_open, kind.max_open, kind.clamp)
    if type(kind) is click_types.IntParamType:
        return ChineseInt()
    if type(kind) is click_types.FloatParamType:
        return ChineseFloat()
    return kind


#: Chinese metavars of arguments, by parameter name.
ARGUMENT_METAVARS = {"book": "工作簿", "path": "文件", "directory": "文件夹", "file": "文件"}


def chinese_metavar(param: click.Parameter) -> str | None:
    """The metavar click would derive from an English type name, in Chinese (None: click's own)."""
    if isinstance(param, click.Argument):
        return ARGUMENT_METAVARS.get(param.name)
    if getattr(param, "is_flag", False) or getattr(param, "count", False):
        return None
    kind = param.type
    if isinstance(kind, click.Path):
        return {(True, False): "文件", (False, True): "文件夹"}.get((kind.file_okay, kind.dir_okay), "路径")
    if isinstance(kind, click.File):
        return "文件"
    if kind is click.STRING or isinstance(kind, click_types.StringParamType):
        return "文本"
    if isinstance(kind, (ChineseInt, ChineseFloat, ChineseIntRange, ChineseFloatRange)):
        return kind.name
    return None


def speak_chinese(params: list[click.Parameter]) -> None:
    """Give every parameter a Chinese type name and metavar (an explicit metavar is kept)."""
    for param in params:
        param.type = chinese_type(param.type)
        if param.metavar is None:
            param.metavar = chinese_metavar(param)


# --- help layout ----------------------------------------------------------------------------

class ChineseHelpFormatter(click.HelpFormatter):
    """click's help layout measured in terminal columns (a CJK character is two), with
    Chinese headings (全角冒号)."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, TRANSLATION.gettext("Usage:") if prefix is None else prefix)

    def write_heading(self, heading: str) -> None:
        self.write(f"{'':>{self.current_indent}}{heading}：\n")

    def write_text(self, text: str) -> None:
        indent = " " * self.current_indent
        width = max(self.width - self.current_indent, 20)
        blocks = []
        for paragraph in text.split("\n\n"):
            if paragraph.startswith("\b\n"):  # click's mark for "keep these lines as they are"
                lines = paragraph.splitlines()[1:]
            else:
                lines = wrap_display(" ".join(paragraph.split()), width) if paragraph.strip() else []
            if lines:
                blocks.append("".join(f"{indent}{line}\n" for line in lines))
        self.write("\n".join(blocks))

    def write_dl(self, rows, col_max: int = 30, col_spacing: int = 2) -> None:
        rows = list(rows)
        first_col = min(max((display_width(first) for first, _ in rows), default=0), col_max) + col_spacing
        hang = " " * (first_col + self.current_indent)
        for first, second in rows:
            self.write(f"{'':>{self.current_indent}}{first}")
            if not second:
                self.write("\n")
                continue
            width = display_width(first)
            self.write(" " * (first_col - width) if width <= first_col - col_spacing else "\n" + hang)
            lines = wrap_display(second, max(self.width - first_col - 2, 10))
            self.write(lines[0] + "\n" + "".join(f"{hang}{line}\n" for line in lines[1:]))


class ChineseContext(click.Context):
    formatter_class = ChineseHelpFormatter


class ChineseMissingParameter(click.MissingParameter):
    """click's "Missing option '--x'." ends with an English full stop it adds itself."""

    def format_message(self) -> str:
        head, dot, tail = super().format_message().partition(".")
        return f"{head}。{tail.strip()}" if dot else head


def _chinese_parse_errors(parse):
    @functools.wraps(parse)
    def parse_args(self, ctx, args):
        try:
            return parse(self, ctx, args)
        except click.MissingParameter as exc:
            if isinstance(exc, ChineseMissingParameter):
                raise
            raise ChineseMissingParameter(exc.message, exc.ctx, exc.param, exc.param_hint,
                                          exc.param_type) from None
    return parse_args


class ChineseCommand(click.Command):
    """A click command whose every word is Chinese."""

    context_class = ChineseContext

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("options_metavar", "[选项]")
        super().__init__(*args, **kwargs)
        speak_chinese(self.params)

    parse_args = _chinese_parse_errors(click.Command.parse_args)


# --- a closed output pipe ---------------------------------------------------------------------

def _closed_pipes() -> list[int]:
    """File descriptors of stdout/stderr that are pipes whose reader has gone."""
    import select

    fds = []
    for stream in (sys.stdout, sys.stderr):
        try:
            fds.append(stream.fileno())
        except (AttributeError, OSError, ValueError):  # CliRunner's streams, a closed stream
            continue
    if not hasattr(select, "poll"):  # Windows: cannot tell; printing is by far the likeliest
        return fds
    closed = []
    for fd in fds:
        poller = select.poll()
        poller.register(fd, select.POLLOUT)
        if any(events & (select.POLLERR | select.POLLHUP) for _, events in poller.poll(0)):
            closed.append(fd)
    return closed


def output_closed() -> bool:
    """Whether a BrokenPipeError just raised came from printing (stdout or stderr lost its reader),
    rather than from something inside the work."""
    return bool(_closed_pipes())


def quiet_exit_for_closed_output() -> None:
    """Point the closed stdout/stderr at the null device (so the final flush at exit cannot fail
    again or print a traceback) and leave with :data:`EXIT_OUTPUT_CLOSED`."""
    for fd in _closed_pipes():
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, fd)
        os.close(null)
    raise click.exceptions.Exit(EXIT_OUTPUT_CLOSED)


@contextmanager
def closed_output_is_quiet():
    """A BrokenPipeError from printing ends the run quietly; any other goes on up."""
    try:
        yield
    except BrokenPipeError:
        if not output_closed():
            raise
        quiet_exit_for_closed_output()


class ChineseGroup(click.Group):
    """The top command: Chinese words for itself and every command declared on it; output cut
    off by its reader (``| head``) ends quietly with :data:`EXIT_OUTPUT_CLOSED`."""

    context_class = ChineseContext
    command_class = ChineseCommand
    group_class = type  # sub-groups are ChineseGroups too

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("options_metavar", "[选项]")
        kwargs.setdefault("subcommand_metavar", "命令 [参数]...")
        super().__init__(*args, **kwargs)
        speak_chinese(self.params)

    parse_args = _chinese_parse_errors(click.Group.parse_args)

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        if not isinstance(cmd, (ChineseCommand, ChineseGroup)):  # made elsewhere as a plain click command
            cmd.context_class = ChineseContext
            if cmd.options_metavar == "[OPTIONS]":
                cmd.options_metavar = "[选项]"
            speak_chinese(cmd.params)
        super().add_command(cmd, name)

    def make_context(self, *args, **kwargs):  # parsing prints -h and --version
        with closed_output_is_quiet():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx: click.Context):  # the command's own output and its -h
        with closed_output_is_quiet():
            return super().invoke(ctx)

    def main(self, *args, **kwargs):
        try:
            return super().main(*args, **kwargs)
        except BrokenPipeError:  # printing an error message to a closed stderr
            if not output_closed():
                raise
            try:
                quiet_exit_for_closed_output()
            except click.exceptions.Exit as done:
                sys.exit(done.exit_code)
