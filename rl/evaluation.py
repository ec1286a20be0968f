"""Greedy evaluation shared by every agent: fixed-seed episodes split between the processes, played in
lockstep, gathered in seed order and logged, so one process or several report the same numbers.

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
from torch.utils.data import DataLoader, DistributedSampler

from rl.distributed import gather, rank_and_world
from rl.seeds import TEST_FIRST_SEED, VAL_FIRST_SEED, evaluation_seeds

Policy = Callable[[np.ndarray], np.ndarray]  # (E, *obs_shape) observations -> (E,) int actions
# Called after every step of episode i: (i, action, reward, next observation)
StepHook = Callable[[int, int, float, Any], None]


class Episodes(NamedTuple):
    """Outcomes of E episodes; every field is an (E,) array."""

    returns: np.ndarray  # float64: undiscounted sum of rewards
    lengths: np.ndarray  # int64: agent steps (rl/steps.py)
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


def evaluation_batches(first_seed: int, episodes: int, world: int, max_batch: int | None = None) -> list[list[int]]:
    """The seeds of one evaluation in batches of consecutive seeds, dealt round-robin: process r plays batches
    r, r + world, ...

    A batch holds a process's whole share (one batch each: the fewest policy calls) or ``max_batch`` seeds if
    fewer. Empty batches pad the list to a multiple of ``world``, so every process plays as many batches (an
    empty one plays nothing) and none is left out of the gather that ends the evaluation.
    """
    seeds = evaluation_seeds(first_seed, episodes)
    size = max(1, -(-episodes // world))  # ceil: one batch per process
    if max_batch is not None:
        size = min(size, max_batch)
    batches = [seeds[start : start + size] for start in range(0, episodes, size)]
    return batches + [[] for _ in range(-len(batches) % world)]


def seed_loader(first_seed: int, episodes: int, max_batch: int | None = None) -> DataLoader:
    """This process's batches of :func:`evaluation_batches`, one per validation or test step.

    The loader brings its own ``DistributedSampler``: Lightning leaves such a loader as it is, where it would
    give a plain one a sampler that repeats items to even out the processes' shares (and warn about it).
    """
    rank, world = rank_and_world()
    batches: Any = evaluation_batches(first_seed, episodes, world, max_batch)  # a list serves as a dataset
    sampler: DistributedSampler[list[int]] = DistributedSampler(batches, num_replicas=world, rank=rank, shuffle=False)
    return DataLoader(batches, batch_size=None, sampler=sampler)


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
    """Every agent's validation and test: fixed-seed greedy episodes split between the processes, played batch
    by batch in lockstep, gathered and logged.

    The agent's hooks hand over: ``loader`` (its dataloaders), ``start`` (epoch start), ``play`` (each step,
    with its greedy policy) and ``log`` (epoch end). The episodes are played in environments of their own, made
    once and reused, so reseeding them never disturbs the training environments.
    """

    def __init__(self, make_env: Callable[[], gym.Env], max_batch: int | None = None) -> None:
        """
        Args:
            make_env: A fresh evaluation environment.
            max_batch: Most episodes played in lockstep by one step; ``None``: a process's whole share at once.
        """
        self.make_env = make_env
        self.max_batch = max_batch
        self.envs: list[gym.Env] = []  # one per episode of a batch
        self.parts: list[tuple[int, Episodes]] = []  # this process's batches so far, by their first seed

    def loader(self, stage: str, episodes: int) -> DataLoader:
        """The seeds of ``stage`` (``val`` or ``test``): disjoint ranges, the same for every agent."""
        first_seed = VAL_FIRST_SEED if stage == "val" else TEST_FIRST_SEED
        return seed_loader(first_seed, episodes, self.max_batch)

    def start(self) -> None:
        """Forgets the batches of an evaluation that never reached ``log`` (an interrupted one)."""
        self.parts.clear()

    def play(self, policy: Policy, seeds: Sequence[int]) -> None:
        if not seeds:
            return  # a padding batch (see evaluation_batches)
        while len(self.envs) < len(seeds):
            self.envs.append(self.make_env())
        self.parts.append((int(seeds[0]), play_episodes(self.envs, policy, seeds)))

    def gather(self) -> Episodes | None:
        """Every process's episodes, in seed order whatever the number of processes (so the metrics are
        bit-identical to one process's); ``None`` if none were played. A collective call."""
        parts = sorted((part for process_parts in gather(self.parts) for part in process_parts), key=lambda p: p[0])
        self.parts.clear()
        return concatenate([episodes for _, episodes in parts]) if parts else None

    def log(self, module: L.LightningModule, stage: str, extra: dict[str, float] | None = None) -> float | None:
        """Logs every process's episodes (so each logs, and decides on, all of them) and ``extra`` values that are
        the same on every process; returns the mean return (``None``: no episodes were played)."""
        episodes = self.gather()
        if episodes is None:
            return None
        metrics = evaluation_metrics(stage, episodes)
        log_everywhere_same(module, {**metrics, **(extra or {})})
        return metrics[f"{stage}/mean_return"]


def log_everywhere_same(module: L.LightningModule, metrics: dict[str, float]) -> None:
    """Logs values that every process holds alike (gathered from all of them, or equal by construction).

    ``sync_dist`` tells Lightning they are whole-run values: without it, it warns at every epoch-level log of a
    distributed run. ``reduce_fx="max"`` makes its all-reduce return them unchanged, where a mean could round.
    """
    for name, value in metrics.items():
        module.log(name, value, prog_bar=name.endswith("mean_return"), sync_dist=True, reduce_fx="max")


def log_env_steps(agent: L.LightningModule) -> None:
    """Lightning uses a logged ``step`` as the x-axis of everything logged with it: the agent steps
    (``agent.env_steps``, rl/steps.py), so curves of runs with different ``train_freq``, ``num_envs``, processes
    or agents line up on the experience used."""
    agent.log("step", float(agent.env_steps))  # type: ignore[arg-type]  # an int attribute of both agents
