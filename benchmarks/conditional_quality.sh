#!/usr/bin/env bash
# cGAN and ACGAN against unconditional DCGAN on Fashion-MNIST at the same wall-clock budget (issue 8),
# then the Classification Accuracy Score of the conditional run with the lower FID.
#   flock /tmp/gankit-measure.lock bash benchmarks/conditional_quality.sh [MINUTES] [OUT_DIR] [CAS_N] [--set ...]
# Extra arguments (e.g. --set model.g_base=32 --set model.d_base=32) go to all three trainings.
set -euo pipefail
MINUTES=${1:-10}
OUT=${2:-runs/conditional-quality}
CAS_N=${3:-10000}
shift $(( $# < 3 ? $# : 3 ))
SEED=0
export PYTHONPATH=${PYTHONPATH:-src}
g() { echo "\$ gankit $*  [$(date -u +%T)]"; python -m gankit "$@"; }
for model in cgan acgan dcgan; do
  g train "$model" --data fashion-mnist --minutes "$MINUTES" --seed "$SEED" --out "$OUT/$model" --no-progress "$@"
done
for model in cgan acgan dcgan; do
  g eval "$OUT/$model" -n 10000 --metrics fid,kid,score --json "$OUT/$model/eval.json" --quiet
done
best=$(python - "$OUT" <<'PY'
import json, sys
fid = {m: json.load(open(f"{sys.argv[1]}/{m}/eval.json"))["fid"] for m in ("cgan", "acgan")}
print(min(fid, key=fid.get))
PY
)
g eval "$OUT/$best" -n "$CAS_N" --metrics cas --json "$OUT/$best/cas.json"
echo "done [$(date -u +%T)]"
