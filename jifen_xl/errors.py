"""Exception hierarchy. Imports nothing from the package.

Every message is for a village clerk: Chinese, naming the file / sheet / row /
column where known, and saying how to fix it. Only ``cli.py`` (and later
``macros.py``) translate these into user-facing output.
"""

import errno as _errno
import os as _os


class JifenError(Exception):
    """积分工具出错。"""

    exit_code = 1

    def __init__(self, message: str | None = None):
        super().__init__(message or (self.__doc__ or "").strip())

    @property
    def message(self) -> str:
        return str(self)


class WorkbookUnreadable(JifenError):
    """无法读取该文件。请确认它是用 Excel、WPS 或 LibreOffice 保存的工作簿。"""

    exit_code = 2


class SheetMissing(WorkbookUnreadable):
    """工作簿缺少必需的工作表。"""


class HeaderMissing(WorkbookUnreadable):
    """工作表缺少必需的列标题。"""


class WorkbookLocked(JifenError):
    """工作簿正被 Excel 或 WPS 打开，请先关闭后再试。"""


class WriteRefused(JifenError):
    """无法写入该工作簿。"""


class WriteFailed(JifenError):
    """写入工作簿失败，原文件未被改动。"""


class ValidationFailed(JifenError):
    """工作簿存在错误，请先修改后再试。"""

    def __init__(self, report, message: str | None = None):
        super().__init__(message)
        self.report = report


class TemplateBroken(JifenError):
    """公示模板有误（消息中写明模板文件、工作表和单元格），请按提示改正模板。"""


# --- operating-system errors in Chinese -------------------------------------------------
# An OSError's own text is English ("No such file or directory"); a clerk reads it inside a
# Chinese sentence. ``os_reason`` gives the Chinese reason of an OSError; ``chinese_os_text``
# replaces the English OS texts already inside a message (the CLI applies it to every message
# it shows, so a module that still formats ``exc.strerror`` does not leak English).

_OS_REASONS = {
    "ENOENT": "文件或文件夹不存在",
    "EACCES": "没有权限",
    "EPERM": "没有权限",
    "EISDIR": "这是一个文件夹，不是文件",
    "ENOTDIR": "路径中有一级不是文件夹",
    "ENOSPC": "磁盘空间不足",
    "EDQUOT": "磁盘配额已满",
    "EROFS": "磁盘是只读的",
    "ENAMETOOLONG": "文件名或路径过长",
    "EEXIST": "文件已存在",
    "EBUSY": "文件或设备正被占用",
    "ETXTBSY": "文件正被占用",
    "EMFILE": "同时打开的文件过多",
    "ENFILE": "系统中同时打开的文件过多",
    "EIO": "磁盘读写出错（U 盘或磁盘可能有故障）",
    "ELOOP": "路径中的快捷方式（符号链接）循环指向自己",
    "EXDEV": "不能跨磁盘移动文件",
    "EINVAL": "参数无效（文件名可能含有不允许的字符）",
    "ENXIO": "设备不存在（U 盘可能已拔出）",
    "ENODEV": "设备不存在（U 盘可能已拔出）",
    "ENOTEMPTY": "文件夹不是空的",
    "EAGAIN": "资源暂时不可用",
    "ESTALE": "网络共享上的文件已失效",
    "ETIMEDOUT": "连接超时",
    "EPIPE": "输出管道已关闭",
    "ENOMEM": "内存不足",
    "EFBIG": "文件过大",
    "ECONNRESET": "网络连接被断开",
    "EHOSTDOWN": "网络上的计算机没有开机",
    "ENETUNREACH": "网络不通",
    "EHOSTUNREACH": "网络不通",
    "ECONNREFUSED": "连接被拒绝",
    "ENOLCK": "无法给文件加锁",
}
#: errno -> Chinese reason (only the codes this platform defines).
OS_REASONS: dict[int, str] = {getattr(_errno, name): text for name, text in _OS_REASONS.items()
                              if hasattr(_errno, name)}
# Windows: the file is held open by another program (Excel, WPS, an antivirus scan).
_WINERROR_REASONS = {32: "文件正被其他程序（例如 Excel 或 WPS）占用", 33: "文件的一部分被其他程序锁定"}


def os_reason(exc: BaseException) -> str:
    """The Chinese reason of an OS error, for a sentence such as 「无法打开「X」（没有权限）」.

    A code without a Chinese text keeps the system's own text when that is already localised
    (Windows in Chinese), else says 系统错误 and the number.
    """
    if _WINERROR_REASONS.get(getattr(exc, "winerror", None)):
        return _WINERROR_REASONS[exc.winerror]
    code = getattr(exc, "errno", None)
    if code in OS_REASONS:
        return OS_REASONS[code]
    text = getattr(exc, "strerror", None) or ""
    if text and not text.isascii():
        return text
    return f"系统错误（错误号 {code}）" if code is not None else "系统错误"


# The platform's English texts, longest first ("Too many open files in system" before
# "Too many open files").
_ENGLISH = sorted(((_os.strerror(code), code) for code in OS_REASONS), key=lambda pair: -len(pair[0]))


def chinese_os_text(text: str) -> str:
    """``text`` with every English OS error text (``[Errno 2] No such file or directory``) in Chinese."""
    for english, code in _ENGLISH:
        if english in text:
            text = text.replace(f"[Errno {code}] {english}", OS_REASONS[code]).replace(english, OS_REASONS[code])
    return text
