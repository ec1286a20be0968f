"""Presets by name from any folder (and from a built wheel), one model's --help, and a quiet console."""

import logging
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from callbacks import EnvStepsProgressBar
from cli import main
from lightning_modules import CNN, LSTM
from tests.helpers import preset


def test_presets_are_found_by_name_from_any_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no configs/ folder here
    cli = main(["--config", "mnist_lstm", "--runs_dir", str(tmp_path)], run=False)
    assert type(cli.model) is LSTM
    cli = main([f"--config={preset('mnist_cnn')}", "--config", "fashion_mnist", "--runs_dir", str(tmp_path)], run=False)
    assert type(cli.model) is CNN and cli.datamodule.hparams.dataset == "fashion_mnist"
    with pytest.raises(SystemExit, match=r"--config nope: no such file and no preset .*mnist_cnn"):
        main(["--config", "nope"], run=False)


@pytest.mark.slow
def test_a_built_wheel_ships_every_preset_beside_cli_py(tmp_path):
    """A non-editable install has no checkout to read configs/ from: the presets must travel in the wheel."""
    root = Path(__file__).resolve().parents[1]
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(root),
        ],
        check=True,
    )
    (wheel,) = tmp_path.glob("lightning_classics-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "cli.py" in names  # cli.PRESETS_DIR is configs/ beside it
    assert {f"configs/{p.name}" for p in (root / "configs").glob("*.yaml")} <= names


def test_help_for_one_model_lists_its_options(capsys):
    with pytest.raises(SystemExit) as info:
        main(["fit", "--model.help", "CNN"])
    assert info.value.code == 0
    shown = capsys.readouterr().out
    assert "--model.channels" in shown and "--model.pixel_mean" in shown and "--model.hidden_size " not in shown


def test_runs_print_no_lightning_noise_and_no_version_number(tmp_path, caplog):
    with caplog.at_level(logging.INFO):
        cli = main(["fit", "--config", "tiny_net", "--runs_dir", str(tmp_path), "--trainer.max_epochs", "1"])
    for noise in ("GPU available: False", "TPU available", "💡 Tip", "to estimate number of stepping batches"):
        assert noise not in caplog.text
    assert "Best checkpoint:" in caplog.text  # our own summary still shows
    bar = cli.trainer.progress_bar_callback
    metrics = bar.get_metrics(cli.trainer, cli.model)
    assert "v_num" not in metrics and "val/acc" in metrics
    # the CLI's bar counts environment steps for agents (tests/test_progress_bar.py); a classifier's counts batches
    assert isinstance(bar, EnvStepsProgressBar) and bar.train_progress_bar.n == cli.trainer.num_training_batches
