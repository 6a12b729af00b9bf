"""Every word the command line prints is Chinese: click's own words, help, metavars, OS errors.

Walks every command of ``cli`` (including ones added later), and runs the real program in a
subprocess where the terminal, pipes or permissions matter.
"""

from __future__ import annotations

import ast
import inspect
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from jifen_xl import __version__, cli_zh
from jifen_xl.cli import cli
from jifen_xl.errors import OS_REASONS, chinese_os_text, os_reason

ROOT = Path(__file__).resolve().parents[1]
# Names that are not English words to translate: products and formats, and file extensions.
PROPER = {"JSON", "Excel", "WPS", "LibreOffice", "Windows", "xlsx", "xlsm", "PDF", "zip", "Parquet"}


def all_commands():
    """(words, command) of every command, the sub-commands of a group (``township import``) included."""
    for name, command in cli.commands.items():
        yield name, command
        for sub, inner in getattr(command, "commands", {}).items():
            yield f"{name} {sub}", inner


COMMAND_WORDS = {part for words, _ in all_commands() for word in words.split() for part in word.split("-")}


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def english_words(text: str) -> list[str]:
    """ASCII words in ``text`` other than the program's, command and option names, and PROPER."""
    text = text.replace("jifen-xl", "")
    text = re.sub(r"(?<![\w-])--?[a-z][a-z0-9-]*", "", text)  # option names
    text = re.sub(r"\b[EW]-[A-Z0-9]+(?:-[A-Z0-9]+)*\b", "", text)  # rule ids (规则编号), codes not words
    text = re.sub(r"#(?:DIV/0!|REF!|N/A|VALUE!|NAME\?|NUM!|NULL!)", "", text)  # Excel's error values, as shown
    return [w for w in re.findall(r"[A-Za-z]+", text) if w not in PROPER and w not in COMMAND_WORDS]


def invocations():
    """(argv, why) for every command: its help, an unknown option, nothing given, an extra
    argument, and a wrong value for every option that takes a typed value."""
    yield ["--help"], "help"
    yield ["-h"], "help"
    yield [], "no command"
    yield ["--没有这个选项"], "unknown option"
    yield ["不存在的命令"], "unknown command"
    for words, command in all_commands():
        name = words.split()
        yield [*name, "--help"], "help"
        yield [*name, "--没有这个选项"], "unknown option"
        yield name, "nothing given"
        yield [*name, "甲", "乙", "丙"], "extra arguments"
        if any(isinstance(p, click.Option) and p.required for p in command.params):
            yield name + ["甲" for p in command.params if isinstance(p, click.Argument)], "required options missing"
        for param in command.params:
            if isinstance(param, click.Option) and not param.is_flag and param.type is not click.STRING:
                yield [*name, param.opts[0], "（错）"], "wrong value"
                yield [*name, param.opts[0]], "value missing"
            if isinstance(param, click.Option) and param.is_flag:
                yield [*name, f"{param.opts[-1]}=1"], "flag given a value"


def test_every_word_of_every_command_is_chinese(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # nothing here runs a command's work, but a mistake must not litter the checkout
    seen = 0
    for argv, why in invocations():
        result = run(*argv)
        assert result.output.strip(), (argv, why)
        assert "Traceback" not in result.output, (argv, result.output)
        assert english_words(result.output) == [], (argv, why, result.output)
        seen += 1
    assert seen > 20


def test_help_of_each_command_names_its_options_and_chinese_metavars():
    for name, command in all_commands():
        out = run(*name.split(), "-h").output
        assert out.startswith(f"用法：jifen-xl {name} [选项]")
        assert "\n选项：\n" in out and "显示本帮助后退出。" in out
        for param in command.params:
            if isinstance(param, click.Option):
                assert param.opts[0] in out, (name, param.opts)
                assert param.help and not param.help.isascii(), (name, param.opts)
            if getattr(param, "is_flag", False):
                continue  # a flag shows no metavar
            metavar = param.make_metavar(click.Context(command))
            assert metavar is None or not re.search(r"[A-Za-z]", metavar.strip("[]")), (name, metavar)


def test_top_level_help_exactly():
    out = run("-h").output
    assert out.startswith("用法：jifen-xl [选项] 命令 [参数]...\n\n  乡村治理积分制工具：")
    assert "\n选项：\n  --version   显示版本号后退出。\n  --verbose   出错时显示完整的技术信息（供技术人员排查）。\n" \
           "  -h, --help  显示本帮助后退出。\n\n命令：\n" in out


def test_version():
    result = run("--version")
    assert (result.exit_code, result.output) == (0, f"jifen-xl 版本 {__version__}\n")


def test_usage_errors_exactly():
    hint = "运行 jifen-xl {cmd}--help 查看帮助。\n\n"
    cases = {
        ("validat",): ("用法：jifen-xl [选项] 命令 [参数]...\n" + hint.format(cmd="")
                       + "错误：没有命令 'validat'。 是不是要输入 'validate'？\n"),
        ("validate",): ("用法：jifen-xl validate [选项] 工作簿\n" + hint.format(cmd="validate ")
                        + "错误：缺少参数 '工作簿'。\n"),
        ("validate", "--jsn", "村.xlsx"): ("用法：jifen-xl validate [选项] 工作簿\n" + hint.format(cmd="validate ")
                                           + "错误：没有选项 '--jsn'。 是不是要输入 '--json'？\n"),
        ("new", "村.xlsx", "--village", "永宁寺村"): ("用法：jifen-xl new [选项] 文件\n" + hint.format(cmd="new ")
                                                    + "错误：缺少选项 '--district'。\n"),
        ("new", "村.xlsx", "--year", "1999"): ("用法：jifen-xl new [选项] 文件\n" + hint.format(cmd="new ")
                                              + "错误：'--year' 的值不对：1999 超出范围（2000 至 2100）。\n"),
        ("demo", "村", "--households", "很多"): ("用法：jifen-xl demo [选项] 文件夹\n" + hint.format(cmd="demo ")
                                                + "错误：'--households' 的值不对：'很多' 不是有效的整数。\n"),
        ("validate", "甲.xlsx", "乙.xlsx"): ("用法：jifen-xl validate [选项] 工作簿\n" + hint.format(cmd="validate ")
                                             + "错误：多余的参数：乙.xlsx\n"),
        ("validate", "--json=1", "甲.xlsx"): "错误：选项 '--json' 后面不能带值。\n",
        ("ledger", "甲.xlsx", "--month"): "错误：选项 '--month' 后面需要一个值。\n",
    }
    for argv, want in cases.items():
        result = run(*argv)
        assert (result.exit_code, result.output) == (2, want), argv


def test_option_table_shows_chinese_defaults_ranges_and_required():
    out = run("new", "-h").output
    assert "  --year 整数            年度，例如 2026。 [2000 至 2100; 必填]\n" in out
    assert "  --publicity-days 整数  公示天数。 [默认：7; 1 至 60]\n" in out


def test_help_columns_line_up_in_terminal_columns():
    """Chinese characters are two columns wide: the help texts start in one column."""
    from jifen_xl.render import display_width

    for name in cli.commands:
        lines = run(name, "-h").output.split("选项：\n", 1)[1].splitlines()
        starts = set()
        for line in lines:
            m = re.match(r"(  \S.*?  +)\S", line)
            if m and line.startswith("  -"):
                starts.add(display_width(m.group(1)))
        assert len(starts) == 1, (name, lines)
        assert all(display_width(line) <= 80 for line in lines), name


def test_ledger_help_states_the_default_month():
    assert _joined(run("ledger", "-h").output).count(
        "--month 年-月  从 1 月算到哪个月，例如 2026-03。默认：算到有已确认登记的最后一个月；但如果某个月还有“待公示”"
        "“公示中”的登记或未处理的异议，只算到最早的这样一个月之前（这些月份要等公示期满、异议处理完才能计入）。") == 1


def _joined(help_text: str) -> str:
    """The help with its wrapping undone (continuation lines joined without their indent)."""
    return "".join(line.strip() if line.startswith(" " * 10) else "\n" + line for line in help_text.splitlines())


@pytest.mark.parametrize("status, months", [("公示中", ["2026-01"]),   # Feb open: stop before it, though Mar is confirmed
                                            ("已确认", ["2026-01", "2026-02", "2026-03"])])  # only Apr's 2026-010 open
def test_ledger_default_month_is_what_the_help_says(tmp_path, tables, status, months):
    import json

    from .conftest import build
    from .test_validate import edit

    book = build(tmp_path / "村.xlsx", edit(tables, "entries", 3, status=status))  # 2026-004, February
    result = run("ledger", book, "--json", "--dry-run")
    assert result.exit_code == 0, result.output
    assert sorted({r["月份"] for r in json.loads(result.stdout)}) == months


def test_aborted_is_chinese():
    @click.group(cls=cli_zh.ChineseGroup)
    def tool():
        """工具。"""

    @tool.command()
    def wait():
        """等待。"""
        raise KeyboardInterrupt

    result = CliRunner().invoke(tool, ["wait"])
    assert (result.exit_code, result.output) == (1, "\n已中止。\n")


# --- the catalogue stays true to click ----------------------------------------------------------

def click_message_ids() -> set[str]:
    """Every literal message id click passes to gettext / ngettext (singular), from its source."""
    ids = set()
    for path in Path(click.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("_", "ngettext")
                    and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                ids.add(node.args[0].value)
    return ids


# Messages only a developer sees (a wrong declaration in code, shell-completion set-up, termui colours).
DEVELOPER_ONLY = {
    "Could not determine name for option with declarations {decls!r}",
    "No options defined but a name was passed ({name}). Did you mean to declare an argument instead? "
    "Did you mean to pass '--{name}'?",
    "Arguments take exactly one parameter declaration, got {length}: {decls}.",
    "Name '{name}' defined twice",
    "Boolean option {decl!r} cannot use the same flag for true/false.",
    "Invalid start character for option ({option})",
    "Unknown color {colour!r}",
    "Unknown standard stream '{name}'",
    "Couldn't detect Bash version, shell completion is not supported.",
    "Shell completion is not supported for Bash versions older than 4.4.",
}


def test_catalogue_covers_every_message_click_prints_and_only_real_ones():
    ids = click_message_ids() | {"required"}  # passed as _(extra["required"])
    translated = set(cli_zh.CLICK_ZH) | set(cli_zh.CLICK_ZH_PLURAL)
    assert translated - ids == set()  # no stale entries: each key is a message click really has
    untranslated = ids - translated - DEVELOPER_ONLY
    assert untranslated == set(), f"click prints words the catalogue does not translate: {untranslated}"
    for zh in list(cli_zh.CLICK_ZH.values()) + [z for pair in cli_zh.CLICK_ZH_PLURAL.values() for z in pair]:
        words = [w for w in re.findall(r"[A-Za-z]+", re.sub(r"\{[^}]*\}|%\(\w+\)s", "", zh)) if w not in PROPER]
        assert words == [], zh


def test_catalogue_placeholders_match_click():
    def fields(s):
        return sorted(set(re.findall(r"\{(\w+)", s)) | set(re.findall(r"%\((\w+)\)s", s)))

    for msgid, zh in cli_zh.CLICK_ZH.items():
        assert set(fields(zh)) <= set(fields(msgid)), msgid  # .format() of click's arguments never fails
    for msgid, pair in cli_zh.CLICK_ZH_PLURAL.items():
        for zh in pair:
            assert "{" not in zh or set(fields(zh)) <= {"possibility", "possibilities", "args", "name", "nargs", "len",
                                                         "value", "choice", "choices", "format", "formats",
                                                         "len_type", "len_value"}, msgid


def test_every_click_module_that_speaks_uses_the_catalogue():
    import gettext

    patched = cli_zh.install()
    assert {"click.core", "click.exceptions", "click.types", "click.formatting", "click.parser", "click.decorators",
            "click.termui"} <= set(patched)
    for name, module in sys.modules.items():
        if name.startswith("click"):
            assert getattr(module, "_", None) is not gettext.gettext, name
            assert getattr(module, "ngettext", None) is not gettext.ngettext, name


def test_a_plain_click_command_added_later_speaks_chinese_too():
    @click.group(cls=cli_zh.ChineseGroup)
    def tool():
        """工具。"""

    @click.command()
    @click.argument("book")
    @click.option("--times", type=click.IntRange(1, 3), default=1, show_default=True, help="次数。")
    @click.option("--ratio", type=float, help="比例。")
    def work(book, times, ratio):
        """干活。"""

    tool.add_command(work)
    out = CliRunner().invoke(tool, ["work", "--help"]).output
    assert "用法：tool work [选项] 工作簿\n" in out
    assert "--times 整数  次数。 [默认：1; 1 至 3]" in out and "--ratio 数" in out
    bad = CliRunner().invoke(tool, ["work", "甲", "--ratio", "很大"]).output
    assert bad.endswith("错误：'--ratio' 的值不对：'很大' 不是有效的数。\n")


# --- OS errors ---------------------------------------------------------------------------------

def test_os_reasons_are_chinese_for_every_known_code():
    for code, zh in OS_REASONS.items():
        exc = OSError(code, os.strerror(code), "甲.xlsx")
        assert os_reason(exc) == zh and not re.search(r"[A-Za-z]{2,}", zh.replace("Excel", "").replace("WPS", ""))
        assert chinese_os_text(f"无法打开「甲.xlsx」：{os.strerror(code)}。") == f"无法打开「甲.xlsx」：{zh}。"
        assert chinese_os_text(f"出错（[Errno {code}] {os.strerror(code)}）") == f"出错（{zh}）"
    assert os_reason(OSError(99999, "Weird")) == "系统错误（错误号 99999）"
    assert os_reason(OSError(99999, "系统找不到指定的文件。")) == "系统找不到指定的文件。"  # Windows in Chinese


def test_new_in_a_folder_that_does_not_exist(tmp_path):
    target = tmp_path / "没有这个文件夹" / "永宁寺村.xlsx"
    result = run("new", target, "--district", "沙坪坝区", "--township", "中梁镇", "--village", "永宁寺村", "--year", 2026)
    assert result.exit_code == 1
    assert result.output == f"错误：无法写入“{target}”：文件或文件夹不存在。请检查文件夹是否存在、是否有写入权限。\n"


def test_new_below_a_file(tmp_path):
    (tmp_path / "说明.txt").write_text("x")
    target = tmp_path / "说明.txt" / "永宁寺村.xlsx"
    result = run("new", target, "--district", "沙坪坝区", "--township", "中梁镇", "--village", "永宁寺村", "--year", 2026)
    assert result.exit_code == 1
    assert result.output == f"错误：无法写入“{target}”：路径中有一级不是文件夹。请检查文件夹是否存在、是否有写入权限。\n"


def test_validate_a_folder(tmp_path):
    folder = tmp_path / "村.xlsx"
    folder.mkdir()
    result = run("validate", folder)
    assert result.exit_code == 2
    assert result.output.endswith(f"错误：'工作簿' 的值不对：'{folder}' 是文件夹，这里需要文件。\n")


def test_validate_a_missing_file(tmp_path):
    result = run("validate", tmp_path / "没有.xlsx")
    assert (result.exit_code, result.output) == (2, f"错误：找不到文件「{tmp_path / '没有.xlsx'}」。请检查文件名和所在文件夹。\n")


def test_validate_a_name_too_long(tmp_path):
    name = "长" * 120 + ".xlsx"  # 365 bytes: more than a file name may have
    result = run("validate", tmp_path / name)
    assert result.exit_code == 2
    assert result.output == (f"错误：读写文件「{tmp_path / name}」时出错（文件名或路径过长）。没有写入文件「{name}」。"
                             "请检查文件名、所在文件夹和权限后重试；如果仍然出错，请加 --verbose 重新运行，把输出发给技术人员。\n")


def _without_root_powers():
    """argv prefix running a command as root without the power to ignore file permissions."""
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("setpriv not found")
    if os.geteuid() != 0:
        return []
    probe = subprocess.run([setpriv, "--bounding-set=-dac_override,-dac_read_search", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"cannot drop capabilities here: {probe.stderr.decode().strip()}")
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search"]


def jifen(*args, prefix=(), **kwargs):
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    kwargs.setdefault("stdout", subprocess.PIPE)
    return subprocess.run([*prefix, sys.executable, "-m", "jifen_xl", *map(str, args)], stderr=subprocess.PIPE,
                          env=env, **kwargs)


def test_unreadable_file(tmp_path):
    prefix = _without_root_powers()
    book = tmp_path / "锁着.xlsx"
    book.write_bytes(b"PK\x03\x04")
    book.chmod(0)
    done = jifen("validate", book, prefix=prefix)
    assert done.returncode == 2
    assert done.stderr.decode().endswith(f"错误：'工作簿' 的值不对：文件 '{book}' 没有读取权限。\n")


def test_folder_without_write_permission(tmp_path, village_book):
    prefix = _without_root_powers()
    folder = village_book.parent
    folder.chmod(0o555)
    try:
        done = jifen("validate", village_book, prefix=prefix)
    finally:
        folder.chmod(0o755)
    err = done.stderr.decode()
    assert done.returncode == 1, err
    assert "没有权限" in err and english_words(err.replace(str(folder), "")) == [], err


# --- output cut off, and what the message says about the file -------------------------------------

def test_reader_gone_before_any_output_exits_141_quietly_and_the_write_stays(village_book):
    r, w = os.pipe()
    os.close(r)  # nobody will ever read: the first print fails with EPIPE
    try:
        done = jifen("validate", village_book, stdout=w)
    finally:
        os.close(w)
    assert (done.returncode, done.stderr) == (141, b"")
    assert len(list((village_book.parent / "备份").iterdir())) == 1  # written before the printing


@pytest.mark.parametrize("redirect", ["", "2>&1"])
def test_pipe_into_a_reader_that_quits(tmp_path, tables, redirect):
    """``jifen-xl validate BOOK | true`` in a real shell: the output is cut off, so the run ends
    there: no message, no traceback, exit 141 (also when the error message would follow)."""
    from .conftest import build
    from .test_validate import edit

    book = build(tmp_path / "错.xlsx", edit(tables, "entries", 0, points=7))
    (tmp_path / "~$错.xlsx").write_bytes(b"\x00")  # an error message on stderr would follow the report
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    script = f'"{sys.executable}" -m jifen_xl validate "{book}" {redirect} | true; echo "${{PIPESTATUS[0]}}" >&2'
    done = subprocess.run(["bash", "-c", script], capture_output=True, env=env)
    assert done.stderr.decode().splitlines() == ["141"]
    assert not (tmp_path / "备份").exists()


def test_help_into_a_reader_that_quits():
    r, w = os.pipe()
    os.close(r)
    try:
        done = jifen("ledger", "-h", stdout=w)
    finally:
        os.close(w)
    assert (done.returncode, done.stderr) == (141, b"")


def test_an_error_after_the_write_never_says_the_file_is_unchanged(village_book):
    """A terminal that cannot show Chinese (Latin-1): printing fails after 校验结果 was written."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONIOENCODING="latin-1")
    done = subprocess.run([sys.executable, "-m", "jifen_xl", "validate", str(village_book)], capture_output=True,
                          env=env)
    message = done.stderr.decode("latin-1").encode("latin-1").decode("unicode_escape")
    assert done.returncode == 2
    assert message.startswith("错误：处理时出现意外错误。文件「永宁寺村.xlsx」在出错前已经写入。"), message
    assert "未被改动" not in message
    assert len(list((village_book.parent / "备份").iterdir())) == 1


def _tool_failing(after_writing: bool):
    from jifen_xl.cli import handle_errors

    @click.group(cls=cli_zh.ChineseGroup)
    def tool():
        """工具。"""

    @tool.command()
    @click.argument("book", type=click.Path(dir_okay=False))
    @handle_errors
    def work(book):
        """干活。"""
        if after_writing:
            with open(book, "ab") as fh:
                fh.write(b"\0")
        raise RuntimeError("坏了")

    return tool


@pytest.mark.parametrize("after_writing, note", [(False, "文件「村.xlsx」未被改动。"),
                                                 (True, "文件「村.xlsx」在出错前已经写入。")])
def test_unexpected_error_says_what_the_disk_shows(tmp_path, after_writing, note):
    book = tmp_path / "村.xlsx"
    book.write_bytes(b"PK")
    result = CliRunner().invoke(_tool_failing(after_writing), ["work", str(book)])
    assert result.exit_code == 2
    assert result.output == (f"错误：处理时出现意外错误。{note}请加 --verbose 重新运行，把输出发给技术人员"
                             "（技术信息：RuntimeError: 坏了）。\n")


def test_cli_module_declares_commands_after_installing_the_catalogue():
    """click.Path names itself ("file") when declared: cli_zh must be imported first."""
    source = inspect.getsource(sys.modules["jifen_xl.cli"])
    assert source.index("from .cli_zh import") < source.index("@click.group(")


def test_help_paragraphs_wrap_in_terminal_columns_and_keep_marked_blocks():
    @click.group(cls=cli_zh.ChineseGroup)
    def tool():
        """工具。"""

    @tool.command()
    def work():
        """第一段：校验工作簿，列出全部问题，并写入“校验结果”工作表，这一段足够长，要折成两行以上才能放下。

        \b
        第二段  保持原样
          缩进  也保持
        """

    formatter = cli_zh.ChineseHelpFormatter(width=40)
    work.format_help_text(click.Context(work), formatter)
    assert formatter.getvalue() == (
        "  第一段：校验工作簿，列出全部问题，并写\n"
        "  入“校验结果”工作表，这一段足够长，要折\n"
        "  成两行以上才能放下。\n"
        "\n  第二段  保持原样\n    缩进  也保持\n")
