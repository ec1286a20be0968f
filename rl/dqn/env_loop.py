"""The environment side of DQN: epsilon-greedy acting in N environments at once, filling the replay buffer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import gymnasium as gym
import numpy as np
import torch
from gymnasium.vector import AutoresetMode, SyncVectorEnv
from torch import nn

from rl.checkpointing import env_state, generator_from_state, generator_state, load_env_state
from rl.dqn.exploration import HeldExploration
from rl.dqn.nstep import NStepAccumulator
from rl.dqn.replay import ReplayBuffer
from rl.evaluation import greedy_actions
from rl.steps import frames_of, set_frames
from rl.wrappers import discrete_actions


class Episode(NamedTuple):
    """A finished training episode: its return, its length and the loop's ``env_steps`` when it ended."""

    ret: float
    length: int
    end_step: int


class EnvLoop:
    """Acts epsilon-greedily in ``num_envs`` copies of the environment (gymnasium's ``SyncVectorEnv``) and stores
    what happens in the replay buffer. One :meth:`step` = one action in every copy, chosen with one network call.

    Autoreset: the vector env runs in ``SAME_STEP`` mode, so the step that ends an episode already returns the
    next episode's first observation, and the real last observation comes in ``info["final_obs"]``. Transitions
    use the real one (a terminal state, or the state a truncation cut off, which is bootstrapped from), and each
    copy has its own n-step accumulator, flushed when its episode ends: no transition spans two episodes.

    It owns the interaction state a faithful resume needs: the current observations, the running episodes'
    returns and lengths, the step/episode counters, the n-step accumulators, the exploration RNG and every
    environment copy's own state and frame count (see :meth:`state_dict`). It counts agent steps (``env_steps``)
    and its copies count frames (``env_frames``): rl/steps.py says what each is.
    """

    def __init__(
        self,
        make_env: Callable[[], gym.Env],
        num_envs: int,
        buffer: ReplayBuffer,
        n_steps: int,
        gamma: float,
        max_hold: int = 1,
    ) -> None:
        """``max_hold``: an exploratory action is held for up to this many agent steps (rl/dqn/exploration.py);
        1 is plain epsilon-greedy."""
        if num_envs < 1:
            raise ValueError(f"num_envs must be at least 1, got {num_envs}")
        self.envs = SyncVectorEnv([make_env] * num_envs, autoreset_mode=AutoresetMode.SAME_STEP)
        self.num_envs = num_envs
        self.buffer = buffer
        self.num_actions = discrete_actions(self.envs.envs[0])
        self.accumulators = [NStepAccumulator(n_steps, gamma, buffer.obs_dim) for _ in range(num_envs)]
        self.rng = np.random.default_rng()  # replaced by a seeded one in reset()
        self.hold = HeldExploration(num_envs, max_hold)
        self.observations: np.ndarray | None = None  # (N, obs_dim)
        self.episode_returns = np.zeros(num_envs)
        self.episode_lengths = np.zeros(num_envs, dtype=np.int64)
        self.env_steps = 0  # agent steps, summed over the copies
        self.frames_known = True  # False after loading a checkpoint written before frames were counted
        self.episodes = 0
        self.finished: list[Episode] = []  # episodes ended since the curves last logged them

    def reset(self, seed: int) -> None:
        """Seeds exploration and the environments (copy i with ``seed + i``), and starts their first episodes."""
        self.rng = np.random.default_rng(seed)
        self.observations, _ = self.envs.reset(seed=seed)
        for accumulator in self.accumulators:
            accumulator.clear()
        self.episode_returns[:] = 0.0
        self.episode_lengths[:] = 0

    def step(self, q_network: nn.Module, epsilon: float) -> None:
        """One action per copy: uniformly random with probability ``epsilon``, else the greedy one."""
        if self.observations is None:
            raise RuntimeError("call reset(seed) before step()")
        held = self.hold.holding()  # (N,) copies that go on with a held exploratory action (never when max_hold 1)
        explore = (self.rng.random(self.num_envs) < epsilon) & ~held  # (N,)
        actions = np.zeros(self.num_envs, dtype=np.int64)
        if not (explore | held).all():  # the warm-up (epsilon 1) needs no network call
            device = next(q_network.parameters()).device
            actions = greedy_actions(q_network, self.observations, device)  # (N, *obs_shape) -> (N,)
        actions[explore] = self.rng.integers(self.num_actions, size=int(explore.sum()))
        self.hold.choose(actions, explore, self.rng)
        next_observations, rewards, terminated, truncated, info = self.envs.step(actions)
        for i in range(self.num_envs):
            ended = bool(terminated[i] or truncated[i])
            # On the last step of an episode next_observations[i] is already the next episode's first one.
            last = info["final_obs"][i] if ended else next_observations[i]
            reward = float(rewards[i])
            transitions = self.accumulators[i].push(
                self.observations[i], int(actions[i]), reward, last, bool(terminated[i]), bool(truncated[i])
            )
            for transition in transitions:
                self.buffer.add(*transition)
            self.episode_returns[i] += reward
            self.episode_lengths[i] += 1
            if ended:
                ended_at = self.env_steps + self.num_envs  # this vector step included
                self.finished.append(Episode(float(self.episode_returns[i]), int(self.episode_lengths[i]), ended_at))
                self.episodes += 1
                self.hold.end_episode(i)
                self.episode_returns[i], self.episode_lengths[i] = 0.0, 0
        self.env_steps += self.num_envs
        self.observations = next_observations

    @property
    def env_frames(self) -> int | None:
        """Frames of all the copies (rl/steps.py); ``None`` where they were not counted."""
        counts = [frames_of(env) for env in self.envs.envs]
        if not self.frames_known or None in counts:
            return None
        return sum(count for count in counts if count is not None)

    @property
    def started(self) -> bool:
        """Whether :meth:`reset` (or a load) has started the episodes: only then is there a state to save."""
        return self.observations is not None

    def state_dict(self) -> dict[str, Any]:
        if self.observations is None:
            raise RuntimeError("nothing to save before reset()")
        return {
            "observations": torch.from_numpy(self.observations.copy()),
            "episode_returns": torch.from_numpy(self.episode_returns.copy()),
            "episode_lengths": torch.from_numpy(self.episode_lengths.copy()),
            "env_steps": self.env_steps,
            "episodes": self.episodes,
            "n_step": [accumulator.state_dict() for accumulator in self.accumulators],
            "rng": generator_state(self.rng),
            "hold": self.hold.state_dict(),
            "envs": [env_state(env) for env in self.envs.envs],
            "frames": [frames_of(env) for env in self.envs.envs] if self.frames_known else None,
            "finished": [tuple(episode) for episode in self.finished],  # not yet logged; plain tuples load safely
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if len(state["envs"]) != self.num_envs:
            raise ValueError(f"the checkpoint holds {len(state['envs'])} environments, this run {self.num_envs}")
        if self.observations is None:
            self.envs.reset()  # the wrappers refuse to step an environment that was never reset
        self.observations = state["observations"].numpy().copy()
        self.episode_returns = state["episode_returns"].numpy().copy()
        self.episode_lengths = state["episode_lengths"].numpy().copy()
        self.env_steps = state["env_steps"]
        self.episodes = state["episodes"]
        for accumulator, saved in zip(self.accumulators, state["n_step"], strict=True):
            accumulator.load_state_dict(saved)
        self.rng = generator_from_state(state["rng"])
        if "hold" in state:  # checkpoints written before held exploration hold none
            self.hold.load_state_dict(state["hold"])
        for env, saved in zip(self.envs.envs, state["envs"], strict=True):
            load_env_state(env, saved)
        # checkpoints written before frames were counted: the run's frames are unknown, and stay so
        frames = state.get("frames")
        self.frames_known = frames is not None
        if frames is not None:
            for env, count in zip(self.envs.envs, frames, strict=True):
                if count is not None:  # a copy made without a frame counter (tests' own environments)
                    set_frames(env, count)
        # checkpoints written before episodes had an end step: they ended at the latest step
        self.finished = [
            Episode(float(ret), int(length), int(end[0]) if end else self.env_steps)
            for ret, length, *end in state.get("finished", [])
        ]
