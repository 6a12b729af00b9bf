"""LibreOffice headless helpers shared by the tests (real conversions, no mocks)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

#: The LibreOffice command, or None when it is not installed.
SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")

#: Skip marker for tests that need LibreOffice.
needs_lo = pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) not installed")

#: PDF export of the first page only (LibreOffice >= 7.4 JSON filter options).
PDF_FIRST_PAGE = 'pdf:calc_pdf_Export:{"PageRange":{"type":"string","value":"1"}}'


def lo_convert(src: Path, fmt: str, outdir: Path, timeout: float = 120) -> Path:
    """Convert ``src`` with LibreOffice headless and return the converted file.

    Each call uses its own throw-away user profile, so concurrent calls (other
    tests, other helpers, a clerk's open LibreOffice) never meet a profile lock.

    :param src: the file to convert.
    :param fmt: a ``--convert-to`` argument, e.g. ``"xlsx"``, ``"pdf"`` or
        ``"pdf:calc_pdf_Export:{...}"``; the output suffix is the part before ``:``.
    :param outdir: directory for the result (created if missing); it must differ from
        ``src``'s directory when converting to the same format.
    :param timeout: seconds before the conversion is abandoned.
    """
    if SOFFICE is None:
        pytest.skip("LibreOffice (soffice) not installed")
    src, outdir = Path(src), Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    profile = Path(tempfile.gettempdir()) / f"lo-{uuid.uuid4().hex}"
    try:
        proc = subprocess.run(
            [SOFFICE, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
             "--calc", "--convert-to", fmt, "--outdir", str(outdir), str(src)],
            capture_output=True, text=True, timeout=timeout, check=False)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    out = outdir / f"{src.stem}.{fmt.split(':', 1)[0]}"
    if proc.returncode != 0 or not out.exists():
        raise AssertionError(f"soffice failed ({proc.returncode}) converting {src} to {fmt}:\n"
                             f"{proc.stdout}\n{proc.stderr}")
    return out
