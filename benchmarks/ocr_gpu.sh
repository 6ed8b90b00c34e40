#!/usr/bin/env bash
# One command for a GPU machine (H100/H200): OCR throughput and label efficiency of eca_nfnet_l0, in under 8 minutes.
#
#   bash benchmarks/ocr_gpu.sh                 # prints a Markdown table; JSON in $OUT_DIR/ocr_gpu.json
#
# Needs only python3 with torch, timm, pillow, numpy and safetensors (what GPU machines carry); no registry access.
# Data: $DATA (default benchmarks/data/cap4: 4,000 training + 2,000 fresh test 4-digit CAPTCHAs at the demo's 160x60).
# If it is missing and the `captcha` package is importable, it is generated here; otherwise generate it on any machine
# with `captcha` and copy it over (or carry it with the working tree: about 12 MB as JPEG):
#   python -m mlops.ocr.generate benchmarks/data/cap4 --splits train=4000,test=2000 --length 4 --width 160 --height 60 \
#       --image-format jpg --workers 2
# Knobs (environment): DATA, OUT_DIR, PY, BUDGET_S (whole run, default 470), CURVE_MINUTES (per curve point, default 1.2).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PY:-python3}"
DATA="${DATA:-benchmarks/data/cap4}"
OUT_DIR="${OUT_DIR:-${OUT:-/tmp}/ocr_gpu}"
BUDGET_S="${BUDGET_S:-470}"
CURVE_MINUTES="${CURVE_MINUTES:-1.2}"
mkdir -p "$OUT_DIR"

"$PY" - <<'PYCHECK'
import importlib, sys
missing = [m for m in ("torch", "timm", "PIL", "numpy", "safetensors") if importlib.util.find_spec(m) is None]
if missing:
    sys.exit(f"missing Python packages: {', '.join(missing)}")
import torch
if not torch.cuda.is_available():
    print("warning: no CUDA device; this will measure the CPU (use --quick figures only as a smoke test)", file=sys.stderr)
else:
    print(f"GPU: {torch.cuda.get_device_name(0)} · torch {torch.__version__} · CUDA {torch.version.cuda}", file=sys.stderr)
PYCHECK

if [ ! -f "$DATA/manifest.json" ]; then
  if "$PY" -c "import captcha" 2>/dev/null; then
    echo "==> generating $DATA (4,000 train + 2,000 test CAPTCHAs)" >&2
    "$PY" -m mlops.ocr.generate "$DATA" --splits train=4000,test=2000 --length 4 --width 160 --height 60 \
      --image-format jpg --workers "$(nproc)"
  else
    echo "No dataset at $DATA and no 'captcha' package to draw one. Generate it elsewhere:" >&2
    echo "  python -m mlops.ocr.generate $DATA --splits train=4000,test=2000 --length 4 --width 160 --height 60 --image-format jpg" >&2
    exit 2
  fi
fi

# Throughput: bf16 autocast, channels-last off and on, at the demo's input size (60x160). Then the curve:
# 500 / 1,000 / 2,000 / 4,000 labels (10 % held out for validation and early stop at 100 %) -> sequence accuracy on
# the 2,000 fresh test CAPTCHAs and the time until validation first reached 100 %, each point capped at CURVE_MINUTES.
timeout --signal=INT "$BUDGET_S" "$PY" benchmarks/ocr_gpu.py --data "$DATA" --out "$OUT_DIR/ocr_gpu.json" \
  --workdir "$OUT_DIR/work" --backbones eca_nfnet_l0 --phases throughput,curve \
  --batch-sizes 64,128,256 --channels-last both --steps 20 \
  --label-counts 500,1000,2000,4000 --test-size 2000 --length 4 --img-height 60 --img-width 160 \
  --train-batch-size 64 --epochs 150 --min-steps 3000 --max-minutes-per-run "$CURVE_MINUTES" \
  | tee "$OUT_DIR/ocr_gpu.md"
status=${PIPESTATUS[0]}
if [ "$status" -ne 0 ]; then
  echo "benchmark stopped with status $status (124/130: time budget); partial results: $OUT_DIR/ocr_gpu.json" >&2
  "$PY" -c "import json,sys; sys.path.insert(0,'benchmarks'); import ocr_gpu; print(ocr_gpu.markdown(json.load(open('$OUT_DIR/ocr_gpu.json'))))" || true
fi
exit "$status"
