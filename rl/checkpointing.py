"""What a faithful resume needs beyond weights and optimizer, stored the same way by every agent.

Both agents keep their extra state under ``checkpoint[AGENT_STATE_KEY]``, as tensors and Python primitives
only, so checkpoints load with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from gymnasium.wrappers import AtariPreprocessing, FrameStackObservation, TimeLimit

AGENT_STATE_KEY = "agent_state"


def generator_state(rng: np.random.Generator) -> dict[str, Any]:
    return dict(rng.bit_generator.state)  # a dict of ints and strings


def generator_from_state(state: dict[str, Any]) -> np.random.Generator:
    """Rebuild a numpy Generator from :func:`generator_state`'s dict."""
    bit_generator = getattr(np.random, state["bit_generator"])()
    bit_generator.state = state
    return np.random.Generator(bit_generator)


def time_limit_elapsed(wrapper: TimeLimit, set_to: int | None = None) -> int:
    """The step count of ``wrapper``'s running episode, first set to ``set_to`` if given. Truncation depends on it,
    and gymnasium offers no public way to read or set it: this is the one place that touches its private
    ``_elapsed_steps`` (checked against gymnasium 1.4.0; tests/test_dqn_state.py fails loudly if it is renamed)."""
    if "_elapsed_steps" not in vars(wrapper):
        raise RuntimeError(
            f"gymnasium {gym.__version__}'s TimeLimit has no _elapsed_steps: update rl.checkpointing.time_limit_elapsed"
        )
    counted: Any = wrapper  # gymnasium types the counter as None (its value before the first reset)
    if set_to is not None:
        counted._elapsed_steps = set_to
    return counted._elapsed_steps


def _wrappers(env: gym.Env) -> Iterator[gym.Wrapper]:
    while isinstance(env, gym.Wrapper):
        yield env
        env = env.env


def env_state(env: gym.Env) -> dict[str, Any]:
    """Everything that decides the environment's future, as tensors and Python numbers (checkpoint-safe).

    Covers the simulator state (classic-control environments keep it in ``unwrapped.state``; others, e.g.
    Taxi's ``s``, are saved when present), its random generator (which draws the next episodes' start states),
    the time limit's step count and the frame stack.
    """
    inner: Any = env.unwrapped
    state: dict[str, Any] = {"np_random": generator_state(inner.np_random)}
    physics = getattr(inner, "state", None)
    if physics is not None:
        state["physics"] = torch.from_numpy(np.array(physics))
    if hasattr(inner, "ale"):  # Atari: the emulator's RAM, registers and its RNG (sticky actions), as bytes
        emulator = inner.clone_state(include_rng=True).serialize()
        state["emulator"] = torch.frombuffer(bytearray(emulator), dtype=torch.uint8)
    for wrapper in _wrappers(env):
        if isinstance(wrapper, TimeLimit):
            state["elapsed_steps"] = time_limit_elapsed(wrapper)
        elif isinstance(wrapper, FrameStackObservation):
            state["frames"] = torch.from_numpy(np.stack(wrapper.obs_queue))  # (k, obs_dim), oldest first
        elif isinstance(wrapper, AtariPreprocessing):  # lives decide the next life-loss terminal
            state["lives"], state["game_over"] = int(wrapper.lives), bool(wrapper.game_over)
    return state


def load_env_state(env: gym.Env, state: dict[str, Any]) -> None:
    """Inverse of :func:`env_state`. The environment must have been reset once (wrappers check for that)."""
    inner: Any = env.unwrapped
    if "physics" in state:
        inner.state = state["physics"].numpy().copy()
    inner.np_random = generator_from_state(state["np_random"])
    if "emulator" in state:
        from ale_py import ALEState  # only Atari checkpoints need ale-py

        inner.restore_state(ALEState(state["emulator"].numpy().tobytes()))
    for wrapper in _wrappers(env):
        if isinstance(wrapper, TimeLimit):
            time_limit_elapsed(wrapper, set_to=state["elapsed_steps"])
        elif isinstance(wrapper, FrameStackObservation):
            wrapper.obs_queue.extend(frame.numpy().copy() for frame in state["frames"])  # maxlen k: replaces all
        elif isinstance(wrapper, AtariPreprocessing) and "lives" in state:
            wrapper.lives, wrapper.game_over = state["lives"], state["game_over"]
