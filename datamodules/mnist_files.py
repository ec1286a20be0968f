"""Find the four MNIST-format files on disk, or download them with torchvision."""

from __future__ import annotations

import shutil
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

DatasetName = Literal["mnist", "fashion_mnist"]

TRAIN_IMAGES = "train-images-idx3-ubyte"
TRAIN_LABELS = "train-labels-idx1-ubyte"
TEST_IMAGES = "t10k-images-idx3-ubyte"
TEST_LABELS = "t10k-labels-idx1-ubyte"
FILE_STEMS = (TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS)


@dataclass(frozen=True)
class DatasetInfo:
    torchvision_class: str  # also the folder torchvision downloads into: <root>/<class>/raw/
    mean: float  # training-set pixel mean on the [0, 1] scale
    std: float  # training-set pixel standard deviation on the [0, 1] scale
    class_names: tuple[str, ...] = tuple(str(digit) for digit in range(10))
    system_dirs: tuple[str, ...] = ()  # where an OS package installs the same files


DATASETS: dict[str, DatasetInfo] = {
    "mnist": DatasetInfo("MNIST", mean=0.1307, std=0.3081),
    "fashion_mnist": DatasetInfo(
        "FashionMNIST",
        mean=0.2860,
        std=0.3530,
        class_names=(
            "T-shirt/top",
            "Trouser",
            "Pullover",
            "Dress",
            "Coat",
            "Sandal",
            "Shirt",
            "Sneaker",
            "Bag",
            "Ankle boot",
        ),
        system_dirs=("/usr/share/datasets/fashion-mnist",),
    ),
}


class DataNotFoundError(FileNotFoundError):
    """The dataset files are not on disk and could not be downloaded."""


def candidate_dirs(data_dir: Path, dataset: str) -> list[Path]:
    """Folders searched, in order: flat ``data_dir``, torchvision's ``data_dir/<Class>/raw``, OS package folders."""
    info = DATASETS[dataset]
    return [data_dir, data_dir / info.torchvision_class / "raw", *map(Path, info.system_dirs)]


def _files_in(folder: Path) -> dict[str, Path] | None:
    found = {}
    for stem in FILE_STEMS:
        # Prefer the unpacked file: it decodes faster than the gzipped one.
        path = next((p for p in (folder / stem, folder / f"{stem}.gz") if p.is_file()), None)
        if path is None:
            return None
        found[stem] = path
    return found


def find_files(data_dir: str | Path, dataset: str) -> dict[str, Path] | None:
    """The four files (stem -> path) from the first folder that holds all four, or None."""
    for folder in candidate_dirs(Path(data_dir), dataset):
        found = _files_in(folder)
        if found is not None:
            return found
    return None


def download(data_dir: str | Path, dataset: str) -> dict[str, Path]:
    """Download with torchvision (mirrors and MD5 checks) into ``data_dir/<Class>/raw``.

    Files land in a temporary folder first and are moved into place only once all four have
    been fetched and verified, so a failed download leaves nothing half-written behind: not even the folders
    it created (``--data.data_dir ../shared/datasets/mnist`` from the wrong folder would leave
    ``../shared/datasets/``).
    """
    import torchvision.datasets  # deferred: only needed when the files are missing

    data_dir = Path(data_dir)
    info = DATASETS[dataset]
    target = data_dir / info.torchvision_class / "raw"
    created = _first_missing(data_dir)
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=data_dir, prefix=".download-") as tmp:
            getattr(torchvision.datasets, info.torchvision_class)(tmp, train=True, download=True)
            target.mkdir(parents=True, exist_ok=True)
            for path in (Path(tmp) / info.torchvision_class / "raw").iterdir():
                shutil.move(str(path), target / path.name)
    except Exception as err:  # torchvision raises RuntimeError, urllib URLError/OSError, ...
        if created is not None:
            shutil.rmtree(created, ignore_errors=True)
        raise DataNotFoundError(missing_message(data_dir, dataset, f"the download failed ({_one_line(err)})")) from err
    found = _files_in(target)
    if found is None:
        raise DataNotFoundError(missing_message(data_dir, dataset, "the download finished without all four files"))
    return found


def _first_missing(folder: Path) -> Path | None:
    """The outermost of ``folder`` and its parents that does not exist yet (what ``mkdir(parents=True)`` creates)."""
    missing = None
    for path in (folder, *folder.parents):
        if path.exists():
            break
        missing = path
    return missing


def missing_message(data_dir: Path, dataset: str, reason: str) -> str:
    """One line: what is missing, where we looked, and how to point at the files."""
    looked = ", ".join(str(p) for p in candidate_dirs(Path(data_dir), dataset))
    names = ", ".join(f"{stem}[.gz]" for stem in FILE_STEMS)
    return (
        f"{dataset} files not found ({names}) in {looked}, and {reason}. "
        f"Put the four files in one of those folders or point --data.data_dir at the folder that holds them."
    )


def _one_line(err: BaseException) -> str:
    text = textwrap.shorten(" ".join(str(err).split()), width=240, placeholder=" ...")
    return text or type(err).__name__
