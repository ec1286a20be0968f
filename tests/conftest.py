"""Shared fixtures."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from pathlib import Path

# One torch thread per test process, set before torch is imported so that the cli.py subprocesses of the slow tests
# inherit it too. The tests' tensors are tiny, so a second thread buys nothing; on a machine whose cores are busy
# with other work, OpenMP's threads wait for each other instead: the CNN test took 27-40 s with 2 threads and
# 3-4 s with 1 on a loaded 2-core machine. OMP_NUM_THREADS=2 pytest ... chooses otherwise.
TEST_THREADS = int(os.environ.setdefault("OMP_NUM_THREADS", "1"))

import pytest  # noqa: E402
import torch  # noqa: E402

from tests.mnist_fixtures import write_mnist_files  # noqa: E402


@pytest.fixture(autouse=True)
def torch_threads() -> Iterator[None]:
    """Every test starts with TEST_THREADS torch threads, whatever a test before it set (the benchmarks set 2)."""
    torch.set_num_threads(TEST_THREADS)
    yield


@pytest.fixture
def mnist_dir(tmp_path: Path) -> Path:
    """A folder with 300 training and 100 test easy digits, gzipped, flat layout."""
    return write_mnist_files(tmp_path / "mnist")


@pytest.fixture(scope="session")
def drawn_cnn(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CNN checkpoint trained through the CLI on digits drawn with PIL (val/acc about 0.99 in our runs).

    Shared by the predict, export and serve tests: training it once keeps the suite fast.
    """
    from cli import main
    from tests.drawn_digits import write_drawn_mnist
    from tests.helpers import cli_args

    root = tmp_path_factory.mktemp("drawn")
    data = write_drawn_mnist(root / "data", train=600, test=100)
    with warnings.catch_warnings():
        # Drawn digits are bolder than MNIST's, so the data module says they look like Fashion-MNIST: true, and fine here.
        warnings.filterwarnings("ignore", message=r".*typical of fashion_mnist", category=UserWarning)
        main(
            cli_args(
                "fit", "mnist_cnn", root / "runs",
                "--data.data_dir", str(data), "--data.val_size", "100", "--data.batch_size", "50",
                "--trainer.max_epochs", "8",
            )
        )  # fmt: skip
    return root / "runs" / "mnist_cnn" / "version_0" / "checkpoints" / "best.ckpt"
