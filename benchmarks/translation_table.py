"""The table of benchmarks/RESULTS.md's translation rows, from the files benchmarks/translation.sh writes.

    python benchmarks/translation_table.py OUT_DIR

One row per scored run (``NAME.eval.json``, ``NAME.evalBtoA.json``, ``NAME.baseline[BtoA].json``):
the checkpoint's step, its epochs, and L1, SSIM, FID and the classifier's accuracy on the
held-out pairs. Rows whose files are missing are left out.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

ROWS = [  # (run directory, score file suffix, label)
    ("p2p-cgan-l1", "eval", "pix2pix cGAN + 100·L1, PatchGAN `auto` (16×16), edges2emoji"),
    ("p2p-l1", "eval", "pix2pix L1 only (`model.adversarial=false`), edges2emoji"),
    ("p2p-cgan", "eval", "pix2pix cGAN only (`model.l1_weight=0`), edges2emoji"),
    ("p2p-pixel", "eval", "pix2pix cGAN + L1, PixelGAN 1×1 (`model.patch=pixel`), edges2emoji"),
    ("p2p-image", "eval", "pix2pix cGAN + L1, ImageGAN 32×32 (`model.patch=image`), edges2emoji"),
    ("p2p-cgan-l1", "baseline", "contours as the output (identity baseline), edges2emoji"),
    ("p2p-e2f", "eval", "pix2pix cGAN + 100·L1, edges2fashion (28×28)"),
    ("p2p-e2f", "baseline", "contours as the output (identity baseline), edges2fashion"),
    ("cyclegan", "eval", "CycleGAN EmojiOne → Noto (unpaired)"),
    ("cyclegan", "evalBtoA", "CycleGAN Noto → EmojiOne (the same run's F)"),
    ("cyclegan", "baselineBtoA", "Noto as the EmojiOne output (identity baseline)"),
    ("p2p-one2noto", "eval", "pix2pix EmojiOne → Noto on the pairs (supervised upper bound)"),
    ("p2p-one2noto", "baseline", "EmojiOne as the Noto output (identity baseline)"),
]


def epochs(run: Path, step: int) -> str:
    """Epochs at ``step`` from the run's log (the logged line nearest to it)."""
    lines = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    logged = [m for m in lines if "epoch" in m]
    if not logged:
        return "?"
    nearest = min(logged, key=lambda m: abs(m["step"] - step))
    return f"{nearest['epoch'] * step / max(nearest['step'], 1):.0f}"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out", type=Path, help="the OUT_DIR given to benchmarks/translation.sh")
    out = p.parse_args().out
    print("| run | steps (epochs) | L1 ↓ | SSIM ↑ | FID ↓ | acc. | acc. real |")
    print("|---|--:|--:|--:|--:|--:|--:|")
    for name, kind, label in ROWS:
        path = out / f"{name}.{kind}.json"
        if not path.exists():
            continue
        s = json.loads(path.read_text())
        if kind.startswith("baseline"):
            trained = "-"
        else:
            step = int(s["what"].split()[-1])
            trained = f"{step:,} ({epochs(out / name, step)})"
        acc = "" if s.get("accuracy") is None else f"{s['accuracy']:.3f}"
        real = "" if s.get("accuracy_real") is None else f"{s['accuracy_real']:.3f}"
        print(f"| {label} | {trained} | {s['l1']:.3f} | {s['ssim']:.3f} | {s['fid']:.1f} | {acc} | {real} |")


if __name__ == "__main__":
    main()
