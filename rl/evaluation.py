"""Greedy evaluation shared by every agent: fixed-seed episodes played in lockstep, and how they are logged.

A policy maps a batch of observations to a batch of actions, so one network call (or one table lookup) serves
every episode still running: 1,000 evaluation episodes cost about as many calls as the longest one.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import gymnasium as gym
import lightning as L
import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from rl.distributed import gather, rank_and_world, shards
from rl.seeds import evaluation_seeds

Policy = Callable[[np.ndarray], np.ndarray]  # (E, *obs_shape) observations -> (E,) int actions
# Called after every step of episode i: (i, action, reward, next observation)
StepHook = Callable[[int, int, float, Any], None]


class Episodes(NamedTuple):
    """Outcomes of E episodes; every field is an (E,) array."""

    returns: np.ndarray  # float64: undiscounted sum of rewards
    lengths: np.ndarray  # int64: environment steps (agent steps when frames are skipped)
    truncated: np.ndarray  # bool: ended by the time limit (on CartPole: reached the cap), not by the task


@torch.no_grad()
def greedy_actions(q_network: nn.Module, observations: np.ndarray, device: torch.device | str = "cpu") -> np.ndarray:
    """``argmax_a Q(s, a)`` for a batch of observations, as a numpy array (one host sync per call).

    Image frames stay uint8 (the network scales them itself, and the copy to the device is a quarter of the
    size); every other observation becomes float32, the network's dtype.
    """
    batch = torch.as_tensor(observations, device=device)
    if batch.dtype != torch.uint8:
        batch = batch.float()
    return q_network(batch).argmax(dim=1).cpu().numpy()  # (E, *obs_shape) -> (E, A) -> (E,)


def greedy_policy(q_network: nn.Module, device: torch.device | str = "cpu") -> Policy:
    """:func:`greedy_actions` of ``q_network`` as a :data:`Policy` for :func:`play_episodes`."""
    return functools.partial(greedy_actions, q_network, device=device)


def play_episodes(
    envs: Sequence[gym.Env], policy: Policy, seeds: Sequence[int], on_step: StepHook | None = None
) -> Episodes:
    """Plays one episode per seed, episode i in ``envs[i]`` from ``reset(seed=seeds[i])``, all in lockstep."""
    if len(seeds) > len(envs):
        raise ValueError(f"{len(seeds)} seeds for {len(envs)} environments")
    observations = [env.reset(seed=int(seed))[0] for env, seed in zip(envs, seeds, strict=False)]
    returns = np.zeros(len(seeds))
    lengths = np.zeros(len(seeds), dtype=np.int64)
    truncations = np.zeros(len(seeds), dtype=bool)
    running = list(range(len(seeds)))
    while running:
        actions = policy(np.stack([observations[i] for i in running]))  # (R, *obs_shape) -> (R,)
        still_running = []
        for i, action in zip(running, np.asarray(actions).tolist(), strict=True):
            observations[i], reward, terminated, truncated, _ = envs[i].step(action)
            returns[i] += float(reward)
            lengths[i] += 1
            if on_step is not None:
                on_step(i, action, float(reward), observations[i])
            if terminated or truncated:
                truncations[i] = truncated and not terminated
            else:
                still_running.append(i)
        running = still_running
    return Episodes(returns, lengths, truncations)


def concatenate(parts: Sequence[Episodes]) -> Episodes:
    return Episodes(*(np.concatenate(field) for field in zip(*parts, strict=True)))


def seed_loader(first_seed: int, episodes: int) -> DataLoader:
    """The seeds of one evaluation as one batch per process, its share of them, to play in lockstep.

    With several processes Lightning's unrepeated distributed sampler hands dataset item r to process r, so
    the processes play disjoint shares; :func:`gather_episodes` puts them back together.
    """
    _, world = rank_and_world()
    per_process = shards(evaluation_seeds(first_seed, episodes), world)
    return DataLoader(per_process, batch_size=None)  # type: ignore[arg-type]  # a list serves as a dataset


def gather_episodes(parts: Sequence[Episodes]) -> Episodes:
    """Every process's episodes of one evaluation, in rank order (a collective call: every process makes it)."""
    return concatenate([part for process_parts in gather(list(parts)) for part in process_parts])


def evaluation_metrics(stage: str, episodes: Episodes) -> dict[str, float]:
    """The distribution of evaluation returns: mean, spread, worst, and the share cut by the time limit.

    On CartPole an episode that reaches the time limit has the full score (200 on v0, 500 on v1), so
    ``at_time_limit`` is the share of episodes at the cap; on Taxi it is the share of failed deliveries.
    """
    returns = episodes.returns
    return {
        f"{stage}/mean_return": float(returns.mean()),
        f"{stage}/std_return": float(returns.std()),
        f"{stage}/min_return": float(returns.min()),
        f"{stage}/at_time_limit": float(episodes.truncated.mean()),
        f"{stage}/mean_length": float(episodes.lengths.mean()),
        f"{stage}/episodes": float(returns.size),
    }


class EvaluationRun:
    """One evaluation's episodes, played batch by batch in environments made once and reused (their own: reseeding
    them never disturbs the training environments), then gathered from every process and logged."""

    def __init__(self, make_env: Callable[[], gym.Env]) -> None:
        self.make_env = make_env
        self.envs: list[gym.Env] = []  # one per episode of a batch
        self.parts: list[Episodes] = []  # this process's batches so far

    def play(self, policy: Policy, seeds: Sequence[int]) -> None:
        while len(self.envs) < len(seeds):
            self.envs.append(self.make_env())
        self.parts.append(play_episodes(self.envs, policy, seeds))

    def log(self, module: L.LightningModule, stage: str) -> float:
        """Logs every process's episodes (so each logs, and decides on, all of them), returns their mean return
        and starts the next evaluation afresh."""
        episodes = gather_episodes(self.parts)
        self.parts.clear()
        return log_evaluation(module, stage, episodes)


def log_evaluation(module: L.LightningModule, stage: str, episodes: Episodes) -> float:
    """Logs :func:`evaluation_metrics` from ``module`` and returns the mean return."""
    metrics = evaluation_metrics(stage, episodes)
    for name, value in metrics.items():
        module.log(name, value, prog_bar=name.endswith("mean_return"))
    return metrics[f"{stage}/mean_return"]


def log_env_steps(agent: L.LightningModule) -> None:
    """Lightning uses a logged ``step`` as the x-axis of everything logged with it: the agent's environment
    steps (``agent.env_steps``), so curves of runs with different ``train_freq``, ``num_envs``, processes or
    agents line up on the experience used."""
    agent.log("step", float(agent.env_steps))  # type: ignore[arg-type]  # an int attribute of both agents
