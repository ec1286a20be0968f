"""The DQN's small rules on their own: when a run is solved and stops, greedy actions, argument checks."""

import numpy as np
import pytest
import torch
from torch import nn

from rl.dqn import DQN
from rl.dqn.stopping import StopRule
from rl.evaluation import greedy_actions
from tests.corridor_env import CORRIDOR_AGENT


def test_stop_rule_records_the_first_solve_and_stops_after_consecutive_evaluations():
    rule = StopRule("CartPole-v1", 100, solve_threshold=475.0, stop_return=500.0, stop_evaluations=2)
    decisions = [rule.update(mean, steps) for mean, steps in [(300, 1), (480, 2), (500, 3), (470, 4), (500, 5)]]
    assert decisions == [False, False, False, False, False]
    assert (rule.solved_at, rule.streak) == (2, 1)  # solved once, at the first mean >= 475; the dip reset the streak
    assert rule.update(500.0, 6) and rule.streak == 2


def test_stop_rule_without_stop_return_never_stops():
    rule = StopRule("CartPole-v0", 10, solve_threshold=None, stop_return=None, stop_evaluations=1)
    assert not any(rule.update(200.0, steps) for steps in range(5))
    assert rule.solved_at is None  # no threshold: never "solved"


class DtypeProbe(nn.Module):
    """Prefers action 1 and remembers the dtype of what it was given."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.tensor([0.0, 1.0]))
        self.seen: list[torch.dtype] = []

    def forward(self, observations: torch.Tensor) -> torch.Tensor:
        self.seen.append(observations.dtype)
        return self.weight.expand(len(observations), 2)


def test_greedy_actions_keep_frames_as_bytes_and_make_the_rest_float32():
    probe = DtypeProbe()
    frames = np.zeros((3, 2, 4, 4), dtype=np.uint8)  # (E, k, H, W): the network scales bytes itself
    states = np.zeros((3, 4), dtype=np.float64)
    assert greedy_actions(probe, frames).tolist() == [1, 1, 1]
    assert greedy_actions(probe, states).tolist() == [1, 1, 1]
    assert probe.seen == [torch.uint8, torch.float32]


@pytest.mark.parametrize("option", ["num_envs", "stop_evaluations"])
def test_counts_below_one_name_the_option(option):
    with pytest.raises(ValueError, match=f"--model.init_args.{option} must be at least 1, got 0"):
        DQN(**{**CORRIDOR_AGENT, option: 0})
