"""Progress of a long loop: a tqdm bar on a terminal, a plain line every so often in a log file.

A tqdm bar redraws itself several times a second. On a terminal the redraws overwrite one
another; under ``gankit train ... > log 2>&1`` every redraw stays in the file, with the whole
postfix, and a 10-minute run leaves thousands of them. So when the stream is not a terminal,
:class:`ProgressLine` writes one plain, self-contained line at most every
:data:`PLAIN_LINE_EVERY_S` seconds, and one more at the end, e.g.::

    gan on fashion-mnist: step 1200/5000 (24%), 9.8 it/s, d_loss 1.23 g_loss 0.88, eta 6m25s
"""

from __future__ import annotations

import os
import sys
import time
from typing import Callable, Mapping

from tqdm.auto import tqdm

# About two lines a minute: a 10-minute run logs ~20 progress lines, few enough to read whole and
# frequent enough to see that a run is alive. The environment variable exists for the tests,
# which cannot wait 30 seconds between lines.
PLAIN_LINE_EVERY_S = 30.0
EVERY_ENV = "GANKIT_PROGRESS_EVERY_S"


def plain_line_every() -> float:
    value = os.environ.get(EVERY_ENV)
    return float(value) if value else PLAIN_LINE_EVERY_S


def is_terminal(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def format_duration(seconds: float) -> str:
    """``6m25s``, ``1h02m``, ``45s``: short enough for a log line."""
    s = int(round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s // 60 % 60:02d}m"


class ProgressLine:
    """Counts steps towards ``total`` (None: unknown) and shows them on ``stream`` (default stderr).

    The interface is the part of tqdm's that the loops use: ``update``, ``set_postfix``, ``close``.

    Parameters
    ----------
    total : steps at which the loop ends, or None when only a time limit (or nothing) ends it.
    initial : the step the loop starts from (a resumed run).
    desc : what runs, e.g. ``"gan on ring8"``.
    enabled : False shows nothing at all.
    deadline : a ``time.monotonic()`` at which the loop stops whatever the step; bounds the eta.
    every : seconds between plain lines (default :func:`plain_line_every`).
    clock : ``time.monotonic`` unless a test drives the time.
    """

    def __init__(self, total: int | None, initial: int = 0, desc: str = "", enabled: bool = True,
                 unit: str = "it", deadline: float | None = None, stream=None, every: float | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self.stream = sys.stderr if stream is None else stream
        self.total, self.step, self.desc, self.unit = total, initial, desc, unit
        self.deadline, self.clock = deadline, clock
        self.every = plain_line_every() if every is None else every
        self.postfix: dict[str, str] = {}
        self.bar = None
        self.plain = enabled and not is_terminal(self.stream)
        if enabled and not self.plain:
            self.bar = tqdm(total=total, initial=initial, unit=unit, dynamic_ncols=True, desc=desc, file=self.stream)
        self.start_time = self.last_time = self.clock()
        self.start_step = self.last_step = initial
        self.closed = False

    def update(self, n: int = 1) -> None:
        self.step += n
        if self.bar is not None:
            self.bar.update(n)
        elif self.plain:
            if self.clock() - self.last_time >= self.every:
                self.write_line()

    def set_postfix(self, values: Mapping[str, object], refresh: bool = False) -> None:
        self.postfix = {k: str(v) for k, v in values.items()}
        if self.bar is not None:
            self.bar.set_postfix(self.postfix, refresh=refresh)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.bar is not None:
            self.bar.close()
        elif self.plain:
            self.write_line()  # the last line states where the loop stopped, even right after another

    def line(self, now: float) -> str:
        """The plain line for the state at ``now``."""
        # While running, the rate since the last line (what the loop does now); at the end, the
        # average of the whole loop (the window since the last line may be a single step).
        since_time, since_step = (self.start_time, self.start_step) if self.closed else (self.last_time, self.last_step)
        seconds = now - since_time
        rate = (self.step - since_step) / seconds if seconds > 0 else 0.0
        where = f"step {self.step}"
        if self.total:
            where += f"/{self.total} ({100 * self.step // self.total}%)"
        parts = [where, f"{rate:.3g} {self.unit}/s" + " on average" * self.closed]
        if self.postfix:
            parts.append(" ".join(f"{k} {v}" for k, v in self.postfix.items()))
        left = []
        if self.total and rate > 0:
            left.append(max(self.total - self.step, 0) / rate)
        if self.deadline is not None:
            left.append(max(self.deadline - now, 0.0))
        if self.closed:
            parts.append(f"took {format_duration(now - self.start_time)}")
        elif left:
            parts.append(f"eta {format_duration(min(left))}")
        prefix = f"{self.desc}: " if self.desc else ""
        return prefix + ", ".join(parts)

    def write_line(self) -> None:
        now = self.clock()
        self.stream.write(self.line(now) + "\n")
        self.stream.flush()
        self.last_time, self.last_step = now, self.step
