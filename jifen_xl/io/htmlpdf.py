"""HTML page -> PDF through LibreOffice headless (the points card, the 监督报告).

H3 stand-in (issue 9) until ``io/pdf.py`` (H2a) lands; at the merge, fold this into it. Each
conversion runs with its own throw-away LibreOffice profile, so it never meets a clerk's open
LibreOffice or another conversion.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

from ..errors import JifenError

#: The HTML page opens in Writer as a text document (not Writer/Web, which ignores the page
#: and table widths) and is exported to PDF from there, on A4.
HTML_IMPORT_FILTER = "HTML (StarWriter)"
HTML_PDF_FILTER = "pdf:writer_pdf_Export"


def soffice() -> str | None:
    """The LibreOffice command, or None when it is not installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def html_to_pdf(html: str, pdf: str | Path, *, timeout: float = 180) -> Path:
    """Write ``html`` (a whole page) as the PDF file ``pdf``.

    :raises JifenError: LibreOffice is missing, or the conversion failed (nothing written).
    """
    command = soffice()
    pdf = Path(pdf)
    if command is None:
        raise JifenError("没有找到 LibreOffice（soffice），不能生成 PDF。请安装 LibreOffice 后重试，"
                         "或改用 --html 生成网页，再用浏览器打印。")
    with tempfile.TemporaryDirectory(prefix="jifen-pdf-") as tmp:
        work = Path(tmp)
        page = work / "page.html"
        page.write_text(html, encoding="utf-8")
        profile = work / f"lo-{uuid.uuid4().hex}"
        try:
            proc = subprocess.run(
                [command, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
                 f"--infilter={HTML_IMPORT_FILTER}", "--convert-to", HTML_PDF_FILTER, "--outdir", str(work), str(page)],
                capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise JifenError(f"LibreOffice 在 {int(timeout)} 秒内没有生成 PDF，没有写入「{pdf.name}」。请稍后重试。") from None
        out = work / "page.pdf"
        if proc.returncode != 0 or not out.exists():
            raise JifenError(f"LibreOffice 没能生成 PDF（退出码 {proc.returncode}），没有写入「{pdf.name}」。"
                             "请确认 LibreOffice 能正常打开后重试，或改用 --html。")
        pdf.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(out), str(pdf))
    return pdf
