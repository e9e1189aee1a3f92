"""`gankit serve`: the web app over a folder of runs."""

from __future__ import annotations

import argparse

from gankit.config import ConfigError


def add_parsers(subparsers) -> argparse.ArgumentParser:
    """Add the ``serve`` command to the ``gankit`` sub-parsers."""
    p = subparsers.add_parser(
        "serve", help="a local web app: the runs with their metrics, a playground per run, a live toy GAN",
        description="Serve RUNS_DIR in the browser: the runs under it with their newest metrics; per run a "
                    "playground (seed, truncation, sliders along random or PCA latent directions, a class picker "
                    "for conditional models, sliders and buttons for codes, interpolation between two picked "
                    "samples); and a page where a small GAN learns ring8 or grid25 in front of you. Only "
                    "this machine can connect unless --host says otherwise.",
        epilog="examples:\n  gankit serve runs\n  gankit serve runs --port 8080\n"
               "  gankit serve runs --host 0.0.0.0   # reachable from the network: anyone there can use it",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs_dir", nargs="?", default="runs", metavar="RUNS_DIR", help="the folder of runs (default: runs)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--verbose", action="store_true", help="log every request")
    p.set_defaults(func=main)
    return p


def main(args: argparse.Namespace) -> int:
    from gankit.serve import make_server

    if not 0 <= args.port <= 65535:
        raise ConfigError(f"--port must be in 0..65535, got {args.port}")
    try:
        server = make_server(args.runs_dir, args.host, args.port, quiet=not args.verbose)
    except OSError as exc:  # address in use, permission denied, an unknown host
        raise ConfigError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from exc
    host, port = server.server_address[:2]
    print(f"serving {server.app.runs.root} on http://{host}:{port}/ (Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.app.toy.stop()
        server.server_close()
    return 0
