"""gankit: generative adversarial networks from the lectures, as a framework and a CLI."""

from gankit.version import __version__


def load(run_dir, device: str = "cpu", ema: bool = True):
    """Open a run directory for sampling: ``gankit.load("runs/dcgan").sample(16)``.

    ``run_dir`` may also be one of the run's ``checkpoints/step_XXXXXXXX`` folders: that checkpoint
    instead of the newest.
    """
    from gankit.run import Run  # imported lazily: `import gankit` stays light for the CLI

    return Run(run_dir, device=device, ema=ema)


__all__ = ["__version__", "load"]
