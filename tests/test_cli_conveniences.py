"""Presets by name from any folder (and from a built wheel), one model's --help, and a quiet console."""

import logging
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import lightning as L
import pytest
import yaml

from callbacks import EnvStepsProgressBar
from cli import main
from lightning_modules import CNN, LSTM
from tests.helpers import ROOT, cli_args, preset
from training_runs.presets import PRESETS_DIR

# Overlays hold only what differs from a base preset; each is checked on top of its base.
OVERLAY_BASES = {"fashion_mnist": "mnist_cnn", "mnist_speedrun_995": "mnist_speedrun"}


def test_presets_are_found_by_name_from_any_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no configs/ folder here
    cli = main(["--config", "mnist_lstm", "--runs_dir", str(tmp_path)], run=False)
    assert type(cli.model) is LSTM
    cli = main([f"--config={preset('mnist_cnn')}", "--config", "fashion_mnist", "--runs_dir", str(tmp_path)], run=False)
    assert type(cli.model) is CNN and cli.datamodule.hparams.dataset == "fashion_mnist"
    with pytest.raises(SystemExit, match=r"--config nope: no such file and no preset .*mnist_cnn"):
        main(["--config", "nope"], run=False)


@pytest.mark.parametrize("name", sorted(p.stem for p in PRESETS_DIR.glob("*.yaml")))
def test_every_preset_builds_its_model_with_the_values_it_sets(name, tmp_path):
    values = yaml.safe_load(Path(preset(name)).read_text())
    is_overlay = "class_path" not in values.get("model", {})
    assert not is_overlay or name in OVERLAY_BASES, f"configs/{name}.yaml is an overlay: add its base to OVERLAY_BASES"
    configs = [preset(OVERLAY_BASES[name])] if is_overlay else []
    args = [f"--config={config}" for config in [*configs, preset(name)]]
    cli = main([*args, "--runs_dir", str(tmp_path)], run=False)
    for key, value in values.get("model", {}).get("init_args", {}).items():
        built = cli.model.hparams[key]
        assert (list(built) if isinstance(built, tuple) else built) == value, key


@pytest.mark.slow
def test_a_built_wheel_ships_every_preset_beside_cli_py(tmp_path):
    """A non-editable install has no checkout to read configs/ from: the presets must travel in the wheel."""
    # Built from a copy: setuptools' in-tree build/ folder keeps files of earlier builds, which could hide a miss.
    skip = shutil.ignore_patterns(".*", "build", "*.egg-info", "__pycache__", "runs", "data", "lightning_logs")
    source = shutil.copytree(ROOT, tmp_path / "source", ignore=skip)
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
    subprocess.run([*pip_wheel, "-w", str(tmp_path), str(source)], check=True)
    (wheel,) = tmp_path.glob("lightning_classics-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "cli.py" in names  # training_runs.presets.PRESETS_DIR: configs/ beside cli.py and training_runs/
    assert {f"configs/{p.name}" for p in PRESETS_DIR.glob("*.yaml")} <= names


def test_help_for_one_model_lists_its_options(capsys):
    with pytest.raises(SystemExit) as info:
        main(["fit", "--model.help", "CNN"])
    assert info.value.code == 0
    shown = capsys.readouterr().out
    assert "--model.channels" in shown and "--model.pixel_mean" in shown and "--model.hidden_size " not in shown


def test_runs_print_no_lightning_noise_and_no_version_number(tmp_path, caplog, capsys):
    with caplog.at_level(logging.INFO):
        cli = main(["fit", "--config", "tiny_net", "--runs_dir", str(tmp_path), "--trainer.max_epochs", "1"])
    for noise in ("GPU available: False", "TPU available", "💡 Tip", "to estimate number of stepping batches"):
        assert noise not in caplog.text
    assert "Best checkpoint:" in capsys.readouterr().out  # our own summary still shows, on stdout
    bar = cli.trainer.progress_bar_callback
    metrics = bar.get_metrics(cli.trainer, cli.model)
    assert "v_num" not in metrics and "val/acc" in metrics
    # the CLI's bar counts environment steps for agents (tests/test_progress_bar.py); a classifier's counts batches
    assert isinstance(bar, EnvStepsProgressBar) and bar.train_progress_bar.n == cli.trainer.num_training_batches


class BatchCounter(L.Callback):
    def __init__(self) -> None:
        self.batches = 0

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx: int) -> None:
        self.batches += 1


def test_callers_in_python_add_callbacks_beside_the_configured_ones(tmp_path):
    counter = BatchCounter()
    cli = main(cli_args("fit", "tiny_net", tmp_path, "--trainer.max_epochs", "1"), callbacks=[counter])
    assert counter in cli.trainer.callbacks and counter.batches == cli.trainer.global_step > 0
    assert cli.trainer.checkpoint_callback is not None  # the CLI's own callbacks are all still there
    assert cli.run.checkpoint("last").is_file()
