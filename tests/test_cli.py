"""The CLI in-process: fit, test, predict, resume, presets and error messages."""

import pytest
import torch
import yaml

from cli import main
from lightning_modules import ANN, CNN, LSTM, TinyNet
from tests.helpers import cli_args, predictions_file, preset


def cnn_args(subcommand, mnist_dir, runs_dir, *extra):
    """The CNN preset on the tiny test digits: 250 training images in batches of 50, 50 for validation."""
    data = ["--data.data_dir", str(mnist_dir), "--data.val_size", "50", "--data.batch_size", "50"]
    return cli_args(subcommand, "mnist_cnn", runs_dir, *data, *extra)


def test_fit_then_test_best_and_predict(tmp_path, mnist_dir, capsys):
    runs = tmp_path / "runs"
    # Augmentation shifts the bars that tell the tiny classes apart: 10 steps with it stay near chance
    # level (val/acc 0.36-0.78 over seeds), without it they reach 1.0; this test is about fit -> test -> predict.
    cli = main(cnn_args("fit", mnist_dir, runs, "--trainer.max_epochs", "2", "--data.augment", "false"))
    checkpoints = runs / "mnist_cnn" / "version_0" / "checkpoints"
    assert (checkpoints / "best.ckpt").is_file() and (checkpoints / "last.ckpt").is_file()
    assert cli.trainer.callback_metrics["val/acc"] >= 0.5
    assert f"Best checkpoint: {checkpoints / 'best.ckpt'}" in capsys.readouterr().out  # a result: on stdout

    cli = main(cnn_args("test", mnist_dir, runs, "--ckpt_path", "best"))
    assert cli.trainer.ckpt_path == str(checkpoints / "best.ckpt")
    assert cli.trainer.callback_metrics["test/acc"] >= 0.5
    out = capsys.readouterr().out
    assert "Test results: {" in out and "'test/acc'" in out

    main(cnn_args("predict", mnist_dir, runs, "--ckpt_path", "last"))
    predictions = torch.load(predictions_file(runs / "mnist_cnn" / "version_0", ".pt"), weights_only=True)
    assert sum(len(batch["prediction"]) for batch in predictions) == 100  # every test image once


def test_checkpoints_load_with_weights_only(tmp_path, mnist_dir):
    runs = tmp_path / "runs"
    main(cnn_args("fit", mnist_dir, runs, "--trainer.max_epochs", "1"))
    checkpoint = torch.load(runs / "mnist_cnn" / "version_0" / "checkpoints" / "best.ckpt", weights_only=True)
    assert checkpoint["hyper_parameters"]["lr"] == pytest.approx(0.003)  # from the preset
    assert checkpoint["hyper_parameters"]["num_classes"] == 10  # linked from the data module


def test_resume_from_last_continues_the_epoch_count(tmp_path, mnist_dir):
    runs = tmp_path / "runs"
    first = main(cnn_args("fit", mnist_dir, runs, "--trainer.max_epochs", "1"))
    steps_per_epoch = first.trainer.global_step
    assert steps_per_epoch == 5  # 250 training images / batch 50
    resumed = main(cnn_args("fit", mnist_dir, runs, "--trainer.max_epochs", "2", "--ckpt_path", "last"))
    assert resumed.trainer.current_epoch == 2
    assert resumed.trainer.global_step == 2 * steps_per_epoch


def test_last_checkpoint_is_the_latest_epoch_even_when_it_is_not_the_best(tmp_path, mnist_dir):
    runs = tmp_path / "runs"
    # mode=min on accuracy: "best" stays at the first epoch while accuracy rises.
    main(cnn_args("fit", mnist_dir, runs, "--trainer.max_epochs", "3", "--checkpoint.mode", "min"))
    checkpoints = runs / "mnist_cnn" / "version_0" / "checkpoints"
    assert torch.load(checkpoints / "best.ckpt", weights_only=True)["global_step"] == 5
    assert torch.load(checkpoints / "last.ckpt", weights_only=True)["global_step"] == 15


def test_running_the_same_command_twice_works(tmp_path, mnist_dir):
    args = cnn_args(
        "fit", mnist_dir, tmp_path / "runs", "--trainer.max_epochs", "1", "--trainer.limit_train_batches", "1"
    )
    first = main(args)
    second = main(args)  # must not fail on the config saved by the first run
    assert first.trainer.current_epoch == second.trainer.current_epoch == 1
    # Each run has its own folder; the first one's config is still there.
    for version in ("version_0", "version_1"):
        assert (tmp_path / "runs" / "mnist_cnn" / version / "config.yaml").is_file()


def test_missing_best_checkpoint_is_a_clear_error(tmp_path, mnist_dir):
    with pytest.raises(SystemExit) as info:
        main(cnn_args("test", mnist_dir, tmp_path / "runs", "--ckpt_path", "best"))
    assert str(info.value).startswith("error: nothing to evaluate: no run 'mnist_cnn'")
    assert "--run_name" in str(info.value) and "\n" not in str(info.value)


def test_bad_data_folder_is_a_clear_error(tmp_path):
    with pytest.raises(SystemExit) as info:
        main(cnn_args("fit", tmp_path / "nothing-here", tmp_path / "runs", "--data.download", "false"))
    message = str(info.value)
    assert message.startswith("error: mnist files not found") and "--data.data_dir" in message
    assert "\n" not in message


def test_print_config_runs_as_is(tmp_path, mnist_dir, capsys):
    with pytest.raises(SystemExit):
        main(cnn_args("fit", mnist_dir, tmp_path / "runs", "--trainer.max_epochs", "1", "--print_config"))
    printed = capsys.readouterr().out
    config_file = tmp_path / "printed.yaml"
    config_file.write_text(printed)
    assert yaml.safe_load(printed)["model"]["class_path"] == "lightning_modules.CNN"  # resolved to the full path
    cli = main(["fit", "--config", str(config_file), "--trainer.limit_train_batches", "1"])
    assert cli.trainer.current_epoch == 1


@pytest.mark.parametrize(
    ("name", "model_class"), [("mnist_ann", ANN), ("mnist_cnn", CNN), ("mnist_lstm", LSTM), ("tiny_net", TinyNet)]
)
def test_presets_build_their_model_and_data(name, model_class, tmp_path):
    cli = main(["--config", preset(name), "--runs_dir", str(tmp_path)], run=False)
    assert type(cli.model) is model_class
    assert cli.trainer.max_epochs > 1


def test_validate_reports_the_validation_metrics_of_a_checkpoint(tmp_path, mnist_dir):
    runs = tmp_path / "runs"
    fitted = main(cnn_args("fit", mnist_dir, runs, "--trainer.max_epochs", "1"))
    validated = main(cnn_args("validate", mnist_dir, runs, "--ckpt_path", "best"))
    assert validated.trainer.ckpt_path == str(runs / "mnist_cnn" / "version_0" / "checkpoints" / "best.ckpt")
    # The same weights on the same 50 validation images: the same accuracy as fit's last epoch.
    assert validated.trainer.callback_metrics["val/acc"] == fitted.trainer.callback_metrics["val/acc"]


def test_tiny_net_fit_and_predict(tmp_path):
    cli = main(cli_args("fit", "tiny_net", tmp_path))
    assert cli.trainer.callback_metrics["val/acc"] >= 0.95
    main(cli_args("predict", "tiny_net", tmp_path, "--ckpt_path", "best"))
    predictions = torch.load(predictions_file(tmp_path / "tiny_net" / "version_0", ".pt"), weights_only=True)
    # The default example inputs [1, 2, 3], [0.5, -1, 0], [-1, 1, -2]: class 1 where x0 + 2*x1 - x2 > 0.
    assert predictions[0]["prediction"].tolist() == [1, 0, 1]


def test_tiny_net_predicts_on_given_inputs_and_says_which_weights(tmp_path, capsys):
    """The starter example: one command runs the 3-4-4-2 network on your numbers, trained or not."""
    inputs = "[[1, 2, 3], [0.5, -1, 0]]"
    main(cli_args("predict", "tiny_net", tmp_path, "--data.predict_inputs", inputs))
    assert "freshly initialised weights" in capsys.readouterr().out
    # no run holds untrained weights: their predictions go beside the run folders, not between them
    (batch,) = torch.load(predictions_file(tmp_path / "tiny_net" / "untrained", ".pt"), weights_only=True)
    assert sorted(p.name for p in (tmp_path / "tiny_net").iterdir()) == ["untrained"]
    assert batch["probabilities"].shape == (2, 2)
    assert torch.allclose(batch["probabilities"].sum(dim=1), torch.ones(2))

    main(cli_args("fit", "tiny_net", tmp_path, "--trainer.max_epochs", "3"))
    capsys.readouterr()
    main(cli_args("predict", "tiny_net", tmp_path, "--data.predict_inputs", inputs, "--ckpt_path", "best"))
    assert f"checkpoint {tmp_path / 'tiny_net' / 'version_0' / 'checkpoints' / 'best.ckpt'}" in capsys.readouterr().out
    (batch,) = torch.load(predictions_file(tmp_path / "tiny_net" / "version_0", ".pt"), weights_only=True)
    assert batch["prediction"].tolist() == [1, 0]  # class 1 where x0 + 2*x1 - x2 > 0


def test_fashion_overlay_composes_with_the_cnn_preset(tmp_path):
    configs = ["--config", preset("mnist_cnn"), "--config", preset("fashion_mnist")]
    cli = main([*configs, "--runs_dir", str(tmp_path)], run=False)
    assert (cli.datamodule.hparams.dataset, cli.datamodule.hparams.augment) == ("fashion_mnist", False)
    assert type(cli.model) is CNN and cli.model.hparams.label_smoothing == 0.1
    assert cli.model.hparams.lr == 0.003  # the base preset's values survive the overlay
    # the model normalises with Fashion-MNIST's statistics, linked from the data module
    assert (cli.model.hparams.pixel_mean, cli.model.hparams.pixel_std) == (0.2860, 0.3530)
    assert cli.trainer.default_root_dir == str(tmp_path / "fashion_cnn")


def test_speedrun_preset_is_one_fast_epoch_of_a_half_width_cnn(tmp_path):
    speedrun = main(["--config", preset("mnist_speedrun"), "--runs_dir", str(tmp_path)], run=False)
    assert type(speedrun.model) is CNN and speedrun.trainer.max_epochs == 1
    assert speedrun.model.hparams.channels == [16, 32, 64] and not speedrun.datamodule.hparams.augment
