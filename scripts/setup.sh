#!/usr/bin/env bash
# Create .venv with Python >= 3.11 and install bme-mri (+ test tools). Idempotent.
# Usage: bash scripts/setup.sh            core + test tools (no torch: ~0.6 GB less)
#        bash scripts/setup.sh --learn    also torch + MONAI, the 'learn' extra (learned head finder, train)
#        BME_SKIP_CHROMIUM=1 bash scripts/setup.sh   (do not try to install Debian's chromium)
set -euo pipefail
cd "$(dirname "$0")/.."
LEARN=""
for arg in "$@"; do
  case "$arg" in
    --learn) LEARN=1 ;;
    *) echo "setup: unknown option $arg (use --learn)" >&2; exit 2 ;;
  esac
done

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
if [ -n "$LEARN" ]; then
  # torch FIRST, pinned exactly: 'torch==2.13.0' resolves to the CPU wheel; any other spec may pull
  # gigabytes of CUDA packages. Then the package with its 'learn' extra (MONAI).
  echo "setup: installing torch 2.13.0 (CPU) and MONAI for the learned head finder (--learn)"
  .venv/bin/python -m pip install --quiet torch==2.13.0
  .venv/bin/python -m pip install --quiet -e '.[dev,learn]'
else
  .venv/bin/python -m pip install --quiet -e '.[dev]'
fi

# Headless Chromium for the HTML report screenshot test (Debian package). Optional: the test
# skips with a reason where it is missing.
if [ -z "${BME_SKIP_CHROMIUM:-}" ] && ! command -v chromium >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
    echo "setup: installing Debian's chromium with apt-get (root): the report test opens the HTML report in a real browser; skip with BME_SKIP_CHROMIUM=1"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
      || echo "setup: chromium not installed; the report browser test will be skipped" >&2
  else
    echo "setup: chromium missing and cannot apt-get here; the report browser test will be skipped" >&2
  fi
fi
echo "setup: ready (.venv, $(.venv/bin/python --version))"
