#!/bin/bash
# Every GPU test and measurement that docs/results.md's "GPU" section records, most important first, for a
# short GPU lease: each step gets a time cap, the whole a deadline, and each step's output goes to a log in
# OUT_DIR as it comes, so a lease that runs out keeps what was measured.
#
#   bash benchmarks/gpu_checks.sh DATA_DIR OUT_DIR [SECONDS]      # SECONDS: the deadline (default 540)
#   PYTHON=/path/to/python bash benchmarks/gpu_checks.sh ...     # another interpreter
#
# The interpreter is the project's environment: $PYTHON if set, else the active virtual environment's
# ($VIRTUAL_ENV), else the checkout's .venv/bin/python, else python3; it must import the project, or nothing runs.
# OUT_DIR/summary.txt lists each step's exit code, seconds and start; the other logs hold the tables.
# Exit status: 0 when every step that ran passed, 1 when one failed (summary.txt says which), 2 for bad usage.
set -u
if [ $# -lt 2 ]; then
  echo "usage: bash benchmarks/gpu_checks.sh DATA_DIR OUT_DIR [SECONDS]" >&2
  exit 2
fi
DATA=$(realpath "$1")
OUT=$(realpath -m "$2")
cd "$(dirname "$0")/.." || exit 1
if [ -n "${PYTHON:-}" ]; then
  PY=$PYTHON
elif [ -n "${VIRTUAL_ENV:-}" ] && [ -x "$VIRTUAL_ENV/bin/python" ]; then
  PY=$VIRTUAL_ENV/bin/python
elif [ -x .venv/bin/python ]; then
  PY=$PWD/.venv/bin/python
else
  PY=python3
fi
if ! "$PY" -c "import lightning, cli" >/dev/null 2>&1; then
  echo "error: $PY cannot import the project (lightning, cli.py): activate its environment or pass PYTHON=/path/to/.venv/bin/python" >&2
  exit 2
fi
mkdir -p "$OUT" || exit 1
FAILED=0
export PYTHONUNBUFFERED=1
START=$(date +%s)
DEADLINE=$((START + ${3:-540}))

step() { # step LOG CAP_SECONDS command...
  local log=$1 cap=$2 left
  shift 2
  left=$((DEADLINE - $(date +%s)))
  if [ "$left" -lt 20 ]; then
    echo "skipped (deadline): $*" >>"$OUT/summary.txt"
    return
  fi
  [ "$cap" -gt "$left" ] && cap=$left
  local t0
  t0=$(date +%s)
  echo "=== $* (cap ${cap}s)" >>"$OUT/$log"
  timeout -k 5 "$cap" "$@" >>"$OUT/$log" 2>&1
  local rc=$?
  [ "$rc" -ne 0 ] && FAILED=$((FAILED + 1))
  echo "rc=$rc $(($(date +%s) - t0))s at t+$((t0 - START))s: $*" >>"$OUT/summary.txt"
}

nvidia-smi -L >>"$OUT/summary.txt" 2>&1
step tests.log 120 "$PY" -m pytest tests/test_gpu.py -q -rs -p no:cacheprovider
step gpu.log 120 "$PY" -m benchmarks.gpu --data-dir "$DATA" --sections ratio --reps 3
step fused.log 60 "$PY" -m benchmarks.fused_step --device cuda
step lean.log 90 "$PY" -m benchmarks.lean_loop --data-dir "$DATA" --runs "ANN, 8-wide" ANN -- --trainer.accelerator gpu
# How close Lightning's own loop can come to the hand loop on the GPU (the 0.9 target): a bare module, free batches.
step floor.log 90 "$PY" -m benchmarks.lightning_floor --data-dir "$DATA" --models ANN CNN --reps 3 -- --trainer.accelerator gpu
for seed in 0 1 2 3 4; do
  step presets.log 40 "$PY" -m benchmarks.mnist_presets mnist_speedrun --data-dir "$DATA" --runs-dir "$OUT/runs" -- --seed_everything $seed
done
# Fewer, larger steps for a launch-bound GPU: both reach >= 99.0% over 5 seeds on the CPU (docs/results.md,
# "Fewer, larger steps"); their GPU time decides whether the speedrun preset should take one of them there.
for seed in 0 1 2 3 4; do
  step presets.log 40 "$PY" -m benchmarks.mnist_presets mnist_speedrun --data-dir "$DATA" --runs-dir "$OUT/runs" \
    --epochs 2 -- --seed_everything $seed --data.batch_size 512 --model.init_args.lr 0.01
  step presets.log 40 "$PY" -m benchmarks.mnist_presets mnist_speedrun --data-dir "$DATA" --runs-dir "$OUT/runs" \
    --epochs 3 -- --seed_everything $seed --data.batch_size 1024 --model.init_args.lr 0.015
done
for model in CNN ANN LSTM; do
  step gpu.log 150 "$PY" -m benchmarks.gpu --data-dir "$DATA" --sections switches --models $model
done
step gpu.log 60 "$PY" -m benchmarks.gpu --data-dir "$DATA" --sections dqn --dqn-epochs 2
step pong.log 60 "$PY" -m benchmarks.pong_throughput --steps 500 --updates 50 --device cuda
for seed in 0 1 2 3 4; do
  step presets.log 60 "$PY" -m benchmarks.mnist_presets mnist_cnn --data-dir "$DATA" --runs-dir "$OUT/runs" -- --seed_everything $seed
done
for seed in 0 1 2; do
  step presets.log 150 "$PY" -m benchmarks.mnist_presets mnist_cnn_best --data-dir "$DATA" --runs-dir "$OUT/runs" -- --seed_everything $seed
done
cat "$OUT/summary.txt"
if [ "$FAILED" -gt 0 ]; then
  echo "$FAILED step(s) failed: see the rc= lines above and their logs in $OUT" >&2
  exit 1
fi
