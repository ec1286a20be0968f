"""A saved Q-learning agent behaves like the one that saved it, and a resumed run continues identically."""

from __future__ import annotations

import numpy as np
import torch

from rl.evaluation import play_episodes
from rl.tabular import TabularQLearning
from tests.helpers import quiet_trainer

SMALL = dict(lr=1.0, q_init=20.0, episodes_per_epoch=100, val_episodes=20, test_episodes=20, seed=7)


def test_resume_reproduces_an_uninterrupted_run(tmp_path):
    straight = TabularQLearning(**SMALL)
    quiet_trainer(max_epochs=4).fit(straight)

    first = TabularQLearning(**SMALL)
    half = quiet_trainer(max_epochs=2)
    half.fit(first)
    half.save_checkpoint(tmp_path / "half.ckpt")
    resumed = TabularQLearning(**{**SMALL, "seed": 99})  # a different seed: everything must come from the file
    quiet_trainer(max_epochs=4).fit(resumed, ckpt_path=tmp_path / "half.ckpt")

    assert resumed.episodes == straight.episodes == 400
    # Same table only if the table, the episode counter (epsilon), the exploration RNG and the env's RNG
    # (the start states) all came back; any one missing changes the last 200 episodes.
    assert torch.equal(resumed.q_table, straight.q_table)
    assert not torch.equal(first.q_table, straight.q_table)  # the second half did change the table
    assert resumed.rng.bit_generator.state == straight.rng.bit_generator.state


def greedy_episodes(agent: TabularQLearning, seeds: list[int]) -> tuple[np.ndarray, np.ndarray]:
    envs = [agent.make_env() for _ in seeds]
    episodes = play_episodes(envs, lambda obs: np.array([agent.act(o) for o in obs]), seeds)
    return episodes.returns, episodes.lengths


def test_loaded_agent_plays_exactly_like_the_saved_one(tmp_path):
    agent = TabularQLearning(**SMALL)
    trainer = quiet_trainer(max_epochs=3)
    trainer.fit(agent)
    trainer.save_checkpoint(tmp_path / "agent.ckpt")
    loaded = TabularQLearning.load_from_checkpoint(tmp_path / "agent.ckpt", map_location="cpu")

    seeds = list(range(30))
    returns, lengths = greedy_episodes(agent, seeds)
    assert np.array_equal(greedy_episodes(loaded, seeds)[0], returns)
    assert np.array_equal(greedy_episodes(loaded, seeds)[1], lengths)
    # ...and that is not because every agent plays alike: an untrained one does worse
    untrained_returns, _ = greedy_episodes(TabularQLearning(**SMALL), seeds)
    assert untrained_returns.mean() < returns.mean()
