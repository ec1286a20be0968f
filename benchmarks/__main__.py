"""Run the benchmarks behind docs/results.md, by purpose: results, robustness, speed.

    python -m benchmarks --list                          # every benchmark, its purpose and its question
    python -m benchmarks --quick                         # each one's tiny variant: checks every path (CI)
    python -m benchmarks --only taxi --data-dir DATA     # one benchmark, full size; prints its tables
    python -m benchmarks --only taxi --write             # ... and writes them into docs/results.md
    python -m benchmarks --write --data-dir DATA         # all of them (hours on a CPU): the whole page again

Each benchmark runs as its own process(es) from the repository root (in the quick mode, inside this one, so that
Python, torch and Lightning start once); a benchmark whose requirement is missing
(a GPU, Stable-Baselines3, the Atari emulator) is skipped with the reason. Exit status 1 if any failed.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import importlib.util
import io
import os
import runpy
import shlex
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

import torch

from benchmarks.registry import BENCHMARKS, BY_NAME, PURPOSES, Benchmark
from benchmarks.results_page import replace_section, section_text
from benchmarks.tiny_data import write_tiny_mnist

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "docs" / "results.md"


def missing(benchmark: Benchmark) -> str | None:
    """What this machine lacks for the benchmark, or None."""
    for need in benchmark.needs:
        if need == "cuda":
            if not torch.cuda.is_available():
                return "needs a GPU"
        elif importlib.util.find_spec(need) is None:
            return f"needs the Python module {need}"
    return None


class Tee(io.StringIO):
    """Keeps what is printed and prints it too."""

    def __init__(self) -> None:
        super().__init__()
        self.terminal = sys.stdout

    def write(self, text: str) -> int:
        self.terminal.write(text)
        return super().write(text)


def run_in_process(argv: list[str]) -> tuple[int, str]:
    """Run ``python ARGV`` inside this process (the quick mode: Python, torch and Lightning start once)."""
    sys.argv = [argv[1] if argv[0] == "-m" else argv[0], *argv[2 if argv[0] == "-m" else 1 :]]
    status = 0
    with contextlib.redirect_stdout(Tee()) as out:
        try:
            if argv[0] == "-m":
                runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
            else:
                runpy.run_path(str(ROOT / argv[0]), run_name="__main__")
        except SystemExit as stop:
            if isinstance(stop.code, str):
                print(stop.code, file=sys.stderr)  # what the interpreter prints for sys.exit("error: ...")
            status = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
        except Exception:  # a failing benchmark is reported and the others still run
            traceback.print_exc()
            status = 1
    return status, out.getvalue()


def run_commands(commands: tuple[tuple[str, ...], ...], data: str, work: str, in_process: bool) -> tuple[int, str]:
    """Run each command in turn from the repository root; (exit status of the first failure or 0, all output)."""
    outputs = []
    for command in commands:
        argv = [part.format(data=data, work=work) for part in command]
        print("$", shlex.join(["python", *argv]), flush=True)
        if in_process:
            status, stdout = run_in_process(argv)
        else:
            done = subprocess.run([sys.executable, *argv], cwd=ROOT, capture_output=True, text=True)
            status, stdout = done.returncode, done.stdout
            print(stdout, end="", flush=True)
            print(done.stderr[-3000:] if status else "", end="", file=sys.stderr, flush=True)
        outputs.append(stdout)
        if status:
            return status, "".join(outputs)
    return 0, "".join(outputs)


def listing() -> str:
    lines = []
    for purpose in PURPOSES:
        lines.append(f"{purpose}:")
        for b in (b for b in BENCHMARKS if b.purpose == purpose):
            quick = "" if b.quick else f"  [no quick variant: {b.no_quick}]"
            needs = f"  [needs {', '.join(b.needs)}]" if b.needs else ""
            lines.append(f"  {b.name:<20} {b.what}{needs}{quick}")
    return "\n".join(lines)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    p.add_argument("--list", action="store_true", help="list the benchmarks by purpose and stop")
    p.add_argument("--only", nargs="+", metavar="NAME", help="these benchmarks only (names from --list)")
    p.add_argument("--purpose", choices=PURPOSES, help="the benchmarks of one purpose only")
    p.add_argument("--quick", action="store_true", help="each benchmark's tiny variant, on generated data")
    p.add_argument("--data-dir", default="data", help="folder with the four MNIST files (full runs)")
    p.add_argument("--write", action="store_true", help="write the tables into the results page")
    p.add_argument("--results", type=Path, default=RESULTS, help="the results page (default: docs/results.md)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.list:
        print(listing())
        return 0
    unknown = sorted(set(args.only or ()) - set(BY_NAME))
    if unknown:
        print(f"error: no benchmark named {', '.join(unknown)}; python -m benchmarks --list names them")
        return 1
    if args.quick and args.write and args.results.resolve() == RESULTS:
        print("error: --quick figures mean nothing; --write them only to another --results file")
        return 1
    chosen = [BY_NAME[name] for name in args.only] if args.only else list(BENCHMARKS)
    chosen = [b for b in chosen if args.purpose in (None, b.purpose)]
    summary: list[tuple[str, str, str]] = []
    page = args.results.read_text() if args.write else ""
    for benchmark in (b for b in chosen if b.section) if args.write else ():
        try:
            replace_section(page, benchmark.name, "")  # every section is there before hours are spent
        except ValueError as err:
            print(f"error: {args.results}: {err}")
            return 1
    data_dir = str(Path(args.data_dir).resolve())
    os.chdir(ROOT)  # the benchmarks name configs/ and cli.py relative to the repository root
    with tempfile.TemporaryDirectory(prefix="benchmarks-") as tmp:
        data = str(write_tiny_mnist(Path(tmp) / "mnist")) if args.quick else data_dir
        for benchmark in chosen:
            commands = benchmark.quick if args.quick else benchmark.commands
            reason = missing(benchmark) or (None if commands else f"no quick variant: {benchmark.no_quick}")
            if reason:
                summary.append((benchmark.name, "skipped", reason))
                continue
            print(f"\n=== {benchmark.purpose}: {benchmark.name}: {benchmark.what}", flush=True)
            work = tempfile.mkdtemp(prefix=f"{benchmark.name}-", dir=tmp)
            start = time.monotonic()
            status, output = run_commands(commands, data, work, in_process=args.quick)
            seconds = f"{time.monotonic() - start:.0f} s"
            summary.append(
                (benchmark.name, "FAILED" if status else "ok", f"exit status {status}" if status else seconds)
            )
            if args.write and benchmark.section and not status:
                command = "python -m benchmarks --only " + benchmark.name + (" --quick" if args.quick else "")
                now = datetime.datetime.now(datetime.timezone.utc)
                page = replace_section(page, benchmark.name, section_text(benchmark.name, command, output, now))
    if args.write:
        args.results.write_text(page)
    print("\n| benchmark | status | |\n|---|---|---|")
    for row in summary:
        print("| " + " | ".join(row) + " |")
    return 1 if any(status == "FAILED" for _, status, _ in summary) else 0


if __name__ == "__main__":
    sys.exit(main())
