"""What DQN logs while it trains, on an x-axis of environment steps, at a cost a tiny network's update can bear."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import torch

from rl.distributed import rank_and_world
from rl.evaluation import log_env_steps

if TYPE_CHECKING:
    from rl.dqn.agent import DQN
    from rl.dqn.env_loop import Episode


def log_episodes(agent: DQN, episodes: list[Episode]) -> None:
    """One point per finished episode (``train/episode_return``, ``train/episode_length``) at the environment
    step it ended, written to the loggers directly: a value passed to ``self.log`` on one step is written again
    at every later log step of the epoch, so one long episode (a Pong game) would look like many."""
    world = rank_and_world()[1]  # the x-axis counts the steps of all processes, as log_env_steps does
    for logger in agent.loggers:
        for episode in episodes:
            metrics = {"train/episode_return": episode.ret, "train/episode_length": float(episode.length)}
            logger.log_metrics(metrics, step=episode.end_step * world)


class TrainingCurves:
    """The training curves: loss and ``max_q`` every ``trainer.log_every_n_steps`` updates, with one point per
    episode finished since then; counters, epsilon and throughput once per epoch."""

    def __init__(self) -> None:
        self.loss_sum: torch.Tensor | None = None  # losses since the last log
        self.loss_count = 0
        self.epoch_clock = (0.0, 0)  # (time, env steps) when the epoch's training started

    def after_update(self, agent: DQN, loss: torch.Tensor, q_values: torch.Tensor) -> None:
        """Logs only on the steps where the logger writes: one ``log`` call costs far more than a tiny
        network's update. The loss is averaged over those steps on the device, with no per-step host sync."""
        self.loss_sum = loss if self.loss_sum is None else self.loss_sum + loss
        self.loss_count += 1
        every = agent.trainer.log_every_n_steps  # type: ignore[attr-defined]  # set by Lightning at run time
        if not every or (agent.global_step + 1) % every:  # global_step counts the updates before this one
            return
        batch_size = agent.hparams.batch_size
        agent.log("train/loss", self.loss_sum / self.loss_count, prog_bar=True, batch_size=batch_size)
        self.loss_sum, self.loss_count = None, 0
        # The DQN paper's health check: the mean of max_a Q(s, a) should level off near the true values
        # (about 1 / (1 - gamma) for CartPole's +1 per step); steady growth without bound means divergence.
        agent.log("train/max_q", q_values.max(dim=1).values.mean(), batch_size=batch_size)
        finished = agent.env_loop.finished
        if finished:  # the episodes that ended since the last log
            log_episodes(agent, finished)
            # the progress bar shows the newest returns; logger=False: the points above are the curve
            returns = [episode.ret for episode in finished]
            agent.log("train/episode_return", sum(returns) / len(returns), prog_bar=True, logger=False)
            finished.clear()
        log_env_steps(agent)

    def epoch_started(self, agent: DQN) -> None:
        self.epoch_clock = (time.perf_counter(), agent.env_steps)

    def epoch_ended(self, agent: DQN) -> None:
        """Once per epoch, so the per-step cost stays low: counters, epsilon and throughput."""
        start_time, start_steps = self.epoch_clock
        steps = agent.env_steps
        agent.log("train/env_steps", float(steps))
        agent.log("train/episodes", float(agent.env_loop.episodes))
        agent.log("train/epsilon", agent.epsilon)
        agent.log("train/env_steps_per_s", (steps - start_steps) / max(time.perf_counter() - start_time, 1e-9))
        log_env_steps(agent)
