"""`gankit export`: a run's generator as a standalone program (torch.export, ONNX)."""

from __future__ import annotations

import argparse
import textwrap
from pathlib import Path

from gankit.commands.arguments import RUN_DIR_HELP
from gankit.config import ConfigError

EPILOG = textwrap.dedent("""\
    The program computes what `gankit sample` computes (the EMA generator unless --no-ema), from
    the generator's inputs in order (z first; `gankit export RUN` prints them), with any batch size.

    examples:
      gankit export runs/dcgan --out dcgan.pt2
      python -c "import torch; g = torch.export.load('dcgan.pt2').module(); print(g(torch.randn(4, 100)).shape)"
      gankit export runs/stylegan2 --out g.pt2 --truncation 0.7   # takes psi (N, num_ws, 1) last
      gankit export runs/dcgan --out dcgan.onnx                     # needs: pip install onnx onnxscript""")


def add_parsers(subparsers) -> None:
    """Add the ``export`` command to the ``gankit`` sub-parsers."""
    p = subparsers.add_parser("export", help="write the generator as a torch.export (.pt2) or ONNX (.onnx) program",
                              description="Export a trained run's generator so that it runs without gankit: "
                                          "torch.export.load(FILE).module()(*inputs), or ONNX Runtime.",
                              epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run_dir", metavar="RUN_DIR", help=RUN_DIR_HELP)
    p.add_argument("--out", required=True, help="FILE.pt2 (torch.export) or FILE.onnx (needs onnx and onnxscript)")
    p.add_argument("--truncation", type=float, metavar="PSI",
                   help="families that truncate through an input of their own (stylegan2) take it as a last "
                        "argument; PSI is the value the export is checked with")
    p.add_argument("--no-ema", action="store_true", help="export the raw generator even if the run kept an EMA")
    p.set_defaults(func=cmd_export)


def cmd_export(args) -> int:
    import torch

    from gankit import load
    from gankit.export import example_inputs, export_generator, export_onnx

    out = Path(args.out)
    if out.suffix not in (".pt2", ".onnx"):
        raise ConfigError(f"--out must end in .pt2 (torch.export) or .onnx, got {out.name!r}")
    run = load(args.run_dir, ema=not args.no_ema)
    out.parent.mkdir(parents=True, exist_ok=True)
    inputs = example_inputs(run, n=3, seed=1, truncation=args.truncation)
    expected = run.generate(inputs)
    if out.suffix == ".onnx":
        try:
            export_onnx(run, out, args.truncation)
        except ImportError as e:
            raise ConfigError(f"ONNX export needs the optional packages onnx and onnxscript ({e}); "
                              "pip install onnx onnxscript, or write a .pt2") from None
        check = "not checked (onnxruntime is not installed)"
        try:
            import onnxruntime
        except ImportError:
            onnxruntime = None
        if onnxruntime is not None:
            session = onnxruntime.InferenceSession(str(out))
            got = torch.as_tensor(session.run(None, {k: v.numpy() for k, v in inputs.items()})[0])
            check = f"largest difference from gankit's samples {(got - expected).abs().max().item():.2e}"
    else:
        program = export_generator(run, args.truncation)
        torch.export.save(program, out)
        got = torch.export.load(out).module()(*inputs.values())
        check = f"largest difference from gankit's samples {(got - expected).abs().max().item():.2e}"
    shapes = ", ".join(f"{name} {batch_shape(value)} {str(value.dtype).replace('torch.', '')}"
                       for name, value in inputs.items())
    print(f"wrote {out}: images {batch_shape(expected)} in [-1, 1] from {shapes}; {check}")
    return 0


def batch_shape(value) -> str:
    """``(N, 3, 32, 32)``: a tensor's shape with the batch dimension named."""
    return "(" + ", ".join(["N", *map(str, value.shape[1:])]) + ")"
