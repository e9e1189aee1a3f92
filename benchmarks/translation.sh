#!/bin/sh
# The image-to-image rows of benchmarks/RESULTS.md (issue 10), each trained on a fixed wall-clock
# budget and then scored on its held-out pairs with `gankit translate RUN --eval`:
#   lane 1: pix2pix edges2emoji cGAN + L1 (the headline), L1 alone, edges2fashion, cGAN alone
#   lane 2: CycleGAN EmojiOne <-> Noto, pix2pix EmojiOne -> Noto on the pairs (its upper bound),
#           pix2pix edges2emoji with the 1x1 PixelGAN and with the whole-image ImageGAN
# The two lanes run side by side with one OpenMP thread each (one core per run on a 2-core
# machine), followed by the identity baselines. Usage:
#   sh benchmarks/translation.sh [OUT_DIR] [MINUTES]        # defaults: runs/translation 30
# Then `python benchmarks/translation_table.py OUT_DIR` prints the table.
set -e
OUT=${1:-runs/translation}
MINUTES=${2:-30}
export OMP_NUM_THREADS=1
mkdir -p "$OUT"

row() {  # row NAME MODEL DATA [--set ...]
    name=$1 model=$2 data=$3
    shift 3
    python -m gankit train "$model" --data "$data" --set model.g_base=32 --set model.d_base=32 --seed 0 \
        --no-progress --set train.sample_every=2000 --minutes "$MINUTES" --out "$OUT/$name" "$@" \
        > "$OUT/$name.train.log" 2>&1
    python -m gankit translate "$OUT/$name" --eval --json "$OUT/$name.eval.json"
    if [ "$model" = cyclegan ]; then
        python -m gankit translate "$OUT/$name" --eval --direction BtoA --json "$OUT/$name.evalBtoA.json"
    fi
}

EMOJI="--set data.size=32"
(
    row p2p-cgan-l1 pix2pix edges2emoji $EMOJI
    row p2p-l1 pix2pix edges2emoji $EMOJI --set model.adversarial=false
    row p2p-e2f pix2pix edges2fashion
    row p2p-cgan pix2pix edges2emoji $EMOJI --set model.l1_weight=0
) &
(
    row cyclegan cyclegan emojione2noto $EMOJI
    row p2p-one2noto pix2pix emojione2noto $EMOJI
    row p2p-pixel pix2pix edges2emoji $EMOJI --set model.patch=pixel
    row p2p-image pix2pix edges2emoji $EMOJI --set model.patch=image
) &
wait
for run in p2p-cgan-l1 p2p-e2f p2p-one2noto; do  # the inputs themselves as the translation
    python -m gankit translate "$OUT/$run" --eval --baseline --json "$OUT/$run.baseline.json"
done
python -m gankit translate "$OUT/cyclegan" --eval --baseline --direction BtoA --json "$OUT/cyclegan.baselineBtoA.json"
