"""Watch an agent play one episode: ``python -m rl.play --ckpt runs/taxi_qlearning/version_0/checkpoints/best.ckpt``.

Works with any agent LightningModule that LightningCLI trained and that offers the small interface in
:class:`Agent`: the CLI stores the module's import path in the checkpoint (``_class_path``), so this
command needs no model name, only the checkpoint. ``--random`` plays uniformly random actions instead, in the
checkpoint's environment or in ``--env ID``, for contrast; ``--record FILE.gif|FILE.mp4`` writes the episode as
an animation, each picture captioned with the step, the action's name and the return, the last with why it ended.
The summary counts the episode in agent steps and in frames (rl/steps.py says what each counts).
"""

from __future__ import annotations

import functools
import time
from typing import Any, Protocol, runtime_checkable

import gymnasium as gym
import lightning as L
import numpy as np
import torch

from rl.evaluation import play_episodes
from rl.narration import action_namer, why_it_ended
from rl.random_agent import RandomAgent
from rl.record import check_record_path, side_by_side, with_caption, write_video
from rl.steps import frames_of
from rl.wrappers import build_env
from training_runs.checkpoint_loader import load_model
from training_runs.command_line import run_command
from training_runs.errors import UserError
from training_runs.one_line_parser import OneLineArgumentParser


@runtime_checkable
class Agent(Protocol):
    """What ``rl.play`` asks of an agent (action names and why an episode ended come from its environment):
    its environment, and its action for one observation (a trained agent's greedy one)."""

    def make_env(self, render_mode: str | None = None) -> gym.Env: ...

    def act(self, obs: Any) -> int: ...


def load_agent(ckpt_path: str, class_path: str | None = None) -> Agent:
    """The agent saved in ``ckpt_path`` (see training_runs/checkpoint_loader.py: checksum verified, ``weights_only``,
    and only this project's own classes: a checkpoint is data, and must not choose code to run)."""
    agent = load_model(ckpt_path, L.LightningModule, option="--ckpt", class_path=class_path)
    if not isinstance(agent, Agent):
        raise UserError(f"{ckpt_path} holds a {type(agent).__name__}, which cannot play: it is not an agent")
    return agent


def choose_seed(seed: int | None) -> int:
    """``seed``, or a random start state that is still a known one: the printed seed replays it."""
    return int(np.random.default_rng().integers(2**31)) if seed is None else seed


def agent_label(agent: Agent) -> str:
    """Who plays, as the recording's caption says it: ``random agent``, ``DQN (greedy)``, ..."""
    return getattr(agent, "name", None) or f"{type(agent).__name__} (greedy)"


def real_time_fps(env: gym.Env, steps: int, frames: int | None) -> float:
    """Pictures per second that replay the episode at the environment's own speed (its ``render_fps``, in
    frames): one recorded picture per agent step, so with frame skip (several frames per agent step) fewer."""
    fps = float(env.metadata.get("render_fps") or 25)
    return fps * steps / frames if frames else fps


def play(
    agent: Agent,
    seed: int | None = None,
    render: str = "ansi",
    delay: float = 0.0,
    record: str | None = None,
    fps: float | None = None,
) -> float:
    """Play one episode, printing every frame, action (by name) and reward, then the return and why the episode
    ended; return the episode return.

    ``record``: also write the episode to this GIF or MP4 file, one captioned frame per step at ``fps`` (default:
    the environment's own speed, see :func:`real_time_fps`); for agents that see frame stacks, the stack (what the
    network reads) is drawn beside each frame.
    """
    record_path = check_record_path(record) if record is not None else None  # checked before playing, not after
    probe = agent.make_env()
    supported = probe.metadata.get("render_modes", [])
    probe.close()
    if record_path is not None:
        if "rgb_array" not in supported:
            raise UserError("--record needs an environment that renders images (rgb_array), e.g. CartPole or Taxi")
        render = "rgb_array"
    render_mode = render if render in supported else None  # e.g. CartPole has no text render: print observations
    env = agent.make_env(render_mode=render_mode)
    name = action_namer(env)
    seed = choose_seed(seed)
    shots: list[np.ndarray] = []  # the recording's pictures, one per agent step and the start
    captions: list[list[str]] = []  # under each frame: who plays, then what it did

    def show(obs: Any, caption: str) -> None:
        if record_path is not None:
            shots.append(side_by_side(np.asarray(env.render()), obs))
            captions.append([f"{agent_label(agent)}, seed {seed}", caption])
        elif render_mode == "ansi":
            print(env.render(), end="")
        elif render_mode is None:
            print(f"observation: {obs}")
        # "human" draws its own window on every step

    print(f"seed {seed}")
    obs, _ = env.reset(seed=seed)
    show(obs, "start")  # play_episodes resets with the same seed again, so this is the start state it plays from
    totals = [0.0, 0]  # (return, steps) so far

    def report(i: int, action: int, reward: float, next_obs: Any) -> None:
        totals[0] += reward
        totals[1] += 1
        print(f"step {totals[1]}: action {action} ({name(action)}), reward {reward:+g}, return {totals[0]:+g}")
        show(next_obs, f"step {totals[1]}: {name(action)}, return {totals[0]:g}")
        time.sleep(delay)

    with torch.inference_mode():
        episode = play_episodes([env], lambda obs: np.array([agent.act(obs[0])]), [seed], on_step=report)
    reason = why_it_ended(env, truncated=bool(episode.truncated[0]))
    frames_played = frames_of(env)  # this env's frames: the one episode
    env.close()
    if record_path is not None:
        captions[-1].append(reason)  # the last frame, held on screen a little longer, says why it ended
        pictures = [with_caption(shot, caption) for shot, caption in zip(shots, captions, strict=True)]
        write_video(record_path, pictures, fps or real_time_fps(env, steps=len(shots) - 1, frames=frames_played))
        print(f"recorded {len(pictures)} pictures to {record_path}")
    episode_return, steps = float(episode.returns[0]), int(episode.lengths[0])
    # with frame skip an agent step is several frames, and the time limit counts frames (rl/steps.py)
    in_frames = f" = {frames_played} frames" if frames_played is not None else ""
    print(f"Episode return: {episode_return:g} in {steps} agent steps{in_frames}; {reason}.")
    return episode_return


def main(argv: list[str] | None = None) -> float:
    """``python -m rl.play``: bad input ends in one line (``error: ...``); ``--debug`` shows the traceback."""
    return run_command(_play_command, argv)


def _play_command(argv: list[str] | None) -> float:
    parser = OneLineArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--ckpt", default=None, help="agent checkpoint written by `cli.py fit`")
    parser.add_argument("--random", action="store_true", help="play uniformly random actions, for contrast")
    parser.add_argument("--env", default=None, help="with --random and no --ckpt: a gymnasium id, e.g. CartPole-v0")
    parser.add_argument("--seed", type=int, default=None, help="seed of the start state (default: random)")
    parser.add_argument("--render", default="ansi", choices=["ansi", "human", "none"], help="how to show frames")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds to wait between steps")
    parser.add_argument("--record", default=None, help="also write the episode to this .gif or .mp4 file")
    parser.add_argument(
        "--fps", type=float, default=None, help="pictures per second of --record (default: the env's speed)"
    )
    parser.add_argument("--class_path", default=None, help="one of this project's agent classes, e.g. rl.dqn.DQN")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
    args = parser.parse_args(argv)
    if args.env is not None and not args.random:
        raise UserError("--env plays a random agent: add --random (a trained agent's environment is in its --ckpt)")
    if args.env is not None and args.ckpt is not None:
        raise UserError("--env and --ckpt both say which environment to play: give one of them")
    if args.ckpt is None and args.env is None:
        raise UserError("say what to play: --ckpt PATH (a trained agent) or --random --env ID (e.g. CartPole-v0)")
    if args.fps is not None and args.fps <= 0:
        raise UserError(f"--fps must be positive, got {args.fps:g}")
    seed = choose_seed(args.seed)
    agent: Agent
    if args.ckpt is not None:
        agent = load_agent(args.ckpt, args.class_path)
        if args.random:  # the trained agent's environment as it sees it (frame skip and stack, pixels)
            agent = RandomAgent(agent.make_env, seed)
    else:
        agent = RandomAgent(functools.partial(build_env, args.env, option="--env"), seed)
    return play(agent, seed=seed, render=args.render, delay=args.delay, record=args.record, fps=args.fps)


if __name__ == "__main__":
    main()
