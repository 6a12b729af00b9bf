#!/usr/bin/env bash
# Everything the test suite needs on a fresh Debian/Ubuntu machine:
# the package with its test and build extras, and LibreOffice headless (the independent
# spreadsheet engine the tests use to re-save, recalculate and print workbooks).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v soffice >/dev/null 2>&1 || ! command -v pdftoppm >/dev/null 2>&1 \
   || ! ls /usr/lib/libreoffice/share/registry/writer.xcd >/dev/null 2>&1 \
   || ! fc-list 2>/dev/null | grep -qi "noto.*cjk"; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends \
      libreoffice-calc-nogui libreoffice-writer-nogui fonts-noto-cjk poppler-utils >/dev/null
  else
    echo "install-test-deps: please install libreoffice-calc-nogui libreoffice-writer-nogui fonts-noto-cjk poppler-utils (needs root)" >&2
  fi
fi

# test: pytest, hypothesis, ruff, oletools; build: pyOpenVBA (the tests build the .xlsm workbooks)
python -m pip install -q --disable-pip-version-check -e '.[test,build]'
