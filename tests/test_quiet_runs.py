"""Runs are quiet: warnings that say nothing about the run are silenced where they arise, each narrowly.

Each test records every warning with the filters of pyproject.toml (and of cli.py) overridden by "always", so a
warning that is only hidden from the test suite would fail it.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from cli import main
from tests.helpers import cli_args


def warnings_of(action: Callable[[], Any]) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        action()
    return [str(warning.message) for warning in caught]


def test_cartpole_v0_is_made_without_gymnasiums_out_of_date_warning():
    from rl import play
    from rl.dqn import DQN
    from rl.wrappers import build_env

    messages = warnings_of(lambda: DQN(env_id="CartPole-v0", hidden_sizes=(8,)))  # an agent from Python
    messages += warnings_of(lambda: play.main(["--random", "--env", "CartPole-v0", "--seed", "1", "--render", "none"]))
    assert not [m for m in messages if "out of date" in m]
    # narrow: gymnasium still says so of any other environment with a newer version (none ships one: made here)
    import gymnasium as gym

    for version in ("v0", "v1"):
        if f"OutdatedCorridor-{version}" not in gym.registry:
            gym.register(f"OutdatedCorridor-{version}", entry_point="tests.corridor_env:Corridor", max_episode_steps=8)
    assert any("OutdatedCorridor-v0 is out of date" in m for m in warnings_of(lambda: build_env("OutdatedCorridor-v0")))


def test_tiny_net_preset_and_its_resume_run_without_lightning_warnings(tmp_path):
    runs = tmp_path / "runs"
    fit = warnings_of(lambda: main(cli_args("fit", "tiny_net", runs, "--trainer.max_epochs", "1")))
    assert not [m for m in fit if "logging interval" in m]
    resume = ["--trainer.max_epochs", "2", "--ckpt_path", "last"]
    resumed = warnings_of(lambda: main(cli_args("fit", "tiny_net", runs, *resume)))
    assert not [m for m in resumed if "exists and is not empty" in m]
    assert len(list((runs / "tiny_net").iterdir())) == 1  # it did resume, in the same folder


def test_exported_program_of_a_channels_last_cnn_is_written_without_torch_export_notes(tmp_path):
    import torch

    from lightning_classics.inference.export import example_images, export
    from lightning_modules import CNN

    network = CNN(channels=(4, 8, 8), hidden_sizes=(16,)).raw_pixel_network()
    assert not next(p for p in network.parameters() if p.dim() == 4 and p.shape[1] > 1).is_contiguous()  # NHWC
    before = {name: p.stride() for name, p in network.named_parameters()}
    path = tmp_path / "cnn.pt2"
    messages = warnings_of(lambda: export(network, (1, 28, 28), "exported-program", path))
    assert not [m for m in messages if "No complete tensor" in m]
    assert {name: p.stride() for name, p in network.named_parameters()} == before  # the caller's network untouched
    images = example_images((1, 28, 28), batch=3)
    with torch.no_grad():
        assert torch.allclose(torch.export.load(str(path)).module()(images), network(images), atol=1e-5, rtol=0)
