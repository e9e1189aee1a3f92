"""Guards around a run directory: a divergence never reaches a checkpoint, one trainer per run,
a resume that would change the run is refused unless forced."""


import pytest
import torch
import yaml

from gankit.cli import main
from gankit.config import ConfigError, RunConfig
from gankit.models.gan import GAN
from gankit.train.checkpoint import checkpoint_dirs, latest_checkpoint, load_weights
from gankit.train.errors import DivergenceError, RunInUseError
from gankit.train.trainer import Trainer, train


class Diverging(GAN):
    """The vanilla GAN whose D loss turns NaN at iteration ``nan_at`` (None: never)."""

    name = "test-diverging"
    nan_at = None

    def loss(self, phase, step):
        loss, stats = super().loss(phase, step)
        if phase == "D" and step.progress.iteration == Diverging.nan_at:
            loss = loss * float("nan")
        return loss, stats


def config(model="gan", steps=12, **train_options):
    cfg = RunConfig(model=model)
    cfg.data.name = "ring8"
    cfg.options = {"g_widths": [16], "d_widths": [16], "latent_dim": 4}
    cfg.train.steps, cfg.train.batch_size, cfg.train.log_every = steps, 32, 1
    cfg.train.checkpoint_every, cfg.train.sample_every = 4, 1000
    for key, value in train_options.items():
        setattr(cfg.train, key, value)
    return cfg


def test_a_nan_loss_stops_training_before_any_bad_checkpoint(tmp_path):
    Diverging.nan_at = 9  # the 10th step
    try:
        with pytest.raises(DivergenceError) as error:
            train(config("test-diverging"), tmp_path / "run", progress=False)
    finally:
        Diverging.nan_at = None
    message = str(error.value)
    assert "phase 'D'" in message and "step 10" in message and "step_00000008" in message
    saved = checkpoint_dirs(tmp_path / "run")
    assert [p.name for p in saved] == ["step_00000004", "step_00000008"]
    for checkpoint in saved:
        assert all(torch.isfinite(t).all() for t in load_weights(checkpoint).values())
    # The last good checkpoint resumes (and, the NaN gone, trains to the end).
    train(config("test-diverging"), tmp_path / "run", resume=True, progress=False)
    assert latest_checkpoint(tmp_path / "run").name == "step_00000012"


def test_the_command_line_says_it_in_one_line(tmp_path, capsys):
    Diverging.nan_at = 2
    try:
        code = main(["train", "test-diverging", "--data", "ring8", "--steps", "8", "--out", str(tmp_path / "run"),
                     "--no-progress", "--set", "train.log_every=1", "--set", "model.g_widths=[16]",
                     "--set", "model.d_widths=[16]"])
    finally:
        Diverging.nan_at = None
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "training diverged" in err[0] and "no checkpoint" in err[0]


def test_two_trainers_cannot_share_a_run_directory(tmp_path):
    first = Trainer(config(), tmp_path / "run", progress=False)
    with pytest.raises(RunInUseError, match="being trained by process"):
        Trainer(config(), tmp_path / "run", progress=False)
    first.fit()
    first.close()
    Trainer(config(steps=14), tmp_path / "run", resume=True, progress=False).close()  # free again


def test_resume_refuses_changed_options_unless_forced(tmp_path):
    train(config(), tmp_path / "run", progress=False)
    with pytest.raises(ConfigError, match=r"train.lr_d \(0.0002 -> 0.0001\).*--force"):
        train(config(steps=16, lr_d=1e-4), tmp_path / "run", resume=True, progress=False)
    assert latest_checkpoint(tmp_path / "run").name == "step_00000012"  # untouched
    train(config(steps=16, lr_d=1e-4, log_every=2), tmp_path / "run", resume=True, progress=False, force=True)
    assert latest_checkpoint(tmp_path / "run").name == "step_00000016"
    saved = yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())
    assert saved["train"]["lr_d"] == 1e-4 and saved["gankit_version"]


def test_budget_and_logging_may_change_on_resume(tmp_path):
    train(config(), tmp_path / "run", progress=False)
    train(config(steps=20, log_every=3, checkpoint_every=5, keep_checkpoints=1), tmp_path / "run", resume=True,
          progress=False)
    assert [p.name for p in checkpoint_dirs(tmp_path / "run")] == ["step_00000020"]


def test_a_resumed_run_logs_each_step_once(tmp_path):
    import json

    train(config(steps=8, checkpoint_every=4), tmp_path / "run", progress=False)
    # As if the process died after logging steps 9-10 but before checkpointing them:
    with open(tmp_path / "run" / "metrics.jsonl", "a") as f:
        for step in (9, 10):
            f.write(json.dumps({"step": step, "d_loss": 1.0}) + "\n")
    (tmp_path / "run" / "checkpoints" / "step_00000008").rename(tmp_path / "run" / "checkpoints" / "gone")
    train(config(steps=12, checkpoint_every=4), tmp_path / "run", resume=True, progress=False)
    steps = [json.loads(line)["step"] for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert steps == list(range(1, 13))


def test_a_checkpoint_folder_opens_that_checkpoint_of_its_run(tmp_path, capsys):
    """`gankit eval RUN/checkpoints/step_N` scores the run as it was at step N, and logs it at N."""
    import json

    import gankit

    train(config(steps=8, keep_checkpoints=0), tmp_path / "run", progress=False)
    first = checkpoint_dirs(tmp_path / "run")[0]
    early, newest = gankit.load(first), gankit.load(tmp_path / "run")
    assert (early.run_dir, early.step, newest.step) == (tmp_path / "run", 4, 8)
    assert not torch.equal(early.sample(16, seed=1), newest.sample(16, seed=1))
    assert main(["eval", str(first), "-n", "200", "--metrics", "modes", "--quiet"]) == 0
    logged = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert logged[-1]["step"] == 4 and "modes" in logged[-1]
    assert main(["eval", str(first.with_name("step_00000005")), "--quiet"]) == 2
    assert "has no checkpoint step_00000005; it keeps: step_00000004, step_00000008" in capsys.readouterr().err
