"""No entry point imports a module that a checkpoint names: a crafted checkpoint whose class path (or
instantiator) is ``evilmod...`` , with an ``evilmod.py`` that writes a marker file on import on the path, is
refused in one line by cli.py test and predict, rl.play, lightning_classics.inference.export and the server's loader."""

from __future__ import annotations

import sys
from pathlib import Path

import lightning as L
import pytest

import cli
import lightning_modules
import rl
from lightning_classics.inference import export, serve
from lightning_classics.inference.checkpoints import load_classifier
from lightning_classics.runs.checkpoint_loader import load_model, model_classes
from lightning_classics.runs.errors import UserError
from rl import play
from tests.crafted_checkpoints import CLI_INSTANTIATOR, agent_checkpoint, classifier_checkpoint, plant_evil_module
from tests.helpers import cli_args

CRAFTED = [
    pytest.param(
        {"_class_path": "evilmod.ANN"}, "'evilmod.ANN', which is not one of this project's models", id="class"
    ),
    pytest.param({"_instantiator": "evilmod.make"}, "instantiator 'evilmod.make'", id="instantiator"),
]


def one_line(exit_info: pytest.ExceptionInfo[SystemExit]) -> str:
    message = str(exit_info.value.code)
    assert message.startswith("error: ") and "\n" not in message, message
    return message


@pytest.fixture
def marker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = plant_evil_module(tmp_path, monkeypatch)
    yield path
    assert not path.exists(), "a module named by a checkpoint was imported"
    assert "evilmod" not in sys.modules


@pytest.mark.parametrize(("crafted", "expected"), CRAFTED)
def test_export_never_imports_what_a_checkpoint_names(tmp_path, marker, crafted, expected):
    ckpt = classifier_checkpoint(tmp_path / "crafted.ckpt", **crafted)
    with pytest.raises(SystemExit) as info:
        export.main(["--ckpt", str(ckpt), "--format", "onnx"])
    assert expected in one_line(info)
    assert not (tmp_path / "crafted.onnx").exists()


@pytest.mark.parametrize(("crafted", "expected"), CRAFTED)
def test_play_never_imports_what_a_checkpoint_names(tmp_path, marker, crafted, expected):
    ckpt = agent_checkpoint(tmp_path / "crafted.ckpt", **crafted)
    with pytest.raises(SystemExit) as info:
        play.main(["--ckpt", str(ckpt), "--seed", "0"])
    assert expected in one_line(info)


@pytest.mark.parametrize(("crafted", "expected"), CRAFTED)
def test_the_servers_loader_never_imports_what_a_checkpoint_names(tmp_path, marker, crafted, expected):
    ckpt = classifier_checkpoint(tmp_path / "crafted.ckpt", **crafted)
    with pytest.raises(UserError, match=expected):
        load_classifier(ckpt)
    with pytest.raises(UserError, match=expected):
        serve.load_models([str(ckpt)])


@pytest.mark.parametrize("subcommand", ["test", "predict"])
def test_cli_never_imports_what_a_checkpoint_names(tmp_path, marker, mnist_dir, subcommand):
    ckpt = classifier_checkpoint(tmp_path / "crafted.ckpt", _class_path="evilmod.ANN")
    args = cli_args(
        subcommand, "mnist_ann", tmp_path / "runs", "--data.data_dir", str(mnist_dir), "--ckpt_path", str(ckpt)
    )
    with pytest.raises(SystemExit) as info:
        cli.main(args)
    assert "'evilmod.ANN', which is not one of this project's models" in one_line(info)


def test_the_crafted_checkpoints_load_once_they_name_the_project_classes(tmp_path):
    # The refusals above are about the names only: the same checkpoints with the real names load.
    model = load_classifier(classifier_checkpoint(tmp_path / "ann.ckpt", _instantiator=CLI_INSTANTIATOR))
    assert type(model).__name__ == "ANN" and not model.training
    assert type(play.load_agent(str(agent_checkpoint(tmp_path / "agent.ckpt")))).__name__ == "TabularQLearning"


def test_the_loader_builds_only_the_classes_its_caller_passes(tmp_path):
    # The loader sits below the models (tests/test_import_layers.py): the classes it may build come from its caller.
    classifiers = model_classes(lightning_modules)
    assert (
        classifiers["ANN"]
        is classifiers["lightning_modules.ANN"]
        is classifiers["lightning_modules.mnist_classifiers.ANN"]
    )
    assert "TabularQLearning" not in classifiers and "rl.TabularQLearning" in model_classes(lightning_modules, rl)
    agent = agent_checkpoint(tmp_path / "agent.ckpt")
    with pytest.raises(UserError) as refused:
        load_model(agent, L.LightningModule, classifiers)
    assert "names the class 'rl.tabular.agent.TabularQLearning', which is not one of" in str(refused.value)
    assert "(ANN, CNN, Classifier, ImageClassifier, LSTM, TinyNet); it is not imported" in str(refused.value)
    assert type(load_model(agent, L.LightningModule, model_classes(rl))).__name__ == "TabularQLearning"
