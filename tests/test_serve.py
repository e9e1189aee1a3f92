"""`gankit serve`'s API: runs never escape RUNS_DIR, bad parameters get a 4xx with a message (never a
500 with a traceback), requests are bounded, and the settings reach the generator's inputs."""

import base64
import io
import os
import shutil
import time
from dataclasses import dataclass

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from gankit.cli import main as cli_main
from gankit.config import RunConfig
from gankit.data import load_dataset
from gankit.models import Input, Stream
from gankit.models.gan import AdversarialRecipe
from gankit.train.trainer import train
from gankit.serve.playground import MAX_SAMPLES, Playground
from serve_support import Server


@pytest.fixture(scope="module")
def served(tmp_path_factory, small_runs):
    root = tmp_path_factory.mktemp("runs")
    outside = tmp_path_factory.mktemp("outside")
    shutil.copytree(small_runs["toy"], root / "toy")
    shutil.copytree(small_runs["cond"], root / "group" / "cond")
    shutil.copytree(small_runs["toy"], outside / "secret")
    (root / "escape").symlink_to(outside / "secret")  # a symlink out of RUNS_DIR
    (root / "empty").mkdir()
    (root / "empty" / "config.yaml").write_text((root / "toy" / "config.yaml").read_text())  # no checkpoint
    server = Server(root)
    yield server, root, outside
    server.close()


def pixels(uri: str) -> np.ndarray:
    assert uri.startswith("data:image/png;base64,")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))))


def test_lists_runs_inside_the_folder_only(served):
    server, root, outside = served
    status, body = server.request("GET", "/api/runs")
    assert status == 200
    names = [r["name"] for r in body["runs"]]
    assert "toy" in names and "group/cond" in names
    assert "escape" not in names  # the symlink leads out of RUNS_DIR
    cond = next(r for r in body["runs"] if r["name"] == "group/cond")
    assert cond["model"] == "test-tiny-cgan" and cond["data"] == "digits" and cond["step"] == 40


@pytest.mark.parametrize("name", ["../outside", "..", "/etc", "escape", "group/../../x", "group/../toy",
                                  "toy/", "./toy", "toy\\..\\x", "%2e%2e%2fsecret", "nope", "", "a" * 300])
def test_names_never_escape(served, name):
    server, root, outside = served
    from urllib.parse import quote
    status, body = server.request("GET", f"/api/run?run={quote(name, safe='%')}")
    assert status == 404, body
    assert "no run" in body["error"] or "give a run name" in body["error"]


def test_absolute_path_to_a_real_run_is_refused(served):
    server, root, outside = served
    for path in (str(outside / "secret"), str(root / "toy")):
        status, body = server.request("POST", f"/api/sample?run={path}", {})
        assert status == 404 and "no run" in body["error"]


@pytest.mark.parametrize("body, words", [
    ({"n": 1000}, "n must lie in 1..64"),
    ({"n": "5"}, "n must be a number"),
    ({"n": 2.5}, "n must be an integer"),
    ({"seed": -1}, "seed must lie"),
    ({"truncation": "abc"}, "truncation must be a number"),
    ({"truncation": 1e9}, "truncation must lie"),
    ({"offsets": [0.0] * 17}, "at most 16"),
    ({"offsets": [float("1e9")]}, "offsets[0] must lie"),
    ({"offsets": [1.0], "directions": "sideways"}, "directions must be one of"),
    ({"values": {"colour": 1}}, "no input 'colour'"),
    ({"values": {"y": 10}}, "y must lie in 0..9"),
    ({"values": {"y": "three"}}, "y must be a number"),
    ({"values": {"z": 1}}, "z is a latent"),
    ({"values": [1, 2]}, "values must be an object"),
    ({"seed": 2**80}, "seed must lie in"),
    ({"seed": 10**400}, "seed must be a finite number"),
    ({"truncation": float("nan")}, "truncation must be a finite number"),
    ({"n": None}, "n must be a number"),
    ({"offsets": [None]}, "offsets[0] must be a number"),
    ({"values": {"y": [1]}}, "y must be a number"),
    ({"mix": {"seed": 1, "from": 1}}, "has no styles to mix"),
])
def test_bad_parameters_are_400_with_a_message(served, body, words):
    server = served[0]
    status, answer = server.request("POST", "/api/sample?run=group/cond", body)
    assert status == 400, answer
    assert words in answer["error"]


def test_bad_requests(served):
    server = served[0]
    assert server.request("POST", "/api/sample?run=group/cond", raw=b"{not json")[0] == 400
    assert server.request("POST", "/api/sample?run=group/cond", raw=b"[1, 2]")[0] == 400
    assert server.request("POST", "/api/sample?run=group/cond", raw=b"[" * 60000)[0] == 400
    assert server.request("POST", "/api/sample?run=group/cond", raw=b"\xff\xfe")[0] == 400
    status, body = server.request("POST", "/api/sample?run=group/cond", raw=b" " * (65 * 1024))
    assert status == 413 and "limited" in body["error"]
    assert server.request("GET", "/api/nothing")[0] == 404
    assert server.request("PUT", "/api/sample?run=group/cond", {})[0] == 405
    status, body = server.request("POST", "/api/interpolate?run=group/cond", {"a": {}, "b": {}, "steps": 17})
    assert status == 400 and "steps must lie in 2..16" in body["error"]
    status, body = server.request("POST", "/api/interpolate?run=group/cond", {"a": 3, "b": {}})
    assert status == 400 and "setting must be a JSON object" in body["error"]
    status, body = server.request("POST", "/api/sample?run=empty", {})
    assert status == 409 and "no checkpoint" in body["error"]
    status, body = server.request("POST", "/api/toy/start", {"data": "mnist"})
    assert status == 400 and "ring8, grid25" in body["error"]


def test_unexpected_failure_is_a_500_without_details(served, monkeypatch):
    server = served[0]

    def broken(self, request):
        raise RuntimeError("secret detail")

    monkeypatch.setattr(Playground, "sample", broken)
    status, body = server.request("POST", "/api/sample?run=group/cond", {})
    assert status == 500
    assert "secret" not in str(body) and "Traceback" not in str(body)


def test_describes_the_generator_inputs(served):
    server = served[0]
    status, info = server.request("GET", "/api/run?run=group/cond")
    assert status == 200
    kinds = {c["name"]: c["kind"] for c in info["controls"]}
    assert kinds == {"z": "latent", "y": "label"}
    label = next(c for c in info["controls"] if c["name"] == "y")
    assert label["classes"] == 10 and label["labels"][3] == "3"
    assert info["latent"] == {"name": "z", "size": 16} and info["max_samples"] == MAX_SAMPLES


def test_settings_reach_the_generator(served):
    server = served[0]

    def image(**setting):
        status, body = server.request("POST", "/api/sample?run=group/cond", setting)
        assert status == 200, body
        return pixels(body["image"])

    base = image(seed=3, values={"y": 1})
    assert base.shape == (8, 8)  # one sample at the run's own resolution
    assert np.array_equal(base, image(seed=3, values={"y": 1}))  # deterministic
    assert not np.array_equal(base, image(seed=3, values={"y": 7}))  # the class
    assert not np.array_equal(base, image(seed=4, values={"y": 1}))  # the seed
    assert not np.array_equal(base, image(seed=3, values={"y": 1}, offsets=[2.0]))  # a direction
    assert not np.array_equal(base, image(seed=3, values={"y": 1}, offsets=[0, 2.0], directions="pca"))
    assert not np.array_equal(base, image(seed=3, values={"y": 1}, truncation=0.2))
    status, grid = server.request("POST", "/api/sample?run=group/cond", {"n": MAX_SAMPLES})
    assert status == 200 and grid["n"] == MAX_SAMPLES
    status, strip = server.request("POST", "/api/interpolate?run=group/cond",
                                   {"a": {"seed": 1, "values": {"y": 2}}, "b": {"seed": 2, "values": {"y": 5}}, "steps": 6})
    assert status == 200 and pixels(strip["image"]).shape == (12, 6 * 10 + 2)
    status, points = server.request("POST", "/api/sample?run=toy", {"n": 5})
    assert status == 200 and np.asarray(points["points"]).shape == (5, 2)


def test_pca_directions_are_unit_vectors(served):
    playground = served[0].server.app.playground("group/cond")
    basis = playground.direction_basis("pca")
    assert basis.shape == (16, 16)
    assert np.allclose(basis.norm(dim=1).numpy(), 1.0, atol=1e-5)
    random = playground.direction_basis("random")
    assert np.allclose((random @ random.T).numpy(), np.eye(16), atol=1e-5)


def test_toy_session_starts_and_stops(served):
    server = served[0]
    status, state = server.request("POST", "/api/toy/start", {"data": "grid25", "seed": 1})
    assert status == 200 and state["running"] and len(state["centres"]) == 25
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        state = server.request("GET", "/api/toy")[1]
        if state["step"] >= 10:
            break
        time.sleep(0.2)
    assert state["step"] >= 10, state.get("error")
    assert len(state["points"]) == 500 and len(state["arrows"]) == 80
    assert len(state["surface"]["values"]) == 32 * 32
    status, state = server.request("POST", "/api/toy/stop", {})
    assert status == 200 and not state["running"]


def test_serve_command_errors(tmp_path, capsys):
    assert cli_main(["serve", str(tmp_path / "missing")]) == 2
    assert "is not a directory" in capsys.readouterr().err
    assert cli_main(["serve", str(tmp_path), "--port", "70000"]) == 2
    assert "--port" in capsys.readouterr().err


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX")
def test_serve_help_teaches(capsys):
    assert cli_main(["serve", "--help"]) == 0
    out = capsys.readouterr().out
    assert "127.0.0.1" in out and "playground" in out


# --- a generator with codes and a given image: the same API, no per-family code --------------------
@dataclass
class CodesOptions:
    latent_dim: int = 4


def paired_digits(split):
    from gankit.data.imageset import ImageSet

    d = load_dataset("digits", split)
    return ImageSet("paired-digits", d.x, d.y, d.num_classes, d.source, extra={"edges": 255 - d.x})


class Codes(AdversarialRecipe):
    """InfoGAN-like codes and a pix2pix-like given image, read by one linear generator."""

    name = "test-serve-codes"
    description = "test: categorical and uniform codes plus a given image"
    Options = CodesOptions

    def __init__(self, options, data, train):
        super().__init__(options, data, train)
        self.nets["G"] = nn.Linear(options.latent_dim + 3 + 2 + 64, 64)
        self.nets["D"] = nn.Sequential(nn.Flatten(), nn.Linear(64, 1), nn.Flatten(0))

    @classmethod
    def streams(cls, cfg, options):
        return {"real": Stream(paired_digits)}

    def inputs(self):
        return (Input("z", (self.latent_dim,)), Input("c_cat", distribution="categorical", classes=3),
                Input("c_cont", (2,), distribution="uniform"), Input("edges", (1, 8, 8), distribution="given"))

    def draw_inputs(self, n, noise, **given):
        given.setdefault("edges", torch.zeros(n, 1, 8, 8))  # training draws no pairs in this test
        return super().draw_inputs(n, noise, **given)

    def generate(self, inputs, net=None):
        g = net or self.nets["G"]
        x = torch.cat([inputs["z"], F.one_hot(inputs["c_cat"], 3).float(), inputs["c_cont"],
                       inputs["edges"].flatten(1)], 1)
        return torch.tanh(g(x)).reshape(-1, 1, 8, 8)


@pytest.fixture(scope="module")
def codes_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("codes")
    cfg = RunConfig(model=Codes.name)
    cfg.train.steps, cfg.train.checkpoint_every = 2, 2
    train(cfg, root / "codes", progress=False)
    server = Server(root)
    yield server
    server.close()


def test_codes_and_given_inputs(codes_server):
    server = codes_server
    status, info = server.request("GET", "/api/run?run=codes")
    assert status == 200, info
    assert [(c["name"], c["kind"]) for c in info["controls"]] == [
        ("z", "latent"), ("c_cat", "choice"), ("c_cont", "slider"), ("edges", "given")]

    def image(values):
        status, body = server.request("POST", "/api/sample?run=codes", {"seed": 1, "values": values})
        assert status == 200, body
        return pixels(body["image"])

    base = image({"c_cat": 0, "c_cont": [0.0, 0.0], "edges": 0})
    assert not np.array_equal(base, image({"c_cat": 2, "c_cont": [0.0, 0.0], "edges": 0}))
    assert not np.array_equal(base, image({"c_cat": 0, "c_cont": [0.9, 0.0], "edges": 0}))
    assert not np.array_equal(base, image({"c_cat": 0, "c_cont": [0.0, 0.0], "edges": 5}))
    for values, words in (({"c_cat": 3}, "c_cat must lie in 0..2"), ({"c_cont": [0.5]}, "takes 2 values"),
                          ({"c_cont": [0.5, 3.0]}, "c_cont[1] must lie in -1..1"),
                          ({"edges": 10**6}, "edges must lie in 0..")):
        status, body = server.request("POST", "/api/sample?run=codes", {"values": values})
        assert status == 400 and words in body["error"], body
