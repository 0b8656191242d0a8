#!/usr/bin/env bash
# Create .venv with Python >= 3.11 and install bme-mri (+ test tools). Idempotent.
# Usage: bash scripts/setup.sh            (core + dev tools)
#        BME_SKIP_CHROMIUM=1 bash scripts/setup.sh   (do not try to install Debian's chromium)
set -euo pipefail
cd "$(dirname "$0")/.."

PY=""
for candidate in python3.11 python3.12 python3.13 python3; do
  if command -v "$candidate" >/dev/null 2>&1 &&
     "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
    PY=$candidate; break
  fi
done
[ -n "$PY" ] || { echo "setup: Python >= 3.11 is required (python3.11 not found)" >&2; exit 1; }

if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
# torch FIRST, pinned exactly: 'torch==2.13.0' resolves to the CPU wheel; any other spec may pull
# gigabytes of CUDA packages. Then MONAI (1.6.1 works with numpy 2.x), then the package.
.venv/bin/python -m pip install --quiet torch==2.13.0
.venv/bin/python -m pip install --quiet 'monai>=1.4'
.venv/bin/python -m pip install --quiet -e '.[dev]'

# Headless Chromium for the HTML report screenshot test (Debian package). Optional: the test
# skips with a reason where it is missing.
if [ -z "${BME_SKIP_CHROMIUM:-}" ] && ! command -v chromium >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
      || echo "setup: chromium not installed; the report browser test will be skipped" >&2
  else
    echo "setup: chromium missing and cannot apt-get here; the report browser test will be skipped" >&2
  fi
fi
echo "setup: ready (.venv, $(.venv/bin/python --version))"
