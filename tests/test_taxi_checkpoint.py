"""Resuming from a checkpoint continues training exactly as if it had never stopped."""

from __future__ import annotations

import numpy as np
import torch

from rl.qlearning import TabularQLearning
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

    assert resumed.episodes_done == straight.episodes_done == 400
    # Same table only if the table, the episode counter (epsilon), the exploration RNG and the env's RNG
    # (the start states) all came back; any one missing changes the last 200 episodes.
    assert torch.equal(resumed.q_table, straight.q_table)
    assert not torch.equal(first.q_table, straight.q_table)  # the second half did change the table
    assert resumed.rng.bit_generator.state == straight.rng.bit_generator.state


def test_fresh_table_and_counters():
    agent = TabularQLearning(q_init=20.0)
    assert agent.q_table.shape == (500, 6) and agent.q_table.dtype == torch.float64
    assert torch.all(agent.q_table == 20.0)
    assert agent.episodes_done == 0 and agent.epsilon == 1.0
    assert "q_table" in agent.state_dict()  # a buffer: it travels in every checkpoint
    agent.table()[3, 2] = 25.0  # the numpy view writes through to the buffer, so checkpoints see updates
    assert agent.q_table[3, 2] == 25.0 and agent.act_greedy(np.int64(3)) == 2
