"""Watch a trained agent drive one episode: ``python -m rl.play --ckpt runs/taxi_qlearning/version_0/checkpoints/best.ckpt``.

Works with any agent LightningModule that LightningCLI trained and that offers the small interface in
:class:`GreedyAgent`: the CLI stores the module's import path in the checkpoint (``_class_path``), so this
command needs no model name, only the checkpoint.
"""

from __future__ import annotations

import argparse
import time
from typing import Any, Protocol, runtime_checkable

import gymnasium as gym
import lightning as L
import numpy as np
import torch

from rl.evaluation import play_episodes
from rl.record import side_by_side, write_gif
from training_runs.checkpoint_match import project_model_class, read_checkpoint
from training_runs.command_line import run_command
from training_runs.errors import UserError


@runtime_checkable
class GreedyAgent(Protocol):
    """What ``rl.play`` asks of an agent module (``action_name(action) -> str`` is optional)."""

    def make_env(self, render_mode: str | None = None) -> gym.Env: ...

    def act_greedy(self, obs: Any) -> int: ...


def agent_class(ckpt_path: str, class_path: str | None = None) -> type[L.LightningModule]:
    """The LightningModule class that wrote ``ckpt_path``, from ``class_path`` or the checkpoint's hyper-parameters.

    Only this project's own models are ever imported: a checkpoint is data, and must not choose code to run.
    """
    # weights_only: only tensors and primitives are unpickled, nothing in the file can run code.
    checkpoint = read_checkpoint(ckpt_path, option="--ckpt")
    source = "--class_path"
    if class_path is None:
        class_path = checkpoint.get("hyper_parameters", {}).get("_class_path")
        source = f"checkpoint {ckpt_path}"
        if class_path is None:
            raise UserError(f"{ckpt_path} names no module class (not written by cli.py); pass --class_path")
    return project_model_class(class_path, source)


def load_agent(ckpt_path: str, class_path: str | None = None) -> GreedyAgent:
    agent = agent_class(ckpt_path, class_path).load_from_checkpoint(ckpt_path, map_location="cpu", weights_only=True)
    agent.eval()
    if not isinstance(agent, GreedyAgent):
        raise UserError(f"{ckpt_path} holds a {type(agent).__name__}, which cannot play: it is not an agent")
    return agent


def play(
    agent: GreedyAgent, seed: int | None = None, render: str = "ansi", delay: float = 0.0, record: str | None = None
) -> float:
    """Play one greedy episode, printing every frame, action and reward; return the episode return.

    ``record``: also write the episode as a GIF of the rendered frames; for agents that see frame stacks,
    the stack (what the network reads) is drawn beside each frame.
    """
    probe = agent.make_env()
    supported = probe.metadata.get("render_modes", [])
    probe.close()
    if record is not None:
        if "rgb_array" not in supported:
            raise SystemExit("error: --record needs an environment that renders images (rgb_array), e.g. CartPole")
        render = "rgb_array"
    render_mode = render if render in supported else None  # e.g. CartPole has no text render: print observations
    env = agent.make_env(render_mode=render_mode)
    images: list[np.ndarray] = []
    name = getattr(agent, "action_name", str)

    def show(obs: Any) -> None:
        if record is not None:
            images.append(side_by_side(np.asarray(env.render()), obs))
            return
        if render_mode == "ansi":
            print(env.render(), end="")
        elif render_mode is None:
            print(f"observation: {obs}")
        # "human" draws its own window on every step

    if seed is None:  # a random start state, but a known one: the printed seed replays it
        seed = int(np.random.default_rng().integers(2**31))
    print(f"seed {seed}")
    obs, _ = env.reset(seed=seed)
    show(obs)  # play_episodes resets with the same seed again, so this is the start state it plays from

    def report(i: int, action: int, reward: float, next_obs: Any) -> None:
        totals[0] += reward
        totals[1] += 1
        print(f"step {totals[1]}: action {action} ({name(action)}), reward {reward:+g}, return {totals[0]:+g}")
        show(next_obs)
        time.sleep(delay)

    totals = [0.0, 0]  # (return, steps) so far
    with torch.inference_mode():
        episode = play_episodes([env], lambda obs: np.array([agent.act_greedy(obs[0])]), [seed], on_step=report)
    env.close()
    if record is not None:
        write_gif(record, images)
        print(f"recorded {len(images)} frames to {record}")
    episode_return, steps = float(episode.returns[0]), int(episode.lengths[0])
    end = "hit the time limit (truncated)" if episode.truncated[0] else "the episode ended (terminated)"
    print(f"Episode return: {episode_return:g} in {steps} steps; {end}.")
    return episode_return


def main(argv: list[str] | None = None) -> float:
    """``python -m rl.play``: bad input ends in one line (``error: ...``); ``--debug`` shows the traceback."""
    return run_command(_play_command, argv)


def _play_command(argv: list[str] | None) -> float:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--ckpt", required=True, help="checkpoint written by `cli.py fit`")
    parser.add_argument("--seed", type=int, default=None, help="seed of the start state (default: random)")
    parser.add_argument("--render", default="ansi", choices=["ansi", "human", "none"], help="how to show frames")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds to wait between steps")
    parser.add_argument("--record", default=None, help="also write the episode to this GIF file")
    parser.add_argument("--class_path", default=None, help="one of this project's agent classes, e.g. rl.dqn.DQN")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
    args = parser.parse_args(argv)
    agent = load_agent(args.ckpt, args.class_path)
    return play(agent, seed=args.seed, render=args.render, delay=args.delay, record=args.record)


if __name__ == "__main__":
    main()
