"""One trainer per run directory: a lock file that two processes cannot both hold.

Two ``gankit train --out DIR`` started by accident would interleave checkpoints and logs. The
lock is an advisory ``flock`` on ``DIR/.lock``: the kernel releases it when its process ends, however
it ends (also SIGKILL), so a crashed run never leaves a stale lock behind.
"""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path

from gankit.train.errors import RunInUseError


class RunLock:
    """Hold ``run_dir/.lock`` until :meth:`release` (or the end of the process)."""

    def __init__(self, run_dir: str | os.PathLike):
        self.path = Path(run_dir) / ".lock"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = os.pread(self.fd, 32, 0).decode(errors="replace").strip() or "another process"
            os.close(self.fd)
            self.fd = None
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                raise RunInUseError(f"{self.path.parent} is being trained by {holder}; wait for it to finish, "
                                    "stop it, or choose another --out") from None
            raise
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, f"process {os.getpid()}\n".encode(), 0)

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing the descriptor drops the flock
            self.fd = None

    __del__ = release  # a Trainer that failed half-way through its set-up still lets go
