"""Memory of the frame-once replay buffer, measured: ``python -m benchmarks.frame_replay_memory [--capacity N]``.

Fills a :class:`FrameReplayBuffer` to capacity (and once around) with the transitions an agent adds: stacks of
the last 4 frames, each step shifting one new frame in, 2,000-step episodes starting from a repeated first frame
(Pong-like lengths). Frames are distinct (a counter in their first bytes), so nothing is shared by accident.
Reports the buffer's allocated bytes per transition and the process's resident memory before and after, next
to what storing both stacks of every transition would take.

The buffer allocates its storage at once (7.6 GB at the default 1M transitions): the estimate is printed first,
and a buffer that would not fit in the memory available now is refused unless ``--force`` is given.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from rl.dqn.frame_replay import FrameReplayBuffer


def resident_bytes() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status (Linux only)")


# Python's own bookkeeping of the frame slots (the free-slot list, the hash index), beside the arrays: measured
# 0.015 GB at 100,000 transitions (resident memory full minus allocated), about 150 bytes a transition.
BOOKKEEPING_PER_TRANSITION = 150


def available_bytes() -> int:
    """Memory the system can give without swapping (``MemAvailable``)."""
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no MemAvailable in /proc/meminfo (Linux only)")


def estimated_bytes(capacity: int, obs_shape: tuple[int, int, int]) -> int:
    """What a full buffer of ``capacity`` transitions takes: its storage is affine in the capacity (measured at two
    small ones, nothing large is allocated), plus the bookkeeping."""
    small, large = 1600, 3200
    sizes = [FrameReplayBuffer(c, obs_shape).nbytes() for c in (small, large)]
    per_transition = (sizes[1] - sizes[0]) / (large - small)
    storage = sizes[0] + per_transition * (capacity - small)
    return int(storage + BOOKKEEPING_PER_TRANSITION * capacity)


def check_memory(capacity: int, obs_shape: tuple[int, int, int], force: bool) -> None:
    """Say what the buffer will take before allocating it; refuse one larger than the available memory."""
    needed, available = estimated_bytes(capacity, obs_shape), available_bytes()
    print(f"estimated buffer memory: {needed / 1e9:.3f} GB (available now: {available / 1e9:.3f} GB)", flush=True)
    if needed > available and not force:
        sys.exit(
            f"error: --capacity {capacity:,} needs about {needed / 1e9:.1f} GB, more than the {available / 1e9:.1f} GB "
            "available: pass a smaller --capacity, or --force to try anyway"
        )


def frame(counter: int, shape: tuple[int, int]) -> np.ndarray:
    out = np.full(shape, 7, dtype=np.uint8)
    out.reshape(-1)[:8] = np.frombuffer(np.int64(counter).tobytes(), dtype=np.uint8)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--capacity", type=int, default=1_000_000, help="transitions the buffer holds")
    parser.add_argument("--size", type=int, default=84, help="frames are size x size (84: Atari)")
    parser.add_argument("--episode", type=int, default=2000, help="agent steps per episode")
    parser.add_argument("--force", action="store_true", help="allocate even a buffer larger than the free memory")
    args = parser.parse_args(argv)
    if min(args.capacity, args.size, args.episode) < 1:
        parser.error("--capacity, --size and --episode must be at least 1")
    shape, stack = (args.size, args.size), 4
    check_memory(args.capacity, (stack, *shape), args.force)
    before = resident_bytes()
    buffer = FrameReplayBuffer(args.capacity, (stack, *shape))
    allocated = resident_bytes()
    counter = 0
    start = time.perf_counter()
    for step in range(args.capacity + args.capacity // 10):  # full, then 10% around the ring
        if step % args.episode == 0:  # an episode starts: its first frame repeated
            counter += 1
            stacked = [frame(counter, shape)] * stack
        counter += 1
        next_stacked = [*stacked[1:], frame(counter, shape)]
        buffer.add(np.stack(stacked), step % 6, 0.0, np.stack(next_stacked), False, 1)
        stacked = next_stacked
    seconds = time.perf_counter() - start
    after = resident_bytes()
    frame_bytes = shape[0] * shape[1]
    live = int(np.count_nonzero(buffer.store.refs))
    print(f"capacity {args.capacity:,} transitions of ({stack}, {shape[0]}, {shape[1]}) uint8 stacks")
    print(f"frames alive: {live:,} ({live / len(buffer):.4f} per transition), store slots {buffer.store.capacity:,}")
    print(
        f"buffer storage: {buffer.nbytes() / 1e9:.3f} GB = {buffer.nbytes() / args.capacity:,.0f} bytes per transition"
    )
    print(f"  (one frame is {frame_bytes:,} bytes; both stacks stored would be {2 * stack * frame_bytes:,})")
    print(
        f"resident memory: {before / 1e9:.3f} GB before, {allocated / 1e9:.3f} GB allocated, {after / 1e9:.3f} GB full"
    )
    print(f"fill: {seconds:.1f} s ({1e6 * seconds / (args.capacity * 1.1):.1f} us per add)")


if __name__ == "__main__":
    main()
