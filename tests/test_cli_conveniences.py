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

from cli import main
from lightning_classics.callbacks import EnvStepsProgressBar
from lightning_classics.runs import presets
from lightning_classics.runs.presets import OVERLAYS_DIR, PRESETS_DIR
from lightning_modules import CNN, LSTM
from tests.helpers import QUIET, ROOT, cli_args, preset


def overlay_base(overlay: Path) -> str:
    """The base preset an overlay names on its first line: ``# Overlay on configs/<base>.yaml ...``."""
    first = overlay.read_text().splitlines()[0]
    prefix = "# Overlay on configs/"
    assert first.startswith(prefix), f"{overlay} must start with '{prefix}<base>.yaml'"
    return first.removeprefix(prefix).partition(".yaml")[0]


def test_presets_are_found_by_name_from_any_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no configs/ folder here
    cli = main(["--config", "mnist_lstm", "--runs_dir", str(tmp_path)], run=False)
    assert type(cli.model) is LSTM
    cli = main([f"--config={preset('mnist_cnn')}", "--config", "fashion_mnist", "--runs_dir", str(tmp_path)], run=False)
    assert type(cli.model) is CNN and cli.datamodule.hparams.dataset == "fashion_mnist"
    cli = main(["--config", "cartpole_dqn", "--config", "overlays/cartpole_v1", "--runs_dir", str(tmp_path)], run=False)
    assert cli.model.hparams.env_id == "CartPole-v1"  # an overlay named with its folder, as the README writes it
    with pytest.raises(SystemExit, match=r"--config nope: no such file and no preset .*mnist_cnn"):
        main(["--config", "nope"], run=False)


def built_values_match(cli, values: dict) -> None:
    for key, value in values.get("model", {}).get("init_args", {}).items():
        built = cli.model.hparams[key]
        assert (list(built) if isinstance(built, tuple) else built) == value, key
    for key, value in values.get("data", {}).get("init_args", {}).items():
        assert cli.datamodule.hparams[key] == value, key


@pytest.mark.parametrize("name", sorted(p.stem for p in PRESETS_DIR.glob("*.yaml")))
def test_every_preset_builds_its_model_with_the_values_it_sets(name, tmp_path):
    values = yaml.safe_load(Path(preset(name)).read_text())
    assert "class_path" in values.get("model", {}), f"configs/{name}.yaml names no model: move it to configs/overlays/"
    built_values_match(main([f"--config={preset(name)}", "--runs_dir", str(tmp_path)], run=False), values)


@pytest.mark.filterwarnings("ignore:.*typical of mnist:UserWarning")  # MNIST-like tiny files under the Fashion overlay
@pytest.mark.parametrize("overlay", sorted(OVERLAYS_DIR.glob("*.yaml")), ids=lambda path: path.stem)
def test_every_overlay_composes_on_its_base_and_trains(overlay, tmp_path, mnist_dir):
    """Each overlay on the base its first line names: the overlay's values win, and one tiny fit runs."""
    base = overlay_base(overlay)
    assert (PRESETS_DIR / f"{base}.yaml").is_file(), f"{overlay.name}: no base preset configs/{base}.yaml"
    values = yaml.safe_load(overlay.read_text())
    configs = [f"--config={PRESETS_DIR / f'{base}.yaml'}", f"--config={overlay}"]
    built_values_match(main([*configs, "--runs_dir", str(tmp_path)], run=False), values)
    tiny = ["--trainer.max_steps", "2", "--trainer.limit_val_batches", "1", "--trainer.num_sanity_val_steps", "0"]
    if values.get("data", {}).get("init_args", {}).get("dataset") == "fashion_mnist":
        tiny += ["--data.data_dir", str(mnist_dir), "--data.val_size", "44"]  # the tiny files stand in for both
    elif "env_id" in values.get("model", {}).get("init_args", {}):
        tiny += ["--model.init_args.steps_per_epoch", "2", "--model.init_args.learning_starts", "16"]
        tiny += ["--model.init_args.val_episodes", "1"]
    fit = main(["fit", *configs, "--runs_dir", str(tmp_path), *QUIET, *tiny])
    assert fit.trainer.global_step == 2


@pytest.mark.slow
def test_a_built_wheel_installs_four_unmistakable_names_and_ships_every_module_and_preset(tmp_path):
    """What ``pip install`` puts in a user's environment: the brief's lightning_modules, datamodules, rl and cli, and
    lightning_classics for the rest (no generic top-level names such as callbacks or configs). A non-editable
    install has no checkout to read configs/ from: the presets travel as lightning_classics/configs."""
    # Built from a copy: setuptools' in-tree build/ folder keeps files of earlier builds, which could hide a miss.
    anywhere = shutil.ignore_patterns(".*", "build", "*.egg-info", "__pycache__")
    outputs = {"runs", "data", "lightning_logs"}  # at the root only: lightning_classics/runs is code

    def skip(folder: str, names: list[str]) -> set[str]:
        return set(anywhere(folder, names)) | (outputs & set(names) if Path(folder) == ROOT else set())

    source = shutil.copytree(ROOT, tmp_path / "source", ignore=skip)
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
    subprocess.run([*pip_wheel, "-w", str(tmp_path), str(source)], check=True)
    (wheel,) = tmp_path.glob("lightning_classics-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    top_level = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert top_level == {"lightning_classics", "lightning_modules", "datamodules", "rl", "cli.py"}
    packages = ["lightning_classics", "lightning_modules", "datamodules", "rl"]
    modules = {path.relative_to(ROOT).as_posix() for package in packages for path in (ROOT / package).rglob("*.py")}
    assert modules - names == set()  # a sub-package missing from pyproject's list of packages is missing here
    assert "lightning_classics/inference/drawing_page.html" in names
    presets = {f"lightning_classics/configs/{p.relative_to(PRESETS_DIR)}" for p in PRESETS_DIR.rglob("*.yaml")}
    assert presets and presets <= names  # where presets_dir() looks in an installed wheel


def test_presets_are_found_in_an_installed_package_first(tmp_path, monkeypatch):
    """Installed, presets.py sits in site-packages/lightning_classics/runs/ with the presets in ../configs."""
    installed = tmp_path / "site-packages" / "lightning_classics"
    (installed / "runs").mkdir(parents=True)
    (installed / "configs").mkdir()
    monkeypatch.setattr(presets, "__file__", str(installed / "runs" / "presets.py"))
    assert presets.presets_dir() == installed / "configs"
    (installed / "configs").rmdir()  # a checkout: configs/ beside the package, at the project's root
    assert presets.presets_dir() == tmp_path / "site-packages" / "configs"


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
    # the CLI's bar counts agent steps for agents (tests/test_progress_bar.py); a classifier's counts batches
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
