"""DQN building blocks on hand-made data: replay buffer, n-step returns, TD targets and loss, networks, wrappers."""

import gymnasium as gym
import numpy as np
import pytest
import torch

from rl.checkpointing import env_state, load_env_state
from rl.dqn.network import QNetwork
from rl.dqn.nstep import NStepAccumulator, Transition
from rl.dqn.replay import Batch, ReplayBuffer
from rl.dqn.td import td_loss, td_targets
from rl.wrappers import build_env


def obs(value: float, dim: int = 2) -> np.ndarray:
    return np.full(dim, value, dtype=np.float32)


def fill(buffer: ReplayBuffer, count: int) -> None:
    """Transition i: observation i, action i % 2, reward i, next observation i + 1."""
    for i in range(count):
        buffer.add(obs(i), i % 2, float(i), obs(i + 1), terminated=i % 3 == 0, steps=1 + i % 2)


# ---- replay buffer ----------------------------------------------------------------------------------------


def test_buffer_wraps_around_overwriting_the_oldest():
    buffer = ReplayBuffer(capacity=3, obs_dim=2)
    fill(buffer, 5)
    assert (len(buffer), buffer.position) == (3, 2)
    # slots 0, 1 hold transitions 3, 4 (overwritten); slot 2 still holds transition 2
    assert buffer.storage.rewards.tolist() == [3.0, 4.0, 2.0]
    assert buffer.storage.observations[:, 0].tolist() == [3.0, 4.0, 2.0]
    assert buffer.storage.next_observations[:, 0].tolist() == [4.0, 5.0, 3.0]
    assert buffer.storage.terminated.tolist() == [True, False, False]
    latest = buffer.latest(3)
    assert latest.rewards.tolist() == [2.0, 3.0, 4.0]  # oldest first, across the wrap
    assert buffer.latest(1).rewards.tolist() == [4.0]


def test_sample_shapes_dtypes_and_contents():
    buffer = ReplayBuffer(capacity=10, obs_dim=2)
    fill(buffer, 4)
    torch.manual_seed(0)
    batch = buffer.sample(32)
    assert isinstance(batch, Batch)
    assert batch.observations.shape == batch.next_observations.shape == (32, 2)
    assert batch.actions.shape == batch.rewards.shape == batch.terminated.shape == batch.steps.shape == (32,)
    assert batch.actions.dtype == torch.int64 and batch.rewards.dtype == torch.float32
    assert batch.terminated.dtype == torch.bool
    # only filled slots are drawn, and each row stays one consistent transition
    assert set(batch.rewards.tolist()) <= {0.0, 1.0, 2.0, 3.0}
    assert torch.equal(batch.observations[:, 0], batch.rewards)
    assert torch.equal(batch.next_observations[:, 0], batch.rewards + 1)
    assert torch.equal(batch.actions, batch.rewards.long() % 2)


def test_sampling_is_uniform_over_filled_slots():
    buffer = ReplayBuffer(capacity=8, obs_dim=2)
    fill(buffer, 4)
    torch.manual_seed(0)
    counts = torch.bincount(buffer.sample(40_000).rewards.long(), minlength=4)
    assert torch.allclose(counts / 40_000, torch.full((4,), 0.25), atol=0.01)


def test_buffer_state_dict_round_trip_with_weights_only(tmp_path):
    buffer = ReplayBuffer(capacity=5, obs_dim=2)
    fill(buffer, 7)
    torch.save(buffer.state_dict(), tmp_path / "buffer.pt")
    restored = ReplayBuffer(capacity=5, obs_dim=2)
    restored.load_state_dict(torch.load(tmp_path / "buffer.pt", weights_only=True))
    assert (restored.position, restored.size) == (2, 5)
    for name in Batch._fields:
        assert torch.equal(getattr(restored.storage, name), getattr(buffer.storage, name)), name
    with pytest.raises(ValueError, match="holds 5"):
        ReplayBuffer(capacity=4, obs_dim=2).load_state_dict(buffer.state_dict())


def test_partial_buffer_saves_only_the_filled_slots():
    buffer = ReplayBuffer(capacity=1000, obs_dim=2)
    fill(buffer, 3)
    assert buffer.state_dict()["observations"].shape == (3, 2)


# ---- n-step returns ---------------------------------------------------------------------------------------


def push_all(accumulator, rewards, end):
    """Steps s_i -> s_{i+1} with the given rewards; the last one ends the episode (``end``), or none does."""
    released = []
    for i, reward in enumerate(rewards):
        last = i == len(rewards) - 1
        terminated, truncated = last and end == "terminated", last and end == "truncated"
        released += accumulator.push(obs(i), i, reward, obs(i + 1), terminated, truncated)
    return released


def summary(transitions: list[Transition]):
    """(first observation, action, return, last observation, terminated, steps) of each transition."""
    return [(int(t[0][0]), t.action, t.reward, int(t[3][0]), t.terminated, t.steps) for t in transitions]


def test_nstep_returns_and_flush_on_termination():
    released = push_all(NStepAccumulator(n=3, gamma=0.5, obs_dim=2), [1.0, 2.0, 4.0, 8.0], end="terminated")
    assert summary(released) == [
        (0, 0, 1 + 0.5 * 2 + 0.25 * 4, 3, False, 3),  # released by the third step: a full 3-step return
        (1, 1, 2 + 0.5 * 4 + 0.25 * 8, 4, True, 3),  # the rest are flushed when the episode ends...
        (2, 2, 4 + 0.5 * 8, 4, True, 2),  # ...with shorter returns, all ending in the final state
        (3, 3, 8.0, 4, True, 1),
    ]


def test_nstep_truncation_flushes_without_terminating():
    released = push_all(NStepAccumulator(n=3, gamma=0.5, obs_dim=2), [1.0, 2.0], end="truncated")
    assert summary(released) == [(0, 0, 2.0, 2, False, 2), (1, 1, 2.0, 2, False, 1)]


def test_nstep_holds_back_until_n_steps_and_one_step_passes_through():
    accumulator = NStepAccumulator(n=3, gamma=0.5, obs_dim=2)
    assert push_all(accumulator, [1.0, 2.0], end=None) == []
    assert len(accumulator.pending) == 2
    assert summary(push_all(NStepAccumulator(n=1, gamma=0.5, obs_dim=2), [1.0, 2.0], end=None)) == [
        (0, 0, 1.0, 1, False, 1),
        (1, 1, 2.0, 2, False, 1),
    ]


def test_nstep_state_dict_round_trip(tmp_path):
    accumulator = NStepAccumulator(n=4, gamma=0.5, obs_dim=2)
    push_all(accumulator, [1.0, 2.0], end=None)
    torch.save(accumulator.state_dict(), tmp_path / "nstep.pt")
    restored = NStepAccumulator(n=4, gamma=0.5, obs_dim=2)
    restored.load_state_dict(torch.load(tmp_path / "nstep.pt", weights_only=True))
    finish = [(obs(2), 2, 4.0, obs(3), True, False)]
    assert summary(restored.push(*finish[0])) == summary(accumulator.push(*finish[0]))
    empty = NStepAccumulator(n=4, gamma=0.5, obs_dim=2)
    empty.load_state_dict(NStepAccumulator(n=4, gamma=0.5, obs_dim=2).state_dict())
    assert not empty.pending


# ---- TD targets and loss ----------------------------------------------------------------------------------


def test_td_targets_terminated_stops_bootstrapping_truncated_does_not():
    targets = td_targets(
        rewards=torch.tensor([1.0, 1.0, 1.0]),
        terminated=torch.tensor([False, True, False]),  # row 2: a time-limit truncation, stored as not terminated
        steps=torch.tensor([1, 1, 1]),
        next_q_target=torch.tensor([[2.0, 5.0], [3.0, 4.0], [1.0, -1.0]]),
        gamma=0.9,
    )
    assert targets.tolist() == pytest.approx([1 + 0.9 * 5, 1.0, 1 + 0.9 * 1])


def test_td_targets_nstep_discount_by_gamma_to_the_steps():
    targets = td_targets(
        rewards=torch.tensor([2.75, 2.0]),  # 1 + 0.5 * 2 + 0.25 * 3 and a 1-step reward
        terminated=torch.tensor([False, False]),
        steps=torch.tensor([3, 1]),
        next_q_target=torch.tensor([[8.0, 0.0], [8.0, 0.0]]),
        gamma=0.5,
    )
    assert targets.tolist() == pytest.approx([2.75 + 0.125 * 8, 2.0 + 0.5 * 8])


def test_double_dqn_lets_the_online_network_pick_the_action():
    common = dict(
        rewards=torch.tensor([0.0, 0.0]),
        terminated=torch.tensor([False, False]),
        steps=torch.tensor([1, 1]),
        next_q_target=torch.tensor([[2.0, 5.0], [7.0, 3.0]]),
        gamma=1.0,
    )
    assert td_targets(**common).tolist() == [5.0, 7.0]  # max of the target network
    online = torch.tensor([[1.0, 0.0], [0.0, 1.0]])  # prefers action 0, then action 1
    assert td_targets(**common, next_q_online=online).tolist() == [2.0, 3.0]  # target's value of online's choice


def test_td_targets_ignore_non_finite_values_after_termination():
    targets = td_targets(
        torch.tensor([1.0]), torch.tensor([True]), torch.tensor([1]), torch.tensor([[float("nan"), 0.0]]), 0.9
    )
    assert targets.tolist() == [1.0]


def test_td_loss_huber_and_mse():
    q_values = torch.tensor([[0.0, 1.0], [3.0, 0.0]], requires_grad=True)
    actions = torch.tensor([1, 0])
    targets = torch.tensor([1.5, 0.0])  # errors: 0.5 (quadratic zone) and 3 (linear zone)
    assert td_loss(q_values, actions, targets, "mse").item() == pytest.approx((0.25 + 9) / 2)
    huber = td_loss(q_values, actions, targets, "huber")
    assert huber.item() == pytest.approx((0.5 * 0.25 + (3 - 0.5)) / 2)
    huber.backward()
    assert q_values.grad.flatten().tolist() == pytest.approx([0.0, -0.25, 0.5, 0.0])  # linear zone: capped at 1/B


# ---- networks and wrappers --------------------------------------------------------------------------------


def test_q_network_shapes_and_dueling_mean_zero_advantages():
    torch.manual_seed(0)
    observations = torch.randn(5, 4)
    assert QNetwork(4, 3, (16, 16))(observations).shape == (5, 3)
    dueling = QNetwork(4, 3, (16,), dueling=True)
    q_values = dueling(observations)
    features = dueling.trunk(observations)
    # Q - V has zero mean over actions: the value head alone carries the state's value
    assert torch.allclose((q_values - dueling.value(features)).mean(dim=1), torch.zeros(5), atol=1e-6)
    assert QNetwork(4, 2, ())(observations).shape == (5, 2)  # no hidden layer: a linear Q-function


def test_frame_skip_sums_rewards_and_frame_stack_concatenates():
    plain, wrapped = build_env("CartPole-v1"), build_env("CartPole-v1", frame_skip=3, frame_stack=2)
    first, _ = plain.reset(seed=5)
    stacked, _ = wrapped.reset(seed=5)
    assert stacked.shape == (8,) and np.array_equal(stacked, np.concatenate([first, first]))  # padded by repeat
    frames = [plain.step(1)[0] for _ in range(3)]
    observation, reward, terminated, truncated, _ = wrapped.step(1)
    assert reward == 3.0 and not (terminated or truncated)
    assert np.array_equal(observation, np.concatenate([first, frames[-1]]))  # previous agent step, then this one


def test_frame_skip_stops_at_the_end_of_the_episode():
    env = build_env("CartPole-v1", frame_skip=4)
    env.reset(seed=0)
    rewards, done = 0.0, False
    while not done:
        _, reward, terminated, truncated, _ = env.step(1)  # always push right: falls within a few dozen frames
        rewards, done = rewards + reward, terminated or truncated
    steps = 0
    plain = build_env("CartPole-v1")
    plain.reset(seed=0)
    while True:
        steps += 1
        _, _, terminated, truncated, _ = plain.step(1)
        if terminated or truncated:
            break
    assert rewards == steps  # every frame's reward counted once, none past the end


def balance(env: gym.Env) -> int:
    """Push towards where the pole is falling: keeps CartPole up until the time limit."""
    _, _, angle, angular_velocity = env.unwrapped.state
    return int(angle + angular_velocity > 0)


@pytest.mark.parametrize("frame_stack", [1, 3])
def test_env_state_round_trip_continues_identically(frame_stack, tmp_path):
    env = build_env("CartPole-v0", frame_stack=frame_stack)
    env.reset(seed=3)
    for _ in range(150):  # 50 steps before the 200-step limit, so the time-limit count matters
        env.step(balance(env))
    torch.save(env_state(env), tmp_path / "env.pt")
    other = build_env("CartPole-v0", frame_stack=frame_stack)
    other.reset(seed=99)
    load_env_state(other, torch.load(tmp_path / "env.pt", weights_only=True))
    ends = []
    for _ in range(60):  # past the limit and into a new episode drawn from the restored generator
        action = balance(env)
        expected, got = env.step(action), other.step(action)
        assert np.array_equal(expected[0], got[0]) and expected[1:4] == got[1:4]
        if expected[2] or expected[3]:
            ends.append(expected[2:4])
            assert np.array_equal(env.reset()[0], other.reset()[0])
    assert ends == [(False, True)]  # truncated by the restored time limit, at the same step
