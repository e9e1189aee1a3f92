"""`gankit theory`: the parser and the command around :func:`gankit.theory.run_theory`."""

from __future__ import annotations

import argparse


def add_parsers(subparsers) -> argparse.ArgumentParser:
    """Add the ``theory`` command to the ``gankit`` sub-parsers."""
    p = subparsers.add_parser(
        "theory", help="the GAN paper's theory on 1-D Gaussians: D*, -log 4, JSD, Figure 1",
        description="On p_data = N(4, 0.5^2): train the vanilla GAN and draw Goodfellow et al.'s "
                    "Figure 1 at several stages; train D against a frozen G and compare it with "
                    "D* = p_data / (p_data + p_g); check C(G) = -log 4 + 2 JSD by quadrature; plot "
                    "log(1 - D) against -log D (why the non-saturating loss learns early).")
    add_arguments(p)
    p.set_defaults(func=main)
    return p


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--out", default="theory", help="directory for the figures (default: ./theory)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--steps", type=int, default=2000, help="Algorithm 1 iterations for Figure 1 (default: 2000)")
    parser.add_argument("--dstar-steps", type=int, default=3000,
                        help="D training steps against the frozen G (default: 3000)")
    parser.add_argument("--quiet", action="store_true", help="no progress messages")
    return parser


def main(args: argparse.Namespace) -> int:
    # Imported here: the theory package pulls in torch and matplotlib, which `gankit --help` does not need.
    from gankit import theory

    res = theory.run_theory(args.out, seed=args.seed, steps=args.steps,
                            dstar_steps=getattr(args, "dstar_steps", 3000),
                            progress=not getattr(args, "quiet", False))
    print(theory.format_report(res))
    return 0
