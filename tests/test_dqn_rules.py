"""The DQN's small rules on their own: when a run is solved and stops, greedy actions, argument checks."""

import gymnasium as gym
import numpy as np
import pytest
import torch
from torch import nn

from cli import main
from rl.dqn import DQN
from rl.dqn.arguments import stop_target
from rl.dqn.stopping import NOT_SUSTAINED, StopRule, chance_to_stop
from rl.evaluation import greedy_actions
from tests.corridor_env import CORRIDOR_AGENT
from tests.helpers import cli_args
from training_runs.errors import UserError


def test_a_single_spike_does_not_stop_three_in_a_row_do():
    rule = StopRule("CartPole-v1", 100, target=500.0, reward_threshold=475.0, evaluations=3)
    decisions = [rule.update(mean, steps) for mean, steps in [(300, 1), (500, 2), (470, 3), (500, 4), (500, 5)]]
    assert decisions == [False] * 5  # the lone 500 at step 2 is followed by a dip
    assert rule.solved_at == 2  # the first evaluation at the reward threshold is recorded, nothing more
    assert rule.update(500.0, 6)  # the third 500 in a row


def test_the_sustained_return_is_the_lowest_of_the_last_k_means():
    rule = StopRule("CartPole-v0", 100, target=None, reward_threshold=195.0, evaluations=3)
    sustained = []
    for mean in [200.0, 150.0, 190.0, 195.0, 198.0]:
        rule.update(mean, 0)
        sustained.append(rule.sustained_return)
    assert sustained == [NOT_SUSTAINED, NOT_SUSTAINED, 150.0, 150.0, 190.0]
    # best.ckpt maximises it: the last of three good evaluations, not the early spike of 200
    assert max(range(5), key=sustained.__getitem__) == 4


def test_stop_rule_without_a_target_never_stops():
    rule = StopRule("CartPole-v0", 10, target=None, reward_threshold=None, evaluations=1)
    assert not any(rule.update(200.0, steps) for steps in range(5))
    assert rule.solved_at is None  # no threshold: never at it
    assert "none" in rule.describe() and "no reward_threshold" in rule.describe()


@pytest.mark.parametrize(
    ("env_id", "stop_return", "target"),
    [
        ("CartPole-v0", "reward_threshold", 195.0),
        ("CartPole-v1", "reward_threshold", 475.0),
        ("Acrobot-v1", "reward_threshold", -100.0),
        ("MountainCar-v0", "reward_threshold", -110.0),
        ("CartPole-v0", "full_score", 200.0),
        ("CartPole-v1", "full_score", 500.0),
        ("Acrobot-v1", -50.0, -50.0),
        ("Acrobot-v1", None, None),
        ("Pendulum-v1", "reward_threshold", None),  # no threshold registered: never stop
        ("Pendulum-v1", 1e6, 1e6),  # returns not known here: taken as given
    ],
)
def test_the_stop_target_by_default_is_the_environments_own(env_id, stop_return, target):
    assert stop_target(env_id, gym.spec(env_id), stop_return) == target


@pytest.mark.parametrize(
    ("env_id", "stop_return", "expected"),
    [
        ("Acrobot-v1", 200.0, "200 cannot be reached: Acrobot-v1's episodes return between -500 and 0"),
        ("MountainCar-v0", 0.0, "0 cannot be reached: MountainCar-v0's episodes return between -200 and -1"),
        ("CartPole-v0", 201.0, "201 cannot be reached: CartPole-v0's episodes return between 1 and 200"),
        ("Acrobot-v1", "full_score", "full_score: Acrobot-v1 has no full score known here"),
        ("CartPole-v0", "solved", "'solved': pass a number, reward_threshold, full_score or null"),
    ],
)
def test_an_unreachable_stop_target_is_refused(env_id, stop_return, expected):
    with pytest.raises(UserError, match=expected):
        stop_target(env_id, gym.spec(env_id), stop_return)


def test_the_dqn_stops_at_its_environments_threshold_by_default():
    agent = DQN(**{**CORRIDOR_AGENT, "env_id": "Acrobot-v1"})
    assert (agent.stop_rule.target, agent.stop_rule.evaluations) == (-100.0, 3)
    assert DQN.checkpoint_metric == "val/sustained_return"


@pytest.mark.filterwarnings("ignore:.*CartPole-v0 is out of date:DeprecationWarning")
@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--model.init_args.stop_return", "200"], "stop_return 200 cannot be reached: Acrobot-v1's episodes return"),
        ([], "stop_return full_score: Acrobot-v1 has no full score"),  # the CartPole preset's, carried over
    ],
)
def test_the_cli_refuses_an_unreachable_target_in_one_line(extra, expected, tmp_path):
    args = cli_args("fit", "cartpole_dqn", tmp_path, "--model.init_args.env_id", "Acrobot-v1", *extra)
    with pytest.raises(SystemExit) as info:
        main(args)
    message = info.value.code
    assert isinstance(message, str) and message.startswith("error: ") and "\n" not in message, message
    assert expected in message and "reward_threshold (-100)" in message
    assert not (tmp_path / "cartpole_dqn").exists()


@pytest.mark.parametrize(
    ("true_mean", "std", "episodes", "evaluations", "chance"),
    [
        (195.0, 30.0, 50, 3, 0.125),  # a policy right at the target passes half its evaluations
        (191.0, 30.0, 20, 1, 0.2755),  # the old pixel preset: one 20-episode evaluation
        (191.0, 30.0, 50, 3, 0.00517),  # the pixel preset now
        (198.0, 12.0, 50, 3, 0.8888),  # a policy above the target still stops
    ],
)
def test_chance_to_stop_follows_the_normal_approximation(true_mean, std, episodes, evaluations, chance):
    assert chance_to_stop(true_mean, std, 195.0, episodes, evaluations) == pytest.approx(chance, rel=1e-3)


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
