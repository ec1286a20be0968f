"""``rl.play``: recording agents to GIF and MP4, the random agent, action names, and why an episode ended."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import imageio.v3 as iio
import lightning as L
import numpy as np
import pytest
import torch
from gymnasium.envs.toy_text.taxi import TaxiEnv
from PIL import Image, ImageSequence

from rl import play
from rl.dqn import DQN
from rl.narration import action_namer, why_it_ended
from rl.play import real_time_fps
from rl.random_agent import RandomAgent
from rl.record import LINE_HEIGHT, MP4_BLOCK
from rl.tabular import TabularQLearning

# Taxi cut to 10 steps: an untrained taxi wanders until time runs out, and the recording stays short.
if "ShortTaxi-v4" not in gym.registry:
    gym.register("ShortTaxi-v4", entry_point=TaxiEnv, max_episode_steps=10)

HOLD_MP4_FRAMES = 15  # the last frame held 1.5 s at the 10 fps used below


def save_untrained(agent: L.LightningModule, path: Path) -> Path:
    """A checkpoint as ``cli.py fit`` writes it (weights, hyper-parameters with the class, agent state)."""
    checkpoint = {
        "state_dict": agent.state_dict(),
        "hyper_parameters": {**agent.hparams, "_class_path": f"{type(agent).__module__}.{type(agent).__name__}"},
        "pytorch-lightning_version": L.__version__,
    }
    agent.on_save_checkpoint(checkpoint)
    torch.save(checkpoint, path)
    return path


@pytest.fixture(scope="module")
def cartpole_dqn(tmp_path_factory) -> Path:
    torch.manual_seed(0)
    agent = DQN(env_id="CartPole-v0", hidden_sizes=(8,), frame_skip=2, frame_stack=2)
    return save_untrained(agent, tmp_path_factory.mktemp("dqn") / "dqn.ckpt")


@pytest.fixture(scope="module")
def short_taxi(tmp_path_factory) -> Path:
    agent = TabularQLearning(env_id="ShortTaxi-v4", seed=0)  # an all-zero table: always "south"
    return save_untrained(agent, tmp_path_factory.mktemp("taxi") / "taxi.ckpt")


def read_frames(path: Path) -> np.ndarray:
    """(frames, height, width, 3) uint8, as a viewer would decode the file."""
    return iio.imread(path, index=None, plugin="FFMPEG" if path.suffix == ".mp4" else None)


def caption_line(frames: np.ndarray, frame_height: int, line: int) -> np.ndarray:
    """The pixels of caption line ``line`` (0, 1, 2) under the rendered frame, in every recorded frame."""
    top = frame_height + 2 + line * LINE_HEIGHT
    return frames[:, top : top + LINE_HEIGHT, :, :]


def steps_in(printed: str) -> int:
    return int(printed.split("Episode return: ")[1].split(" in ")[1].split(" agent steps")[0])


@pytest.mark.parametrize("suffix", [".gif", ".mp4"])
def test_records_a_cartpole_dqn_agent(cartpole_dqn, suffix, tmp_path, capsys):
    video = tmp_path / f"episode{suffix}"
    argv = ["--ckpt", str(cartpole_dqn), "--seed", "3", "--record", str(video), "--fps", "10"]
    episode_return = play.main(argv)
    printed = capsys.readouterr().out
    steps = steps_in(printed)
    # frame skip 2: 2 reward per agent step (1 if it ends mid-step); the untrained network tips the pole over
    assert 2 * steps - 1 <= episode_return <= 2 * steps < 200
    assert f"in {steps} agent steps = {episode_return:g} frames" in printed  # CartPole pays 1 per frame
    assert "(push left)" in printed or "(push right)" in printed
    assert printed.rstrip().endswith("the pole fell.") and f"recorded {steps + 1} pictures" in printed
    frames = read_frames(video)
    # the start, one frame per agent step; the 400x600 render shrunk to 200x300, three caption lines under it
    height, width = 200 + 3 * LINE_HEIGHT + 4, 300
    if suffix == ".gif":
        assert frames.shape == (steps + 1, height, width, 3)
    else:  # the last frame held 1.5 s; padded to H.264's 16-pixel blocks
        padded = (-(-height // MP4_BLOCK) * MP4_BLOCK, -(-width // MP4_BLOCK) * MP4_BLOCK)
        assert frames.shape == (steps + 1 + HOLD_MP4_FRAMES, *padded, 3)
    moved = np.abs(frames[0, :200].astype(int) - frames[steps, :200].astype(int)).mean(axis=2)
    assert (moved > 60).sum() > 100  # the pole has tipped between the first and the last frame
    reason = caption_line(frames, 200, 2).min(axis=(1, 2, 3))  # darkest pixel of the third caption line
    assert (reason[:steps] > 200).all() and (reason[steps:] < 80).all()  # "the pole fell" only on the last frames
    step_line = caption_line(frames, 200, 1)
    assert not np.array_equal(step_line[1], step_line[2])  # the step counter changes


def test_records_a_taxi_agent_whose_time_runs_out(short_taxi, tmp_path, capsys):
    video = tmp_path / "taxi.gif"
    episode_return = play.main(["--ckpt", str(short_taxi), "--seed", "0", "--record", str(video)])
    printed = capsys.readouterr().out
    assert "step 1: action 0 (south), reward -1" in printed
    assert printed.rstrip().endswith("Episode return: -10 in 10 agent steps = 10 frames; time ran out (10 frames).")
    assert episode_return == -10
    frames = read_frames(video)
    assert frames.shape == (11, 228 + 3 * LINE_HEIGHT + 4, 268, 3)  # Taxi's 456x536 render shrunk 2x
    assert not np.array_equal(frames[0], frames[1])


def test_taxi_keeps_its_text_view(short_taxi, capsys):
    play.main(["--ckpt", str(short_taxi), "--seed", "0"])
    printed = capsys.readouterr().out
    assert "+---------+" in printed and "|R: |" in printed and "time ran out (10 frames)" in printed


def test_random_agent_contrast_same_env_same_seed(cartpole_dqn, tmp_path, capsys):
    first = play.main(["--random", "--env", "CartPole-v0", "--seed", "5", "--record", str(tmp_path / "r.gif")])
    again = play.main(["--random", "--env", "CartPole-v0", "--seed", "5"])
    printed = capsys.readouterr().out
    assert first == again  # seeded: the same start and the same random actions
    assert printed.count("seed 5\n") == 2 and "the pole fell." in printed
    caption = read_frames(tmp_path / "r.gif")[0, 200:218]
    assert caption.min() < 80  # "random agent, seed 5" is written under the frame
    # In a checkpoint's environment: the DQN's frame skip 2 earns 2 per agent step (1 if it ends mid-step).
    video = tmp_path / "in_agent_env.gif"
    in_agent_env = play.main(["--random", "--ckpt", str(cartpole_dqn), "--seed", "5", "--record", str(video)])
    steps = steps_in(capsys.readouterr().out)
    assert 2 * steps - 1 <= in_agent_env <= 2 * steps
    # In real time by default: CartPole's 50 frames/s, two frames per agent step, so 40 ms per recorded frame
    # (a last step cut short makes it a few ms less, which GIF's hundredths of a second round away)
    assert real_time_fps(gym.make("CartPole-v0"), steps=7, frames=14) == 25
    with Image.open(video) as opened:
        milliseconds = [frame.info["duration"] for frame in ImageSequence.Iterator(opened)]
    assert milliseconds == [40] * steps + [40 + 1500]  # the start and each step; the last held 1.5 s longer


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--env", "CartPole-v0"], "add --random"),
        (["--random"], "--random --env ID"),
        (["--random", "--env", "NoSuchEnv-v0"], "--env 'NoSuchEnv-v0' cannot be made"),
        (["--random", "--env", "CartPole-v0", "--record", "{tmp}/episode.avi"], "*.gif or *.mp4"),
        (["--random", "--env", "CartPole-v0", "--record", "{tmp}/missing/episode.gif"], "does not exist"),
    ],
)
def test_play_refuses_bad_options_in_one_line(argv, message, tmp_path):
    with pytest.raises(SystemExit) as info:
        play.main([arg.format(tmp=tmp_path) for arg in argv])
    assert str(info.value.code).startswith("error: ") and message in str(info.value.code)
    assert list(tmp_path.iterdir()) == []  # nothing half-written


def test_why_an_episode_ended():
    # A random CartPole agent lets the pole fall within a few dozen steps.
    env = gym.make("CartPole-v0")
    agent = RandomAgent(lambda render_mode=None: env, seed=0)
    obs, _ = env.reset(seed=0)
    terminated = truncated = False
    while not (terminated or truncated):
        obs, _, terminated, truncated, _ = env.step(agent.act(obs))
    assert terminated and why_it_ended(env, truncated=False) == "the pole fell"
    # The cart past 2.4 with the pole upright.
    env.unwrapped.state = np.array([2.5, 0.0, 0.0, 0.0])
    assert why_it_ended(env, truncated=False) == "the cart left the track"
    # A short time limit cuts the episode before the pole falls.
    short = gym.make("CartPole-v0", max_episode_steps=5)
    short.reset(seed=0)
    results = [short.step(step % 2) for step in range(5)]  # left, right, ...: balanced for 5 steps
    assert results[-1][3] and not any(r[2] for r in results)
    assert why_it_ended(short, truncated=True) == "time ran out (5 frames)"
    assert action_namer(short)(0) == "push left" and action_namer(gym.make("Taxi-v4"))(4) == "pick up"
