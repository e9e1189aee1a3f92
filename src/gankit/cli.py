"""The ``gankit`` command: the entry point and the parser. Every command lives in :mod:`gankit.commands`.

``main`` parses the arguments, runs the chosen command and turns the errors a user can fix (a bad
option, missing data, a run in use) into one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings

from gankit.commands import add_commands
from gankit.config import ConfigError, closest
from gankit.version import __version__


class Parser(argparse.ArgumentParser):
    """argparse without prefix guessing: `--step` is an error naming `--steps`, never a silent match."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)


def build_parser() -> Parser:
    parser = Parser(prog="gankit", description="Generative adversarial networks from the lectures: "
                    "train, sample, evaluate and explain them.",
                    epilog="Run `gankit COMMAND --help` for a command's options; `gankit list` for models, "
                           "presets, datasets and losses; `gankit demo` for a first run.")
    parser.add_argument("--version", action="version", version=f"gankit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    add_commands(sub)
    return parser


def unknown_options_message(parser: Parser, args, extras: list[str]) -> str:
    target = parser
    if getattr(args, "command", None):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                target = action.choices[args.command]
    valid = sorted(s for s in target._option_string_actions if s.startswith("--"))
    lines = []
    options = [e for e in extras if e.startswith("-")]
    for extra in options or extras:  # the values after an unknown option are no news
        name = extra.split("=")[0]
        hint = closest(name, valid) if name.startswith("-") else ""
        lines.append(f"unrecognized argument {extra!r}{hint}")
    return "; ".join(lines) + f"\nvalid options of `{target.prog}`: {' '.join(valid)}"


def main(argv: list[str] | None = None) -> int:
    from gankit.data import DataError
    from gankit.train.errors import CheckpointWriteError, DivergenceError, RunInUseError

    # Warnings meant for the user (skipped files, a slow precision) read as one line each.
    warnings.formatwarning = lambda message, category, *rest, **kw: f"gankit: warning: {message}\n"
    parser = build_parser()
    try:
        args, extras = parser.parse_known_args(argv)
    except SystemExit as exit:  # --help, --version and argparse's own errors (already printed)
        return int(exit.code or 0)
    if extras:
        print(f"gankit: error: {unknown_options_message(parser, args, extras)}", file=sys.stderr)
        return 2
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except (ConfigError, DataError, FileNotFoundError, FileExistsError, ValueError, RunInUseError,
            DivergenceError, CheckpointWriteError) as exc:
        print(f"gankit: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("gankit: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `gankit list | head`: the reader left; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return 0


if __name__ == "__main__":
    sys.exit(main())
