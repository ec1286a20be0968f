"""What ``rl.play`` says about an episode in words: the name of each action, and why the episode ended."""

from __future__ import annotations

from collections.abc import Callable

import gymnasium as gym
import numpy as np
from gymnasium.envs.classic_control.cartpole import CartPoleEnv
from gymnasium.envs.toy_text.taxi import TaxiEnv

# By the environment's class (so CartPole-v0, -v1 and any re-registration of them), from gymnasium's
# documentation of each action space.
ACTION_NAMES: dict[type[gym.Env], tuple[str, ...]] = {
    CartPoleEnv: ("push left", "push right"),
    TaxiEnv: ("south", "north", "east", "west", "pick up", "drop off"),
}


def action_namer(env: gym.Env) -> Callable[[int], str]:
    """``action -> name`` for ``env``: the table above, Atari's own action meanings, or the number itself."""
    names: tuple[str, ...] | list[str] | None = ACTION_NAMES.get(type(env.unwrapped))
    meanings = getattr(env.unwrapped, "get_action_meanings", None)  # ALE: NOOP, FIRE, RIGHT, ...
    if names is None and callable(meanings):
        names = [str(meaning).lower() for meaning in meanings()]
    if names is None:
        return str
    known = names
    return lambda action: known[action] if 0 <= action < len(known) else str(action)


def why_it_ended(env: gym.Env, truncated: bool) -> str:
    """Why the episode that ``env`` has just finished ended, read off the environment's final state.

    CartPole terminates when the pole leans more than 12 degrees or the cart is more than 2.4 from the centre;
    Taxi when the passenger is dropped off at the destination; both are truncated by their time limit of 200 frames
    (rl/steps.py: one frame per env.step of the environment itself).
    """
    if truncated:
        limit = env.spec.max_episode_steps if env.spec else None
        return f"time ran out ({limit} frames)" if limit else "time ran out"
    base = env.unwrapped
    if isinstance(base, CartPoleEnv):
        x, _, angle, _ = np.asarray(base.state, dtype=np.float64)
        if abs(angle) > base.theta_threshold_radians:
            return "the pole fell"
        if abs(x) > base.x_threshold:
            return "the cart left the track"
    if isinstance(base, TaxiEnv):
        return "passenger delivered"  # Taxi's only terminal event: a drop-off at the destination
    return "the episode ended (terminated)"
