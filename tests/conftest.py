"""Shared fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.mnist_fixtures import write_mnist_files


@pytest.fixture
def mnist_dir(tmp_path: Path) -> Path:
    """A folder with 300 training and 100 test easy digits, gzipped, flat layout."""
    return write_mnist_files(tmp_path / "mnist")
