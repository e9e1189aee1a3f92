"""``gankit serve``: a small JSON API and one static page, on Python's own HTTP server.

Why this stack: the playground needs a handful of JSON endpoints and one page of JavaScript;
``http.server.ThreadingHTTPServer`` serves that with no dependency at all (``gankit[web]`` adds
nothing), starts in a fraction of a second, and keeps every safety rule in this one file where
it can be read and tested. Generation runs in the request's thread, bounded by a semaphore.

Endpoints (all JSON unless said)::

    GET  /                         the page (runs list, playground, live toy)
    GET  /api/runs                 the runs under RUNS_DIR with their newest metrics
    GET  /api/run?run=NAME         one run's generator: its inputs as controls, its limits
    GET  /api/report?run=NAME      the run's report.html (text/html) when training wrote one
    POST /api/sample?run=NAME      {seed, truncation, directions, offsets, values, n} -> an image
    POST /api/interpolate?run=NAME {a: setting, b: setting, steps, spherical} -> a strip
    GET  /api/toy                  the live toy GAN's latest snapshot
    POST /api/toy/start            {data: ring8|grid25, seed}
    POST /api/toy/stop

Errors are ``{"error": message}`` with a 4xx status; an unexpected failure is a 500 whose body
says only that, the traceback going to the server's stderr.
"""

from __future__ import annotations

import json
import sys
import threading
import traceback
from collections import OrderedDict
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from gankit.serve.playground import BadRequest, Playground
from gankit.serve.runs import RunNotFound, RunsDirectory
from gankit.serve.toy import LiveToy

MAX_BODY = 64 * 1024  # bytes of a request body
MAX_OPEN_RUNS = 4  # generators kept in memory (least recently used dropped)
MAX_CONCURRENT = 4  # generation requests computed at once; others wait
WAIT_S = 30.0  # how long a request waits for its turn before a 503


class ApiError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class App:
    """The state behind the handler: the runs folder, open generators, the toy session."""

    def __init__(self, runs_dir: str | Path):
        self.runs = RunsDirectory(runs_dir)
        self.open: OrderedDict[Path, Playground] = OrderedDict()
        self.open_lock = threading.Lock()
        self.turns = threading.BoundedSemaphore(MAX_CONCURRENT)
        self.toy = LiveToy()
        self.page = resources.files("gankit.serve").joinpath("static/index.html").read_bytes()

    def playground(self, name) -> Playground:
        path = self.runs.resolve(name)
        with self.open_lock:
            if path in self.open:
                self.open.move_to_end(path)
                return self.open[path]
            try:
                playground = Playground(path)
            except Exception as exc:  # no checkpoint, an unknown family, another version
                raise ApiError(HTTPStatus.CONFLICT, f"run {name!r} cannot be opened: {exc}") from exc
            self.open[path] = playground
            while len(self.open) > MAX_OPEN_RUNS:
                self.open.popitem(last=False)
            return playground

    def computing(self):
        app = self

        class Turn:
            def __enter__(self):
                if not app.turns.acquire(timeout=WAIT_S):
                    raise ApiError(HTTPStatus.SERVICE_UNAVAILABLE, "the server is busy; try again")

            def __exit__(self, *exc):
                app.turns.release()

        return Turn()

    # --- routes -----------------------------------------------------------------------------------
    def get(self, path: str, query: dict) -> tuple[int, str, bytes | dict]:
        if path in ("/", "/index.html"):
            return 200, "text/html; charset=utf-8", self.page
        if path == "/api/runs":
            return 200, "", {"root": str(self.runs.root), "runs": [self.runs.summary(n) for n in self.runs.names()]}
        if path == "/api/run":
            name = query.get("run")
            return 200, "", {"name": name, **self.runs.summary(name), **self.playground(name).describe()}
        if path == "/api/report":
            report = self.runs.resolve(query.get("run")) / "report.html"
            if not report.is_file():
                raise ApiError(HTTPStatus.NOT_FOUND, "this run has no report.html; write one with `gankit report RUN`")
            return 200, "text/html; charset=utf-8", report.read_bytes()
        if path == "/api/toy":
            return 200, "", self.toy.state()
        raise ApiError(HTTPStatus.NOT_FOUND, f"no such page: {path}")

    def post(self, path: str, query: dict, body: dict) -> tuple[int, str, dict]:
        if path in ("/api/sample", "/api/interpolate"):
            playground = self.playground(query.get("run"))
            with self.computing():
                result = playground.sample(body) if path == "/api/sample" else playground.interpolate(body)
            return 200, "", result
        if path == "/api/toy/start":
            seed = body.get("seed", 0)
            if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**31:
                raise BadRequest(f"seed must be an integer in 0..{2**31 - 1}, got {seed!r}")
            return 200, "", self.toy.start(body.get("data", "ring8"), seed)
        if path == "/api/toy/stop":
            return 200, "", self.toy.stop()
        raise ApiError(HTTPStatus.NOT_FOUND, f"no such endpoint: POST {path}")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: one connection serves many requests
    server_version = "gankit"
    app: App  # set on the subclass made by make_server
    quiet = True

    def do_GET(self):
        self.handle_request("GET")

    def do_POST(self):
        self.handle_request("POST")

    def do_PUT(self):
        self.handle_request("PUT")

    do_DELETE = do_PATCH = do_PUT

    def handle_request(self, method: str) -> None:
        try:
            url = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(url.query).items()}
            if method == "GET":
                status, kind, payload = self.app.get(url.path, query)
            elif method == "POST":
                status, kind, payload = self.app.post(url.path, query, self.read_json())
            else:
                raise ApiError(HTTPStatus.METHOD_NOT_ALLOWED, f"{method} is not served; use GET or POST")
        except ApiError as exc:
            status, kind, payload = exc.status, "", {"error": str(exc)}
        except RunNotFound as exc:
            status, kind, payload = 404, "", {"error": str(exc.args[0]) if exc.args else "no such run"}
        except (BadRequest, ValueError) as exc:
            status, kind, payload = 400, "", {"error": str(exc)}
        except Exception:  # noqa: BLE001 - the client gets no traceback; the server's stderr does
            traceback.print_exc(file=sys.stderr)
            status, kind, payload = 500, "", {"error": "internal error (details in the server's log)"}
        self.send(status, kind, payload)

    def read_json(self) -> dict:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise ApiError(HTTPStatus.BAD_REQUEST, "Content-Length must be a number") from None
        if length > MAX_BODY:
            self.close_connection = True  # the unread body must not be taken for the next request
            raise ApiError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"request bodies are limited to {MAX_BODY} bytes")
        raw = self.rfile.read(length) if length > 0 else b""
        if not raw.strip():
            return {}
        try:
            body = json.loads(raw)
        except RecursionError:
            raise ApiError(HTTPStatus.BAD_REQUEST, "the body is nested too deeply") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ApiError(HTTPStatus.BAD_REQUEST, f"the body is not valid JSON: {exc}") from None
        if not isinstance(body, dict):
            raise ApiError(HTTPStatus.BAD_REQUEST, "the body must be a JSON object")
        return body

    def send(self, status: int, kind: str, payload) -> None:
        if isinstance(payload, (bytes, bytearray)):
            data = bytes(payload)
        else:
            data = json.dumps(payload).encode()
            kind = "application/json"
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the page moved on before the answer came
            self.close_connection = True

    def log_message(self, format, *args):
        if not self.quiet:
            super().log_message(format, *args)


def make_server(runs_dir: str | Path, host: str = "127.0.0.1", port: int = 8000, quiet: bool = True):
    """A ThreadingHTTPServer serving ``runs_dir`` (port 0 picks a free port: ``server.server_port``)."""
    app = App(runs_dir)
    handler = type("BoundHandler", (Handler,), {"app": app, "quiet": quiet})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    server.app = app
    return server
