"""One environment factory (rl/wrappers.py's build_env) and one meaning of "step" (rl/steps.py): agent steps are
decisions, frames are steps of the environment itself; fit logs both and rl.play's summary names both."""

from __future__ import annotations

import functools

import lightning as L
import numpy as np
import pytest
import torch

from rl import play
from rl.dqn import DQN
from rl.dqn.env_loop import EnvLoop
from rl.dqn.replay import ReplayBuffer
from rl.random_agent import RandomAgent
from rl.steps import frames_of
from rl.tabular import TabularQLearning
from rl.wrappers import build_env
from tests.corridor_env import CORRIDOR_AGENT
from tests.helpers import quiet_trainer
from training_runs.errors import UserError

pytestmark = pytest.mark.filterwarnings("ignore:.*CartPole-v0 is out of date:DeprecationWarning")


def test_frames_are_counted_beneath_frame_skip():
    env = build_env("CartPole-v1", frame_skip=3, frame_stack=2)
    env.reset(seed=0)
    for _ in range(4):  # alternating pushes keep the pole up for these few steps
        assert not any(env.step(0)[2:4]) and not any(env.step(1)[2:4])
    assert frames_of(env) == 8 * 3
    assert env.observation_space.shape == (2 * 4,)  # two stacked state vectors, flattened


def test_the_factory_builds_every_kind_of_observation():
    taxi = build_env("Taxi-v4", one_hot=True)
    observation, _ = taxi.reset(seed=0)
    assert observation.shape == (500,) and observation.sum() == 1  # the state number, one-hot
    pixels = build_env("CartPole-v0", 2, 4, pixels=True, downscale=10)
    frames, _ = pixels.reset(seed=0)
    assert frames.shape == (4, 16, 60) and frames.dtype == np.uint8  # 4 stacked 160x600 crops, 10x smaller
    pixels.step(0)
    assert frames_of(pixels) == 2
    watched = build_env("CartPole-v0", render_mode="rgb_array")
    watched.reset(seed=0)
    assert np.asarray(watched.render()).shape == (400, 600, 3)


def test_clipped_rewards_apply_to_state_vectors_too_and_only_in_training():
    agent = DQN(**{**CORRIDOR_AGENT, "env_id": "CartPole-v1", "frame_skip": 2, "clip_rewards": True})
    rewards = []
    for env in (agent.make_env(training=True), agent.make_env()):
        env.reset(seed=0)
        rewards.append(env.step(0)[1])
    assert rewards == [1.0, 2.0]  # two frames of +1: clipped to their sign in training, the true score elsewhere


def test_an_unknown_id_is_one_line_naming_the_option():
    with pytest.raises(UserError, match="--env 'NoSuchEnv-v0' cannot be made"):
        build_env("NoSuchEnv-v0", option="--env")


def test_the_tabular_agent_and_the_random_agent_count_frames_too():
    assert frames_of(TabularQLearning().make_env()) == 0
    agent = RandomAgent(functools.partial(build_env, "CartPole-v1"), seed=0)
    assert agent.act(None) in (0, 1) and frames_of(agent.make_env()) == 0


def test_play_names_agent_steps_and_frames(capsys):
    agent = RandomAgent(functools.partial(build_env, "CartPole-v1", 2), seed=0)
    play.play(agent, seed=0)
    summary = capsys.readouterr().out.rstrip().splitlines()[-1]
    steps = int(summary.split(" in ")[1].split(" agent steps")[0])
    frames = int(summary.split(" = ")[1].split(" frames")[0])
    assert 2 * steps - 1 <= frames <= 2 * steps  # the last agent step may end after one frame
    assert summary.endswith("the pole fell.")


def test_the_env_loop_counts_frames_and_resumes_their_count():
    def loop() -> EnvLoop:
        return EnvLoop(lambda: build_env("CartPole-v1", 2), 2, ReplayBuffer(100, 4), n_steps=1, gamma=0.99)

    first = loop()
    first.reset(seed=0)
    for _ in range(30):  # several episodes end, some after one frame of their last agent step
        first.step(torch.nn.Linear(8, 2), epsilon=1.0)  # epsilon 1: every action random
    frames = first.env_frames
    assert frames is not None and 2 * first.env_steps - first.episodes <= frames <= 2 * first.env_steps
    again = loop()
    again.load_state_dict(first.state_dict())
    assert again.env_frames == frames
    old = {key: value for key, value in first.state_dict().items() if key != "frames"}  # written before frames
    older = loop()
    older.load_state_dict(old)
    assert older.env_frames is None  # unknown, not a wrong count


def test_fit_logs_frames_beside_agent_steps():
    L.seed_everything(0)
    agent = DQN(**{**CORRIDOR_AGENT, "frame_skip": 2, "steps_per_epoch": 20})
    trainer = quiet_trainer(max_epochs=1, limit_val_batches=0)
    trainer.fit(agent)
    metrics = trainer.callback_metrics
    steps, frames, episodes = metrics["train/env_steps"], metrics["train/env_frames"], agent.env_loop.episodes
    assert steps == agent.env_loop.env_steps and 2 * steps - episodes <= frames <= 2 * steps
