# Sourced by scripts/run and scripts/test: find or build the virtual environment.
# It lives outside the clone, keyed by a hash of the requirement files, so
# repeated runs (and CI on the same machine) reuse it; a change to the
# requirements builds a new one.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON_BIN="${PYTHON:-python3}"
if ! "$PYTHON_BIN" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
  echo "Python 3.11 or newer is required (found: $("$PYTHON_BIN" --version 2>&1)). Set PYTHON=/path/to/python3.11." >&2
  exit 1
fi
REQ_FILE="${1:-requirements.txt}"
HASH="$(cat requirements.txt requirements-test.txt | sha256sum | cut -c1-12)"
VENV="${COOP_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/coop-platform/venv-$HASH}"
if [ ! -f "$VENV/.complete-$(basename "$REQ_FILE")" ]; then
  echo "==> Setting up the virtual environment in $VENV (first run downloads PyTorch: several GB, a few minutes)"
  "$PYTHON_BIN" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
  "$VENV/bin/python" -m pip install --quiet -r "$REQ_FILE"
  touch "$VENV/.complete-$(basename "$REQ_FILE")"
  [ "$REQ_FILE" = "requirements-test.txt" ] && touch "$VENV/.complete-requirements.txt"
fi
PY="$VENV/bin/python"
export PATH="$VENV/bin:$PATH"
