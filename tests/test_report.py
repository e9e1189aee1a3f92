"""`gankit report`: one self-contained HTML file per run or several, written at the end of training,
and never at the cost of a finished run."""

import json
import re
import shutil
import warnings

import pytest

from gankit.cli import main as cli_main
from gankit.commands.report import write_after_training
from gankit import report as report_module
from gankit.report import write_report


@pytest.fixture(scope="module")
def runs(tmp_path_factory, small_runs):
    root = tmp_path_factory.mktemp("runs")  # copies: a test here adds evaluation rows
    return shutil.copytree(small_runs["toy"], root / "toy"), shutil.copytree(small_runs["cond"], root / "cond")


def external_references(page: str) -> list[str]:
    """src/href values that would need the network or another file."""
    refs = re.findall(r'(?:src|href)="([^"]*)"', page)
    return [r for r in refs if not r.startswith(("data:", "#"))]


def test_one_run_is_self_contained(runs, tmp_path):
    toy, cond = runs
    page = write_report([cond], tmp_path / "r.html").read_text()
    assert external_references(page) == []
    assert "<script src" not in page and "@import" not in page
    assert page.count('class="frame"') == 4  # the grids of steps 10, 20, 30, 40 (sample_every = steps // 4)
    assert "Training curves" in page and "Latent interpolation" in page
    assert "y: one row per class" in page and "rows: 0, 1, 2, 3, 4, 5, 6, 7, 8, 9" in page
    assert "test-tiny-cgan" in page and "No evaluation yet" in page


def test_toy_run_shows_samples_over_the_mode_centres(runs, tmp_path):
    page = write_report([runs[0]], tmp_path / "toy.html").read_text()
    assert "Samples over the mode centres" in page and "of 8 modes covered" in page
    assert "Latent interpolation" not in page  # points, not images


def test_several_runs_are_compared(runs, tmp_path):
    page = write_report(list(runs), tmp_path / "both.html").read_text()
    assert 'id="comparison"' in page
    assert page.count('<section class="run"') == 2
    twin = shutil.copytree(runs[0], tmp_path / "other" / "toy")  # the same name in another folder
    page = write_report([runs[0], twin], tmp_path / "twins.html", generate=False).read_text()
    assert f"<th>{runs[0]}</th>" in page and f"<th>{twin}</th>" in page


def test_evaluation_beside_the_reference(runs, tmp_path):
    toy = runs[0]
    with open(toy / "metrics.jsonl", "a") as f:
        f.write(json.dumps({"step": 40, "eval": True, "modes": 3, "hq_fraction": 0.25}) + "\n")
    (toy / "reference.json").write_text(json.dumps({"real test vs train": {"modes": 8, "hq_fraction": 0.99},
                                                    "uniform noise": {"modes": 8, "hq_fraction": 0.01}}))
    try:
        page = write_report([toy], tmp_path / "eval.html").read_text()
    finally:
        (toy / "reference.json").unlink()
    table = page[page.index("<h3>Evaluation</h3>"):]
    for words in ("this run (step 40)", "real test vs train", "uniform noise", "hq_fraction", "0.2500", "0.9900"):
        assert words in table


def test_evaluations_of_several_checkpoints_are_plotted_and_the_newest_is_the_runs(runs, tmp_path):
    """`gankit eval RUN/checkpoints/step_N` may score an earlier checkpoint after the final one: the
    table still shows the newest checkpoint's scores, and the scores over the steps are a figure."""
    cond = shutil.copytree(runs[1], tmp_path / "cond")

    def write(row):
        with open(cond / "metrics.jsonl", "a") as f:
            f.write(json.dumps({"eval": True, **row}) + "\n")

    write({"step": 40, "fid": 111.0, "cond_accuracy": 0.5})
    page = write_report([cond], tmp_path / "one.html", generate=False).read_text()
    assert "Evaluation over training" not in page  # one checkpoint evaluated: nothing to plot
    write({"step": 20, "fid": 222.0, "cond_accuracy": 0.25})
    write({"step": 20, "fid": 333.0, "truncation": 0.5})
    page = write_report([cond], tmp_path / "two.html", generate=False).read_text()
    table = page[page.index("<h3>Evaluation</h3>"):]
    assert "this run (step 40)" in table and "111.00" in table and "222.00" not in table
    assert "<h3>Evaluation over training</h3>" in page


def test_a_generator_that_cannot_load_is_a_note(runs, tmp_path, monkeypatch):
    import gankit.run

    def fail(*args, **kwargs):
        raise RuntimeError("no such family")

    monkeypatch.setattr(gankit.run, "Run", fail)
    page = write_report([runs[1]], tmp_path / "r.html").read_text()
    assert "could not be loaded" in page and "no such family" in page and "Training curves" in page


def test_end_of_run_report_never_fails_the_run(runs, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(report_module, "write_report", broken)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert write_after_training(runs[0]) is None
    assert any("the run is saved" in str(w.message) and "disk full" in str(w.message) for w in caught)


def test_train_writes_the_report_unless_told_not_to(tmp_path, capsys):
    common = ["train", "gan", "--data", "ring8", "--steps", "4", "--no-progress", "--set", "model.g_widths=[8]",
              "--set", "model.d_widths=[8]", "--set", "train.log_every=2"]
    assert cli_main(common + ["--out", str(tmp_path / "a")]) == 0
    assert (tmp_path / "a" / "report.html").exists() and "report:" in capsys.readouterr().out
    assert cli_main(common + ["--out", str(tmp_path / "b"), "--set", "train.report=false"]) == 0
    assert not (tmp_path / "b" / "report.html").exists()


def test_report_command(runs, tmp_path, capsys):
    out = tmp_path / "cmp.html"
    assert cli_main(["report", str(runs[0]), str(runs[1]), "--out", str(out), "--no-generate"]) == 0
    assert out.exists() and "wrote" in capsys.readouterr().out
    assert "Latent interpolation" not in out.read_text()
    assert cli_main(["report", str(tmp_path / "nothing")]) == 2
    assert "not a gankit run directory" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    assert cli_main(["report", str(runs[0]), "--reference", str(bad), "--out", str(out)]) == 2
    assert "--reference" in capsys.readouterr().err
