"""The DQN update rule: TD targets and the loss between them and ``Q(s, a)`` (pure tensor functions), the loss
of a replayed batch, and the target network's update."""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from rl.dqn.replay import Batch


def td_targets(
    rewards: torch.Tensor,
    terminated: torch.Tensor,
    steps: torch.Tensor,
    next_q_target: torch.Tensor,
    gamma: float,
    next_q_online: torch.Tensor | None = None,
) -> torch.Tensor:
    """``y = R + gamma^k * Q_target(s', a*)``, with the bootstrap term dropped where ``terminated``.

    Args:
        rewards: (B,) discounted sums of ``steps`` rewards.
        terminated: (B,) bool; only a real end of the MDP stops bootstrapping. A transition cut by a time
            limit (truncated) still bootstraps from its ``s'``: the state had a future, we just stopped watching.
        steps: (B,) number of rewards in ``rewards`` (k: 1 for one-step DQN, up to n for n-step returns).
        next_q_target: (B, A) ``Q(s', .)`` from the network that evaluates (the target network, or the online
            network itself when there is no target network).
        gamma: Discount factor per agent step.
        next_q_online: (B, A) ``Q(s', .)`` from the online network for Double DQN (van Hasselt et al., 2016):
            it picks ``a* = argmax_a Q_online(s', a)``, which ``next_q_target`` then evaluates, so one network's
            overestimated action is not also its own estimate. ``None``: ``a* = argmax_a Q_target(s', a)``.

    Returns:
        (B,) targets, without gradient.
    """
    with torch.no_grad():
        if next_q_online is None:
            next_values = next_q_target.max(dim=1).values  # (B, A) -> (B,)
        else:
            best_actions = next_q_online.argmax(dim=1, keepdim=True)  # (B, 1)
            next_values = next_q_target.gather(1, best_actions).squeeze(1)  # (B, 1) -> (B,)
        discounts = gamma ** steps.to(rewards.dtype)  # (B,)
        # masked_fill rather than multiplying by (1 - terminated): a non-finite estimate cannot leak into y
        return rewards + discounts * next_values.masked_fill(terminated, 0.0)


def td_loss(
    q_values: torch.Tensor, actions: torch.Tensor, targets: torch.Tensor, kind: Literal["huber", "mse"]
) -> torch.Tensor:
    """Mean loss between ``Q(s, a)`` for the taken actions and their targets.

    Args:
        q_values: (B, A) ``Q(s, .)`` of the online network.
        actions: (B,) actions taken.
        targets: (B,) TD targets.
        kind: ``huber`` (quadratic for errors below 1, linear above: large TD errors do not blow up the
            gradient, as in the DQN paper's error clipping) or ``mse``.
    """
    chosen = q_values.gather(1, actions.unsqueeze(1)).squeeze(1)  # (B, A) -> (B, 1) -> (B,)
    if kind == "huber":
        return F.huber_loss(chosen, targets, delta=1.0)
    return F.mse_loss(chosen, targets)


def batch_loss(
    q_net: nn.Module,
    target_net: nn.Module | None,
    batch: Batch,
    gamma: float,
    double_dqn: bool,
    kind: Literal["huber", "mse"],
) -> tuple[torch.Tensor, torch.Tensor]:
    """The TD loss of a replayed batch, and ``Q(s, .)`` of its observations (B, A) for the logs.

    ``target_net`` ``None``: the targets come from ``q_net`` itself (without gradient).
    """
    q_values = q_net(batch.observations)  # (B, A)
    with torch.no_grad():
        evaluator = target_net if target_net is not None else q_net
        next_q_target = evaluator(batch.next_observations)  # (B, A)
        # Without a target network both networks are the same one and Double DQN changes nothing.
        use_double = double_dqn and target_net is not None
        next_q_online = q_net(batch.next_observations) if use_double else None
    targets = td_targets(batch.rewards, batch.terminated, batch.steps, next_q_target, gamma, next_q_online)
    return td_loss(q_values, batch.actions, targets, kind), q_values


@torch.no_grad()
def update_target(target_net: nn.Module, q_net: nn.Module, tau: float) -> None:
    """Moves the target weights ``tau`` of the way to the online ones: 1 = hard copy, small = Polyak averaging."""
    for target, online in zip(target_net.parameters(), q_net.parameters(), strict=True):
        target.lerp_(online, tau)  # target += tau * (online - target)
