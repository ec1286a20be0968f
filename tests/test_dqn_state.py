"""The DQN's checkpointed state: each part owns its state, the agent composes them, torch's RNG is saved once,
and checkpoints written in the first layout still load."""

from __future__ import annotations

import gymnasium as gym
import lightning as L
import numpy as np
import pytest
import torch
from gymnasium.wrappers import TimeLimit

from cli import main
from rl.checkpointing import AGENT_STATE_KEY, time_limit_elapsed
from rl.dqn import DQN
from rl.dqn.curves import TrainingCurves
from rl.dqn.replay import Batch
from rl.dqn.stopping import StopRule
from rl.dqn.stream import ExperienceStream
from tests.corridor_env import CORRIDOR_AGENT
from tests.helpers import cli_args, quiet_trainer


def numbered_batch(number: int) -> Batch:
    return Batch(
        observations=torch.full((2, 3), float(number)),
        actions=torch.tensor([number, number]),
        rewards=torch.zeros(2),
        next_observations=torch.zeros(2, 3),
        terminated=torch.zeros(2, dtype=torch.bool),
        steps=torch.ones(2, dtype=torch.int64),
    )


def counting_stream(length: int) -> ExperienceStream:
    made = iter(range(100))
    return ExperienceStream(lambda: None, lambda: numbered_batch(next(made)), length)


def test_a_resumed_stream_first_yields_the_batches_that_were_ahead():
    stream = counting_stream(length=5)
    batches = iter(stream)
    next(batches)  # the stream hands out batch 0 having made batch 1 ahead; Lightning trains on batch 0
    stream.taken()
    saved = stream.state_dict()
    assert [int(fields["actions"][0]) for fields in saved["ahead"]] == [1]

    resumed = counting_stream(length=5)
    resumed.load_state_dict(saved)
    resumed.set_position(epoch=0, done=1)
    yielded = [int(batch.actions[0]) for batch in resumed]
    assert yielded == [1, 0, 1, 2]  # the batch ahead, then new ones, for the 4 batches left of the epoch


def test_the_training_loader_leaves_torch_global_rng_alone():
    """Replay batches come from torch's global RNG: making the loader's iterator (once per epoch, and again in a
    run resumed mid-epoch) must not draw from it, or the resumed run samples other batches."""
    loader = counting_stream(length=1).loader()
    before = torch.get_rng_state()
    iter(loader)
    assert torch.equal(torch.get_rng_state(), before)


def test_curves_and_stop_rule_round_trip_their_state():
    curves = TrainingCurves(batch_size=4)
    curves.loss_sum, curves.loss_count = torch.tensor(2.5), 3
    restored = TrainingCurves(batch_size=4)
    restored.load_state_dict(curves.state_dict())
    assert (float(restored.loss_sum), restored.loss_count) == (2.5, 3)  # type: ignore[arg-type]

    rule = StopRule("CartPole-v0", episodes=2, target=1.0, reward_threshold=1.0, evaluations=3)
    rule.update(mean_return=1.0, env_steps=40)
    rule.update(mean_return=2.0, env_steps=80)
    again = StopRule("CartPole-v0", episodes=2, target=1.0, reward_threshold=1.0, evaluations=3)
    again.load_state_dict(rule.state_dict())
    assert (again.solved_at, again.recent) == (40, [1.0, 2.0])
    assert again.update(mean_return=1.5, env_steps=120)  # the third in a row stops, as it would have
    assert again.sustained_return == 1.0


def tensors_in(state: object) -> list[torch.Tensor]:
    if isinstance(state, torch.Tensor):
        return [state]
    if isinstance(state, dict):
        return [tensor for value in state.values() for tensor in tensors_in(value)]
    if isinstance(state, list | tuple):
        return [tensor for value in state for tensor in tensors_in(value)]
    return []


def trained_corridor_agent(epochs: int = 1) -> tuple[DQN, L.Trainer]:
    L.seed_everything(0)
    agent = DQN(**{**CORRIDOR_AGENT, "steps_per_epoch": 20})
    trainer = quiet_trainer(max_epochs=epochs, limit_val_batches=0)
    trainer.fit(agent)
    return agent, trainer


def test_the_agent_state_holds_no_copy_of_torch_rng(tmp_path):
    """ResumeState saves every process's RNG states; the agent's own copy was a second one, restored first."""
    agent, trainer = trained_corridor_agent()
    trainer.save_checkpoint(tmp_path / "agent.ckpt")
    state = torch.load(tmp_path / "agent.ckpt", weights_only=True)[AGENT_STATE_KEY]
    rng_size = torch.get_rng_state().numel()
    assert not [t for t in tensors_in(state) if t.dtype == torch.uint8 and t.numel() == rng_size]
    assert state["processes"][0]["env_loop"]["env_steps"] == agent.env_loop.env_steps  # the parts are there


def first_layout_state(agent: DQN) -> dict:
    """The agent's state as checkpoints written before the parts owned their state laid it out."""
    own = {
        "buffer": agent.buffer.state_dict(),
        "env_loop": agent.env_loop.state_dict(),
        "steps_owed": agent.steps_owed,
        "torch_rng": torch.get_rng_state(),
        "ahead": [],
        "loss_since_log": (torch.tensor(1.5), 2),
    }
    return {"processes": [own], "epsilon": agent.epsilon, "solved_at": 1234, "stop_streak": 1}


def test_a_checkpoint_in_the_first_layout_still_loads(tmp_path):
    agent, trainer = trained_corridor_agent()
    trainer.save_checkpoint(tmp_path / "new.ckpt")
    checkpoint = torch.load(tmp_path / "new.ckpt", weights_only=True)
    checkpoint[AGENT_STATE_KEY] = first_layout_state(agent)

    restored = DQN(**{**CORRIDOR_AGENT, "steps_per_epoch": 20})
    restored.on_load_checkpoint(checkpoint)
    assert torch.equal(restored.buffer.storage.observations, agent.buffer.storage.observations)
    assert restored.env_loop.env_steps == agent.env_loop.env_steps
    assert np.array_equal(restored.env_loop.observations, agent.env_loop.observations)
    assert (restored.epsilon, restored.solved_at) == (agent.epsilon, 1234)
    assert restored.stop_rule.recent == []  # the old layout kept only a streak count: the window starts afresh


@pytest.mark.slow
def test_cli_tests_a_checkpoint_written_in_the_first_layout(tmp_path):
    short = ["--model.steps_per_epoch", "10", "--model.learning_starts", "50", "--model.val_episodes", "2"]
    fitted = main(cli_args("fit", "cartpole_dqn", tmp_path, *short, "--trainer.max_epochs", "1"))
    path = tmp_path / "cartpole_dqn" / "version_0" / "checkpoints" / "last.ckpt"
    checkpoint = torch.load(path, weights_only=True)
    checkpoint[AGENT_STATE_KEY] = first_layout_state(fitted.model)
    old = tmp_path / "first_layout.ckpt"
    torch.save(checkpoint, old)

    tested = main(
        cli_args("test", "cartpole_dqn", tmp_path, *short, "--model.test_episodes", "2", "--ckpt_path", str(old))
    )
    assert tested.model.solved_at == 1234
    assert tested.trainer.callback_metrics["test/mean_return"] > 0


def test_canary_gymnasium_time_limit_counter():
    """rl.checkpointing saves and restores TimeLimit's private step counter (gymnasium offers no public one):
    this fails loudly if gymnasium renames it or stops truncating on it."""
    env = TimeLimit(gym.make("CartPole-v1").unwrapped, max_episode_steps=10)
    env.reset(seed=0)
    env.step(0)
    assert time_limit_elapsed(env) == 1
    assert time_limit_elapsed(env, set_to=9) == 9
    truncated = env.step(0)[3]
    assert truncated, f"gymnasium {gym.__version__}: setting the counter no longer decides truncation"
