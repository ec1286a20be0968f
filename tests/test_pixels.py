"""DQN from pixels: the frame-once replay buffer, a CNN agent on a tiny pixel task, and the pixel presets."""

import gymnasium as gym
import lightning as L
import numpy as np
import pytest
import torch

from cli import main
from rl.dqn import DQN
from rl.dqn.frame_replay import FrameReplayBuffer
from rl.dqn.network import ConvEncoder
from tests.helpers import preset, quiet_trainer


class DotSide(gym.Env):
    """8x8 uint8 frames with one bright dot; the action that names the dot's half (0 left, 1 right) pays 1.

    Episodes end (terminated) after 3 to 6 steps, so a small buffer holds many episode boundaries. The dot's
    place is random, so frames differ, but equal frames do recur (64 places): the buffer must cope with both.
    """

    SIZE = 8

    def __init__(self) -> None:
        self.observation_space = gym.spaces.Box(0, 255, (self.SIZE, self.SIZE), np.uint8)
        self.action_space = gym.spaces.Discrete(2)
        self.dot = (0, 0)
        self.steps_left = 0

    def _frame(self) -> np.ndarray:
        frame = np.zeros((self.SIZE, self.SIZE), dtype=np.uint8)
        frame[self.dot] = 255
        return frame

    def _move(self) -> None:
        self.dot = tuple(int(i) for i in self.np_random.integers(self.SIZE, size=2))  # type: ignore[assignment]

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self._move()
        self.steps_left = int(self.np_random.integers(3, 7))
        return self._frame(), {}

    def step(self, action):
        reward = float(action == int(self.dot[1] >= self.SIZE // 2))
        self.steps_left -= 1
        self._move()
        return self._frame(), reward, self.steps_left == 0, False, {}


DOTS = "PixelTestDotSide-v0"
if DOTS not in gym.registry:
    gym.register(DOTS, entry_point=DotSide, reward_threshold=4.0)

# A CNN agent on DotSide frame stacks; the stack makes the observation (k, 8, 8), so the DQN picks the CNN.
DOT_AGENT = dict(
    env_id=DOTS,
    frame_stack=3,
    encoder="small",
    hidden_sizes=(32,),
    lr=3e-3,
    gamma=0.5,
    batch_size=32,
    learning_starts=64,
    steps_per_epoch=100,
    target_update_interval=20,
    epsilon_decay_steps=300,
    val_episodes=20,
    test_episodes=20,
)


def recorded_adds(buffer: FrameReplayBuffer) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Spies on ``buffer.add``: slot -> (s, s') of the latest transition written there, as given."""
    adds: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    add = buffer.add

    def spy(observation, action, reward, next_observation, terminated, steps=1):
        adds[buffer.position] = (observation.copy(), next_observation.copy())
        add(observation, action, reward, next_observation, terminated, steps)

    buffer.add = spy  # type: ignore[method-assign]
    return adds


@pytest.mark.parametrize(("n_steps", "num_envs"), [(1, 1), (3, 4)])
def test_frame_buffer_rebuilds_exactly_the_stacks_the_agent_saw(n_steps, num_envs):
    """Across episode boundaries (reset padding), many wrap-arounds of a 40-transition buffer, and the frame
    store's growth (DotSide's 3-6 step episodes start more stacks than the store's 1/16 spare allows for), with
    one environment or several whose transitions interleave."""
    agent = DQN(**{**DOT_AGENT, "buffer_size": 40, "learning_starts": 1, "n_steps": n_steps, "num_envs": num_envs})
    buffer = agent.buffer
    assert isinstance(buffer, FrameReplayBuffer) and buffer.obs_shape == (3, 8, 8)
    seen: list[np.ndarray] = []  # the observation the agent acted on, step by step
    adds = recorded_adds(buffer)
    agent.env_loop.reset(seed=0)
    for _ in range(300):  # 7 times the capacity
        seen.append(agent.env_loop.observations[0].copy())
        agent.env_loop.step(agent.q_net, epsilon=1.0)
    assert agent.env_loop.episodes > 50 and len(buffer) == 40

    every_slot = buffer.latest(40)
    order = [(buffer.position + i) % 40 for i in range(40)]  # latest() is oldest first
    for row, slot in enumerate(order):
        observation, next_observation = adds[slot]
        assert np.array_equal(every_slot.observations[row].numpy(), observation)
        assert np.array_equal(every_slot.next_observations[row].numpy(), next_observation)
    if n_steps == num_envs == 1:  # then transition t starts from the t-th observation the agent saw
        assert all(any(np.array_equal(s, stack) for stack in seen[-45:]) for s, _ in adds.values())
        assert np.array_equal(every_slot.observations[-1].numpy(), seen[-1])
    # A reset stack is the first frame repeated: some transitions in the buffer start episodes.
    starts = [s for s, _ in adds.values() if (s == s[0]).all()]
    assert starts
    # Memory: one frame per transition, plus the first frame of each episode and the oldest stack's tail.
    live_frames = int(np.count_nonzero(buffer.store.refs))
    assert live_frames <= len(buffer) + len(buffer) // 3 + 3 + n_steps


def test_frame_buffer_checkpoint_round_trip_continues_identically():
    # batch_size 16: a replay buffer smaller than the batch is refused (issue 7); this test draws no batch
    agent = DQN(**{**DOT_AGENT, "buffer_size": 30, "learning_starts": 1, "batch_size": 16})
    agent.env_loop.reset(seed=1)
    for _ in range(75):
        agent.env_loop.step(agent.q_net, epsilon=1.0)
    state = agent.buffer.state_dict()
    restored = FrameReplayBuffer(30, (3, 8, 8))
    restored.load_state_dict(state)
    for buffer in (agent.buffer, restored):  # the same further transitions into both
        for i in range(20):
            frames = np.full((3, 8, 8), i, dtype=np.uint8)
            frames[0, 0, 0] = 200
            buffer.add(frames, i % 2, float(i), frames[::-1].copy(), i % 5 == 0, 1)
    original, copy = agent.buffer.latest(30), restored.latest(30)
    for field in original._fields:
        assert torch.equal(getattr(original, field), getattr(copy, field)), field
    assert np.count_nonzero(restored.store.refs) == np.count_nonzero(agent.buffer.store.refs)


def test_cnn_agent_learns_a_tiny_pixel_task():
    L.seed_everything(0)
    agent = DQN(**DOT_AGENT, stop_return=4.0)
    assert isinstance(agent.q_net.encoder, ConvEncoder)
    trainer = quiet_trainer(max_epochs=4)
    trainer.fit(agent)
    assert agent.solved_at is not None  # validation's mean reached the registered threshold, 4
    results = trainer.test(agent, verbose=False)[0]
    # Random play earns half of the 3-6 steps (about 2.25); the greedy optimum is all of them (about 4.5). Training
    # stops at the first evaluation that reaches 4: seeds 0-5 then score 0.94-1.0 of the optimum, so 0.9 leaves
    # room for one episode's luck.
    assert results["test/mean_return"] >= 0.9 * results["test/mean_length"]


def test_cartpole_pixels_preset_builds_a_cnn_agent_on_rendered_frames(tmp_path):
    cli = main(["--config", preset("cartpole_pixels_dqn"), "--runs_dir", str(tmp_path)], run=False)
    agent = cli.model
    assert isinstance(agent, DQN) and isinstance(agent.q_net.encoder, ConvEncoder)
    assert isinstance(agent.buffer, FrameReplayBuffer)
    agent.env_loop.reset(seed=0)
    first = agent.env_loop.observations[0]
    assert first.shape == (4, 16, 60) and first.dtype == np.uint8
    assert first.max() > 100 and (first == first[0]).all()  # cart and pole are drawn; the reset stack repeats
    for _ in range(3):
        agent.env_loop.step(agent.q_net, epsilon=0.0)
    assert agent.env_loop.observations[0][-1].tobytes() != first[-1].tobytes()  # the pole moved
    assert agent.buffer.store.frames[0].numel() == 16 * 60  # one stored frame = 960 bytes


def test_pong_preset_parses_and_steps_a_few_frames(tmp_path):
    ale_py = pytest.importorskip("ale_py", reason="ale-py (Atari emulator and ROMs) is not installed")
    gym.register_envs(ale_py)
    try:
        gym.make("ALE/Pong-v5").close()
    except Exception as error:  # ale-py without its ROMs says so here
        pytest.skip(f"the Pong ROM is not available: {error}")
    cli = main(["--config", preset("pong_dqn"), "--runs_dir", str(tmp_path), "--model.buffer_size", "1000"], run=False)
    agent = cli.model
    assert agent.hparams.double_dqn and agent.hparams.n_steps == 3 and agent.hparams.loss == "huber"
    assert agent.hparams.clip_rewards and agent.hparams.encoder == "nature"
    agent.env_loop.reset(seed=0)
    for _ in range(8):
        agent.env_loop.step(agent.q_net, epsilon=1.0)
    assert agent.env_loop.observations[0].shape == (4, 84, 84) and agent.env_loop.observations[0].dtype == np.uint8
    assert agent.env_loop.env_steps == 8  # 32 emulator frames: frame skip 4
    assert agent.q_net(torch.from_numpy(agent.env_loop.observations)).shape == (1, 6)


def test_play_records_the_pixel_agent_with_what_its_network_sees(tmp_path, capsys):
    import imageio.v3 as iio
    from PIL import Image, ImageSequence

    from rl.play import load_agent, play
    from rl.record import LINE_HEIGHT

    agent = DQN(pixels=True, downscale=10, frame_skip=2, frame_stack=4, encoder="small", hidden_sizes=(16,))
    checkpoint = {
        "state_dict": agent.state_dict(),
        "hyper_parameters": dict(agent.hparams),
        "pytorch-lightning_version": L.__version__,
    }
    agent.on_save_checkpoint(checkpoint)  # the sections load_from_checkpoint reads, without a Trainer's fit
    torch.save(checkpoint, tmp_path / "agent.ckpt")
    gif = tmp_path / "episode.gif"
    play(load_agent(str(tmp_path / "agent.ckpt"), class_path="rl.dqn.agent.DQN"), seed=3, record=str(gif), fps=25)
    steps = int(capsys.readouterr().out.split(" in ")[-1].split(" agent steps")[0])
    images = iio.imread(gif, index=None)  # (frames, height, width, 3)
    # The start state, then one captioned image per agent step at 25 fps, the last held 1.5 s longer.
    with Image.open(gif) as opened:
        milliseconds = [frame.info["duration"] for frame in ImageSequence.Iterator(opened)]
    assert len(images) == steps + 1 and milliseconds == [40] * steps + [40 + 1500]
    # the 400x600 render shrunk to 200x300, an 8-pixel gap, and the 4 stacked 16x60 frames scaled 3x: 192x180;
    # three caption lines under it
    assert images.shape[1:3] == (200 + 3 * LINE_HEIGHT + 4, 300 + 8 + 180)
    assert images[0, :192, 308:].max() > 100  # the network's view shows the cart and pole


def test_record_refuses_a_file_that_is_neither_gif_nor_mp4(tmp_path):
    from rl.record import write_video
    from training_runs.errors import UserError

    with pytest.raises(UserError, match=r"\*\.gif or \*\.mp4"):
        write_video(tmp_path / "episode.avi", [np.zeros((2, 2, 3), np.uint8)])
    assert not (tmp_path / "episode.avi").exists()


def test_atari_environment_state_round_trips_through_a_checkpoint():
    """The emulator (with its sticky-action RNG) and the frame stack resume exactly: the same actions then give
    the same frames and rewards as the environment that was never stopped."""
    pytest.importorskip("ale_py", reason="ale-py (Atari emulator and ROMs) is not installed")
    from rl.checkpointing import env_state, load_env_state
    from rl.wrappers import build_env

    try:
        env = build_env("ALE/Pong-v5", 4, 4, training=True, clip_rewards=True)
    except Exception as error:
        pytest.skip(f"the Pong ROM is not available: {error}")
    env.reset(seed=0)
    for step in range(30):
        env.step(step % 6)
    saved = env_state(env)
    restored = build_env("ALE/Pong-v5", 4, 4, training=True, clip_rewards=True)
    restored.reset(seed=123)  # a different game, until the state is loaded
    load_env_state(restored, saved)
    for step in range(40):
        original, reward, *_ = env.step((step * 5) % 6)
        again, reward_again, *_ = restored.step((step * 5) % 6)
        assert np.array_equal(original, again) and reward == reward_again
