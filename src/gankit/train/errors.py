"""Errors of a training run that the command line reports in one line (exit code 2)."""


class RunInUseError(RuntimeError):
    """Another process is training into the same run directory."""


class DivergenceError(RuntimeError):
    """A loss or a weight stopped being finite; nothing after the last good checkpoint was saved."""


class CheckpointWriteError(RuntimeError):
    """A checkpoint could not be written (a full disk, say); the earlier ones are intact."""
