"""Exception hierarchy. Imports nothing from the package.

Every message is for a village clerk: Chinese, naming the file / sheet / row /
column where known, and saying how to fix it. Only ``cli.py`` (and later
``macros.py``) translate these into user-facing output.
"""


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
