"""Progress output: a tqdm bar on a terminal, a few plain lines when stderr goes to a file."""

from __future__ import annotations

import contextlib
import io
import os
import re
import select
import time

import pytest

try:
    import termios
except ImportError:  # not on Windows
    termios = None

from gankit.config import RunConfig
from gankit.train.progress import EVERY_ENV, ProgressLine, format_duration
from gankit.train.trainer import train


class Clock:
    """A clock the test moves by hand, so that no test waits for the seconds between lines."""

    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_plain_lines_at_most_every_n_seconds_and_one_at_the_end():
    clock, out = Clock(), io.StringIO()
    bar = ProgressLine(total=1000, desc="gan on ring8", stream=out, every=2.0, clock=clock)
    for step in range(1000):  # 10 seconds of updates, 100 a second
        clock.now += 0.01
        bar.update(1)
        if step % 50 == 0:
            bar.set_postfix({"d_loss": f"{1 + step / 1000:.3g}", "g_loss": "0.88"})
    bar.close()
    lines = out.getvalue().splitlines()
    assert 5 <= len(lines) <= 10 // 2 + 1, lines
    assert "\r" not in out.getvalue()
    assert lines[0].startswith("gan on ring8: step 200/1000 (20%), 100 it/s, d_loss 1.15 g_loss 0.88, eta 8s")
    assert lines[-1].startswith("gan on ring8: step 1000/1000 (100%), 100 it/s on average, d_loss 1.95")
    assert lines[-1].endswith("took 10s")


def test_time_budget_gives_the_eta_and_disabled_shows_nothing():
    clock, out = Clock(), io.StringIO()
    bar = ProgressLine(total=None, initial=40, desc="dcgan on mnist", stream=out, every=30.0,
                       deadline=clock.now + 600, clock=clock)
    clock.now += 30
    bar.update(300)
    assert out.getvalue() == "dcgan on mnist: step 340, 10 it/s, eta 9m30s\n"

    quiet = io.StringIO()
    off = ProgressLine(total=10, stream=quiet, enabled=False, every=0.0, clock=clock)
    off.update(10)
    off.close()
    assert quiet.getvalue() == ""


def test_format_duration():
    assert [format_duration(s) for s in (0, 45.4, 385, 3720)] == ["0s", "45s", "6m25s", "1h02m"]


@pytest.mark.skipif(termios is None or not hasattr(termios, "tcsetwinsize"), reason="no pseudo-terminals here")
def test_a_terminal_gets_the_tqdm_bar():
    leader, follower = os.openpty()
    termios.tcsetwinsize(follower, (24, 80))  # a new pty is 0 columns wide: tqdm would draw nothing
    with open(follower, "w", closefd=True) as tty:
        bar = ProgressLine(total=50, desc="gan on ring8", stream=tty, every=0.0)
        for _ in range(50):
            bar.update(1)
        bar.close()
    shown = b""
    with contextlib.suppress(OSError):  # EIO: all read, the other end is closed
        while select.select([leader], [], [], 0.5)[0]:  # a pty hands its output over in pieces
            shown += os.read(leader, 1 << 16)
    os.close(leader)
    shown = shown.decode()
    assert bar.bar is not None
    assert "\r" in shown and "50/50" in shown
    assert "step 50/50" not in shown  # not the plain lines


def test_training_into_a_log_writes_few_lines(tmp_path, capsys, monkeypatch):
    """Pytest's capture is not a terminal: the run logs about one line per N seconds, not per step."""
    every = 0.1
    monkeypatch.setenv(EVERY_ENV, str(every))
    cfg = RunConfig(model="gan")
    cfg.data.name = "ring8"
    cfg.options = {"latent_dim": 4, "g_widths": [16], "d_widths": [16]}
    t = cfg.train
    t.steps, t.batch_size, t.log_every, t.sample_every, t.checkpoint_every, t.report = 100, 64, 10, 1000, 1000, False
    start = time.monotonic()
    train(cfg, tmp_path / "run", progress=True)
    elapsed = time.monotonic() - start
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("gan on ring8:")]
    assert "\r" not in err
    assert 1 <= len(lines) <= elapsed / every + 2, (elapsed, lines)
    assert re.match(r"gan on ring8: step 100/100 \(100%\), [0-9.e+]+ it/s on average, d_loss ", lines[-1])
