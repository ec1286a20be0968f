"""validate/test/predict on a run start from the configuration it was trained with (lightning_classics/runs/run_config.py):
by ``--run_name`` with ``--ckpt_path best|last`` or by a checkpoint file inside the run folder; the command line
still overrides it, under the checkpoint checks, whose errors name the run's config file."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli import WHERE_IT_RUNS, main
from lightning_classics.runs.run_config import run_options, with_run_config
from tests.helpers import QUIET, preset

# Trained with options no preset has: an evaluation that did not read the run's config would build another model.
TRAINED_WITH = ["--model.init_args.hidden", "6", "--data.train_size", "500", "--trainer.max_epochs", "1"]
# Where it ran: not part of what it trained, so evaluations run where they run (here: auto, the CLI's default).
RAN_ON = ["--trainer.accelerator", "cpu", "--trainer.devices", "1"]


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """runs/tiny_net/version_0 of a TinyNet trained with TRAINED_WITH; returns the runs folder."""
    runs = tmp_path_factory.mktemp("run_config") / "runs"
    main(["fit", "--config", preset("tiny_net"), "--runs_dir", str(runs), *QUIET, *TRAINED_WITH, *RAN_ON])
    return runs


def run_folder(runs: Path) -> Path:
    return runs / "tiny_net" / "version_0"


def test_test_by_run_name_alone_uses_the_runs_saved_config(trained_run, capfd):
    cli = main(["test", "--run_name", "tiny_net", "--runs_dir", str(trained_run), "--ckpt_path", "best", *QUIET])
    assert cli.model.hparams.hidden == 6 and cli.datamodule.hparams.train_size == 500  # the trained configuration
    assert cli.trainer.ckpt_path == str(run_folder(trained_run) / "checkpoints" / "best.ckpt")
    assert cli.trainer.callback_metrics["test/acc"] > 0.5
    trainer = cli.config["test"]["trainer"]
    assert (trainer["accelerator"], trainer["devices"]) == ("auto", "auto")  # not the "cpu", 1 it was trained with
    assert f"Configuration: the run's own {run_folder(trained_run) / 'config.yaml'}" in capfd.readouterr().err


def test_predict_by_a_checkpoint_path_in_the_run_folder_with_an_override(trained_run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # from another folder: the checkpoint alone says which run
    checkpoint = run_folder(trained_run) / "checkpoints" / "last.ckpt"
    inputs = "[[1, 2, 3]]"
    cli = main(["predict", "--ckpt_path", str(checkpoint), "--data.predict_inputs", inputs, *QUIET])
    assert cli.model.hparams.hidden == 6
    assert cli.datamodule.hparams.predict_inputs == [[1, 2, 3]]  # the command line over the saved config
    assert cli.trainer.ckpt_path == str(checkpoint)


def test_validate_takes_a_changeable_override(trained_run):
    args = ["validate", "--run_name", "tiny_net", "--runs_dir", str(trained_run), "--ckpt_path", "last"]
    cli = main([*args, "--data.batch_size", "100", *QUIET])
    assert cli.datamodule.hparams.batch_size == 100 and cli.model.hparams.hidden == 6
    assert "val/acc" in cli.trainer.callback_metrics


def test_an_override_that_contradicts_the_checkpoint_is_refused_and_names_the_runs_config(trained_run):
    # the preset's TinyNet has hidden=4: the command line wins over the saved config, and the check refuses it
    args = ["test", "--config", preset("tiny_net"), "--runs_dir", str(trained_run), "--ckpt_path", "best"]
    with pytest.raises(SystemExit) as info:
        main([*args, "--model.init_args.hidden", "4", *QUIET])
    message = str(info.value)
    assert message.startswith("error: the configuration differs from checkpoint") and "hidden=4" in message
    assert str(run_folder(trained_run) / "config.yaml") in message and "\n" not in message


def test_an_evaluation_without_model_or_checkpoint_says_how_to_name_the_run(tmp_path):
    with pytest.raises(SystemExit) as info:
        main(["test", "--run_name", "tiny_net", "--runs_dir", str(tmp_path)])
    message = str(info.value)
    assert "required: test.model" in message and "--ckpt_path best|last" in message and "\n" not in message


def test_a_missing_run_is_the_one_line_error_before_any_parsing(tmp_path):
    with pytest.raises(SystemExit) as info:
        main(["predict", "--run_name", "nothing", "--runs_dir", str(tmp_path), "--ckpt_path", "best"])
    assert str(info.value).startswith("error: nothing to evaluate: no run 'nothing'")


def test_run_options_come_from_the_command_line_and_its_config_files_the_later_winning(tmp_path):
    config = tmp_path / "preset.yaml"
    config.write_text("run_name: from_file\nruns_dir: elsewhere\nmodel:\n  class_path: TinyNet\n")
    options = run_options(["--run_name=first", "--config", str(config), "--ckpt_path", "best", "--version", "2"])
    assert options == {"run_name": "from_file", "runs_dir": "elsewhere", "version": "2", "ckpt_path": "best"}
    assert run_options(["--config", "{inline: yaml}", "--ckpt_path=null"])["ckpt_path"] is None


def test_only_evaluations_of_a_run_get_its_config(trained_run):
    named = ["--run_name", "tiny_net", "--runs_dir", str(trained_run), "--ckpt_path", "best"]
    saved = run_folder(trained_run) / "config.yaml"
    args, config = with_run_config(["test", *named], {"devices": "auto"})
    assert config == saved and args == ["test", "--config", str(saved), "--trainer.devices", "auto", *named]
    assert with_run_config(args, WHERE_IT_RUNS) == (args, None)  # a DDP launcher's re-run of the completed line
    assert with_run_config(["fit", *named], WHERE_IT_RUNS) == (["fit", *named], None)  # resuming: as before
    assert with_run_config(["test", *named, "--help"], WHERE_IT_RUNS)[1] is None
    assert with_run_config(["test", "--run_name", "tiny_net", "--runs_dir", str(trained_run)], WHERE_IT_RUNS)[1] is None
