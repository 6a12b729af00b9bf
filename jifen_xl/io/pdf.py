"""Print a sheet image (a one-sheet .xlsx) to PDF with LibreOffice headless.

LibreOffice prints the sheet as its page setup says (A4, fit to width, print titles, footer)
and embeds the fonts it used (a CJK font for the Chinese text). Each run has its own
throw-away user profile, so it never meets the lock of a LibreOffice the clerk has open, nor
of another run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

from ..errors import JifenError

#: Seconds before a conversion is abandoned (a large notice prints in a few seconds).
TIMEOUT = 180
#: Where LibreOffice usually is when it is not on PATH.
_USUAL = (
    r"C:\Program Files\LibreOffice\program\soffice.exe",
    r"C:\Program Files (x86)\LibreOffice\program\soffice.exe",
    "/Applications/LibreOffice.app/Contents/MacOS/soffice",
    "/opt/libreoffice/program/soffice",
)


def find_soffice() -> str | None:
    """The LibreOffice program: $JIFEN_SOFFICE, else ``soffice``/``libreoffice`` on PATH, else
    its usual install places; None when there is none."""
    named = os.environ.get("JIFEN_SOFFICE")
    if named:
        return named if Path(named).is_file() else None
    found = shutil.which("soffice") or shutil.which("libreoffice")
    return found or next((p for p in _USUAL if Path(p).is_file()), None)


def sheet_to_pdf(xlsx: str | Path, pdf: str | Path, *, timeout: float = TIMEOUT) -> Path:
    """Convert the sheet image ``xlsx`` to ``pdf`` (replaced if it exists).

    :raises JifenError: LibreOffice is missing, fails or takes longer than ``timeout``.
    """
    xlsx = Path(xlsx)
    return _convert(lambda work: Path(shutil.copyfile(xlsx, work / "notice.xlsx")), ["--calc", "--convert-to", "pdf"],
                    pdf, f"「{xlsx.name}」", "或改用 --xlsx 生成表格后在 Excel 或 WPS 中打印", timeout)


#: Household rows that go with the totals and the signature block when these would otherwise
#: stand alone on the notice's last page.
KEEP_WITH_SIGNATURE = 2
_PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")


def page_count(pdf: str | Path) -> int:
    """Pages of a PDF LibreOffice wrote (its page objects are never compressed)."""
    return len(_PAGE.findall(Path(pdf).read_bytes()))


def notice_to_pdf(template: str | Path, data: dict, pdf: str | Path, work: str | Path, *,
                  timeout: float = TIMEOUT) -> Path:
    """Fill the notice ``template`` with ``data`` and print it to ``pdf``, keeping the rows below
    the household table (totals, note, signature block) with the table's last rows.

    LibreOffice breaks pages by row heights; when the rows below the table would begin a page of
    their own — a last page with the repeated header and a signature under nothing — the notice is
    printed again with a page break before its last ``KEEP_WITH_SIGNATURE`` households.

    :param work: a folder for the sheet images.
    """
    from .xlsxfill import fill_template

    work = Path(work)
    image = fill_template(template, data, work / "notice.xlsx")
    sheet_to_pdf(image, pdf, timeout=timeout)
    if len(data.get("households") or ()) <= KEEP_WITH_SIGNATURE:
        return Path(pdf)
    table = sheet_to_pdf(fill_template(template, data, work / "table.xlsx", hide_tail=True), work / "table.pdf",
                         timeout=timeout)
    if page_count(pdf) > page_count(table):
        kept = fill_template(template, data, work / "kept.xlsx", keep_last=KEEP_WITH_SIGNATURE)
        sheet_to_pdf(kept, pdf, timeout=timeout)
    return Path(pdf)


#: An HTML page opens in Writer as a text document (not Writer/Web, which ignores the page and
#: table widths) and is exported to PDF from there, on A4 (the points card, the 监督报告).
HTML_IMPORT_FILTER = "HTML (StarWriter)"
HTML_PDF_FILTER = "pdf:writer_pdf_Export"


def html_to_pdf(html: str, pdf: str | Path, *, timeout: float = TIMEOUT) -> Path:
    """Write ``html`` (a whole page) as the PDF file ``pdf`` through LibreOffice Writer.

    :raises JifenError: LibreOffice is missing, fails or takes longer than ``timeout``.
    """
    def page(work: Path) -> Path:
        path = work / "page.html"
        path.write_text(html, encoding="utf-8")
        return path

    return _convert(page, [f"--infilter={HTML_IMPORT_FILTER}", "--convert-to", HTML_PDF_FILTER], pdf,
                    "这一页", "或改用 --html 生成网页，再用浏览器打印", timeout)


def _convert(source, args: list[str], pdf: str | Path, what: str, instead: str, timeout: float) -> Path:
    """Run one LibreOffice conversion to PDF in a temporary folder with its own profile.

    :param source: makes the file to convert inside the work folder (an ASCII name: LibreOffice's
        output name follows it) and returns it.
    :param args: the conversion's arguments (filters).
    :param what: the thing converted, for messages; ``instead``: what the clerk can do instead.
    """
    pdf = Path(pdf)
    soffice = find_soffice()
    if soffice is None:
        raise JifenError("没有找到 LibreOffice（soffice），无法生成 PDF。请安装 LibreOffice（免费，https://zh-cn.libreoffice.org），"
                         f"或设置环境变量 JIFEN_SOFFICE 指向 soffice 程序；也可以{instead}。")
    with tempfile.TemporaryDirectory(prefix="jifen-pdf-") as tmp:
        work = Path(tmp)
        src = source(work)
        profile = work / f"profile-{uuid.uuid4().hex}"
        command = [soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
                   "--nologo", "--nodefault", *args, "--outdir", str(work), str(src)]
        try:
            proc = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise JifenError(f"LibreOffice 在 {int(timeout)} 秒内没有把{what}转成 PDF，已放弃，没有写入「{pdf.name}」。"
                             "请关闭其他正在运行的 LibreOffice 后重试。") from None
        except OSError as exc:
            raise JifenError(f"无法启动 LibreOffice（「{soffice}」：{exc.strerror or exc}）。"
                             "请确认 LibreOffice 已正确安装。") from None
        made = src.with_suffix(".pdf")
        if proc.returncode != 0 or not made.is_file():
            detail = (proc.stderr or proc.stdout or "").strip().splitlines()[-1:] or ["无输出"]
            raise JifenError(f"LibreOffice 没能把{what}转成 PDF（退出码 {proc.returncode}，{detail[0]}），"
                             f"没有写入「{pdf.name}」。请确认 LibreOffice 能正常打开文件，{instead}。")
        pdf.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(made), str(pdf))
    return pdf
