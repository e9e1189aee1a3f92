"""How a trained stackgan's stage-I discriminator scores real objects, empty images and G's drawings.

    PYTHONPATH=src python benchmarks/stackgan_d_probe.py RUN [--batches 8] [--json FILE]

For each (shape, size) of one-object ``shapes`` images, ``--batches`` batches of 64 training images
(seeded) get 8 images of that kind in their first rows; D scores those 8 rows with their captions

- as they are (real),
- blacked out, in the same batch (empty),
- replaced by G's drawings of the same captions, in the same batch (G in a real batch),
- in a batch of G's drawings only (G's batch: the way D sees G's images in training).

D runs in training mode, so BatchNorm normalises by the batch it is given, as during training
(BatchNorm's running statistics mix real and generated batches, and eval-mode logits are not what
G is trained against). A spectrally normalised D (stackgan's default) has no BatchNorm and scores
each image alone, so its last two columns agree. Logits: higher is "real".
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import finish, run_header  # noqa: E402

KINDS = [("star", "small"), ("star", "large"), ("cross", "small"), ("circle", "small"), ("square", "small")]
BATCH, ROWS = 64, 8


def probe(run_dir: Path, batches: int) -> list[dict]:
    import numpy as np
    import torch

    import gankit
    from gankit.data.pixels import from_uint8
    from gankit.data.shapes import SHAPES, SIZES
    from gankit.models.stackgan import captioned_split

    run = gankit.load(run_dir)
    recipe = run.recipe
    if run.config.model != "stackgan" or run.data_name != "shapes":
        raise SystemExit(f"{run_dir} is a {run.config.model} run on {run.data_name}; the probe needs a stackgan run on shapes")
    data = captioned_split("shapes", recipe.options.language, recipe.options.stage1_size, "train")
    rows, ids = data.extra["attributes"], torch.from_numpy(data.extra["caption"])
    # Training mode also moves BatchNorm's running statistics and spectral norm's power iteration,
    # in memory only: the run's files are not written.
    D = recipe.nets["D"].train()
    rng = np.random.default_rng(0)
    out = []
    for shape, size in KINDS:
        kind = np.nonzero((rows[:, 0] == 1) & (rows[:, 2] == SHAPES.index(shape)) & (rows[:, 3] == SIZES.index(size)))[0]
        scores = []
        for b in range(batches):
            index = rng.choice(len(data.x), BATCH, replace=False)
            index[:ROWS] = rng.choice(kind, ROWS, replace=False)
            real, text = from_uint8(data.x[index]), recipe.embed(ids[index])
            with torch.no_grad():
                fake = run.generate(run.inputs(BATCH, seed=b, caption=ids[index]))
                empty, mixed = real.clone(), real.clone()
                empty[:ROWS], mixed[:ROWS] = -1.0, fake[:ROWS]
                scores.append([D(images, text)[:ROWS].mean().item() for images in (real, empty, mixed, fake)])
        real, empty, mixed, fake = np.mean(scores, 0)
        out.append({"shape": shape, "size": size, "real": real, "empty": empty, "g_in_real_batch": mixed,
                    "g_batch": fake})
        print(f"| {size} {shape} | {real:.2f} | {empty:.2f} | {mixed:.2f} | {fake:.2f} |", flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path, help="a stackgan run on shapes, or one of its checkpoints")
    parser.add_argument("--batches", type=int, default=8, help="batches per kind of object (default 8)")
    parser.add_argument("--json", type=Path, default=None, help="write the table as JSON")
    args = parser.parse_args(argv)
    if args.batches < 1:
        parser.error("--batches must be >= 1")
    header = run_header("stackgan_d_probe.py", argv if argv is not None else sys.argv[1:])
    print("\n| object | real | empty | G in a real batch | G's batch |\n|---|--:|--:|--:|--:|")
    rows = probe(args.run, args.batches)
    finish(header, args.json, {"run": str(args.run), "batches": args.batches, "rows": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
