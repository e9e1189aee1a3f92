#!/bin/sh
# The image-to-image rows of benchmarks/RESULTS.md: pix2pix on edges2emoji at 32x32 (cGAN + L1 and
# L1 alone) and CycleGAN EmojiOne -> Noto at 32x32, each on a fixed wall-clock budget, then their
# scores on the held-out pairs. Run it under the shared measurement lock:
#   flock /tmp/gankit-measure.lock sh benchmarks/translation.sh OUT_DIR [P2P_MINUTES] [CYCLEGAN_MINUTES]
# One OpenMP thread: on the shared 2-core machine a second thread's spinning made steps ~20x slower.
set -e
OUT=${1:-runs/translation}
P2P=${2:-3.5}
CYC=${3:-3}
export OMP_NUM_THREADS=1
COMMON="--set data.size=32 --set model.g_base=32 --set model.d_base=32 --seed 0 --no-progress --set train.sample_every=250"
python -m gankit train pix2pix --data edges2emoji $COMMON --minutes "$P2P" --out "$OUT/pix2pix-cgan-l1"
python -m gankit train pix2pix --data edges2emoji $COMMON --minutes "$P2P" --set model.adversarial=false --out "$OUT/pix2pix-l1"
python -m gankit train cyclegan --data emojione2noto $COMMON --minutes "$CYC" --out "$OUT/cyclegan-emojione2noto"
