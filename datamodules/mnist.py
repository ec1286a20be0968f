"""One LightningDataModule for MNIST and Fashion-MNIST, held in memory as uint8 tensors."""

from __future__ import annotations

import logging
from pathlib import Path

import lightning as L
import torch
from lightning.fabric.utilities.data import AttributeDict
from lightning.pytorch.utilities import rank_zero_warn
from torch.utils.data import DataLoader

from datamodules.augment import random_affine
from datamodules.device_data import DeviceBatchLoader, EpochOrder
from datamodules.epoch_sampler import EpochShuffleSampler
from datamodules.idx import read_idx
from datamodules.mnist_files import (
    DATASETS,
    TEST_IMAGES,
    TEST_LABELS,
    TRAIN_IMAGES,
    TRAIN_LABELS,
    DataNotFoundError,
    DatasetName,
    download,
    find_files,
    missing_message,
)
from datamodules.tensor_data import ShardSampler, TensorBatchDataset, keep_batch
from lightning_classics.images import ImageInputError, image_files, preprocess_files

log = logging.getLogger(__name__)


class MNISTDataModule(L.LightningDataModule):
    """MNIST-format images decoded once into memory; batches are gathered with one index and
    converted to [0, 1] floats and augmented on the training device.

    Normalising is the model's job (it carries ``pixel_mean``/``pixel_std``, linked from here), so
    a checkpoint classifies raw images by itself.
    """

    hparams: AttributeDict  # save_hyperparameters() fills an AttributeDict (Lightning declares a wider type)

    num_classes = 10
    image_shape = (1, 28, 28)

    def __init__(
        self,
        data_dir: str = "data",
        dataset: DatasetName = "mnist",
        batch_size: int = 128,
        eval_batch_size: int = 1000,
        val_size: int = 5000,
        split_seed: int = 0,
        augment: bool = False,
        download: bool = True,
        on_device: bool | None = None,
        predict_path: str | None = None,
    ) -> None:
        """
        Args:
            data_dir: Folder with the four IDX files (gzipped or not), flat or in torchvision's <Class>/raw/ layout.
            dataset: Which dataset: ``mnist`` or ``fashion_mnist`` (same file format).
            batch_size: Training batch size (per device).
            eval_batch_size: Batch size for validation, test and predict (per device).
            val_size: Images carved out of the 60,000 training images for validation.
            split_seed: Seed of the train/validation split; fixed so every run validates on the same images.
            augment: Random small affine transforms (rotate, shift, scale) of training batches, on the device.
            download: Download the files with torchvision when they are not found.
            on_device: Keep the whole uint8 data set on the training device and gather each batch there (no
                per-batch host-to-device copy); ``null`` (the default): on when training on a GPU.
            predict_path: An image file or a folder of them (PNG, JPEG, ...) for ``predict``; the test set if unset.
        """
        super().__init__()
        if dataset not in DATASETS:
            raise ValueError(f"dataset must be one of {sorted(DATASETS)}, got {dataset!r}")
        if batch_size < 1 or eval_batch_size < 1:
            raise ValueError(
                f"--data.batch_size and --data.eval_batch_size must be at least 1, got {batch_size} and {eval_batch_size}"
            )
        self.save_hyperparameters()  # the one record of the arguments: self.hparams.<name>
        self.data_dir = Path(data_dir)
        info = DATASETS[dataset]
        self.pixel_mean, self.pixel_std, self.class_names = info.mean, info.std, info.class_names
        self.predict_files: list[Path] = []  # the files behind the predict set's rows, when predict_path is set
        self.sets: dict[str, TensorBatchDataset] = {}  # "train", "val", "test" once setup() has run
        self._device_sets: dict[tuple[str, torch.device], tuple[torch.Tensor, ...]] = {}  # copies on the device

    def _predicting_files(self) -> bool:
        return self.hparams.predict_path is not None and self.trainer is not None and self.trainer.predicting

    def prepare_data(self) -> None:
        """Download the files if missing (runs once per node, before ``setup``)."""
        if self._predicting_files():  # own images need no dataset files
            return
        if self.data_dir.exists() and not self.data_dir.is_dir():
            raise DataNotFoundError(
                f"--data.data_dir {self.data_dir} is a file: pass the folder that holds the four MNIST files"
            )
        if find_files(self.data_dir, self.hparams.dataset) is None:
            if not self.hparams.download:
                raise DataNotFoundError(missing_message(self.data_dir, self.hparams.dataset, "download is off"))
            download(self.data_dir, self.hparams.dataset)

    def setup(self, stage: str | None = None) -> None:
        if self._predicting_files():
            self._read_predict_files()
            return
        if self.sets:  # decoded already: Lightning calls setup once per stage
            return
        files = find_files(self.data_dir, self.hparams.dataset)
        if files is None:
            raise DataNotFoundError(missing_message(self.data_dir, self.hparams.dataset, "download is off"))
        train_images, train_labels = read_idx(files[TRAIN_IMAGES]), read_idx(files[TRAIN_LABELS])
        test_images, test_labels = read_idx(files[TEST_IMAGES]), read_idx(files[TEST_LABELS])
        for images, labels, name in ((train_images, train_labels, "train"), (test_images, test_labels, "test")):
            if images.dim() != 3 or images.shape[1:] != self.image_shape[1:] or len(images) != len(labels):
                raise ValueError(
                    f"{name} files in {self.data_dir} hold {tuple(images.shape)} images and {len(labels)} labels; "
                    f"expected N x 28 x 28 images with one label each"
                )
        for labels, stem in ((train_labels, TRAIN_LABELS), (test_labels, TEST_LABELS)):
            if len(labels) and int(labels.max()) >= self.num_classes:
                bad = int((labels >= self.num_classes).sum())
                raise ValueError(
                    f"{files[stem]}: {bad} label(s) outside 0-{self.num_classes - 1} (largest {int(labels.max())}); "
                    "the file is damaged or not an MNIST-format label file"
                )
        self._warn_if_another_dataset(train_images, files[TRAIN_IMAGES])
        val_size = self.hparams.val_size
        if not 0 < val_size < len(train_images):
            raise ValueError(f"val_size must be between 1 and {len(train_images) - 1}, got {val_size}")

        # The split is a fixed permutation so that no image is ever in both train and val.
        order = torch.randperm(len(train_images), generator=torch.Generator().manual_seed(self.hparams.split_seed))
        self.val_indices, self.train_indices = order[:val_size], order[val_size:]
        train_images = train_images.unsqueeze(1)  # (N, 28, 28) -> (N, 1, 28, 28)
        self.sets = {
            "train": TensorBatchDataset(train_images[self.train_indices], train_labels[self.train_indices].long()),
            "val": TensorBatchDataset(train_images[self.val_indices], train_labels[self.val_indices].long()),
            "test": TensorBatchDataset(test_images.unsqueeze(1), test_labels.long()),
        }
        # Predicting on the test set: each row keeps its true label and test index.
        self.sets["predict"] = TensorBatchDataset(*self.sets["test"].tensors, torch.arange(len(test_labels)))

    def _read_predict_files(self) -> None:
        """Own pictures, made MNIST-like; files that are not images are reported and skipped."""
        images, self.predict_files, errors = preprocess_files(image_files(self.hparams.predict_path))
        for error in errors:
            log.error(f"error: skipped {error}")  # one line each; the readable files are still classified
        if not self.predict_files:
            raise ImageInputError(f"no image could be read from {self.hparams.predict_path}")
        # (N, 28, 28) -> (N, 1, 28, 28); each row keeps its index into predict_files.
        self.sets["predict"] = TensorBatchDataset(images.unsqueeze(1), torch.arange(len(images)))

    def _warn_if_another_dataset(self, images: torch.Tensor, path: Path) -> None:
        """MNIST and Fashion-MNIST files share their names; their pixel statistics tell them apart."""
        mean = images.sum(dtype=torch.int64).item() / images.numel() / 255
        closest = min(DATASETS, key=lambda name: abs(DATASETS[name].mean - mean))
        dataset = self.hparams.dataset
        if closest != dataset:
            rank_zero_warn(
                f"{path} has mean pixel {mean:.3f}, typical of {closest} ({DATASETS[closest].mean}), not of "
                f"{dataset} ({self.pixel_mean}): does --data.data_dir point at the {dataset} files?"
            )

    @property
    def batch_size(self) -> int:
        """Training batch size per device: a data fact the CLI links into the model (for ``lr_scaling``)."""
        return self.hparams.batch_size

    def train_dataloader(self) -> DataLoader | DeviceBatchLoader:
        # Either loader's epoch and mid-epoch start are set by lightning_classics.runs.resume.ResumeState (set_position).
        if self._data_on_device():
            return self._device_loader("train", self.hparams.batch_size, shuffle=True)
        # Under DDP Lightning wraps the sampler in a DistributedSamplerWrapper: one shard per process.
        return DataLoader(
            self._set("train"),
            batch_size=self.hparams.batch_size,
            sampler=EpochShuffleSampler(len(self._set("train"))),  # an order a resumed run can replay
            generator=torch.Generator(),  # so creating the loader's iterator draws nothing from the global RNG
            collate_fn=keep_batch,
            pin_memory=self._pin(),
        )

    def val_dataloader(self) -> DataLoader | DeviceBatchLoader:
        return self._eval_loader("val")

    def test_dataloader(self) -> DataLoader | DeviceBatchLoader:
        return self._eval_loader("test")

    def predict_dataloader(self) -> DataLoader | DeviceBatchLoader:
        return self._eval_loader("predict")

    def _data_on_device(self) -> bool:
        if self.hparams.on_device is not None:
            return self.hparams.on_device
        return self.trainer is not None and self.trainer.strategy.root_device.type == "cuda"

    def _device_loader(self, name: str, batch_size: int, shuffle: bool) -> DeviceBatchLoader:
        """The set copied once to the training device (47 MB for MNIST's uint8 images); batches gathered there."""
        trainer = self.trainer
        device = trainer.strategy.root_device if trainer is not None else torch.device("cpu")
        rank, world_size = (trainer.global_rank, trainer.world_size) if trainer is not None else (0, 1)
        key = (name, device)
        if key not in self._device_sets:
            self._device_sets[key] = tuple(t.to(device) for t in self._set(name).tensors)
        tensors = self._device_sets[key]
        # Same seed on every process (seed_everything): one permutation, cut into disjoint shards.
        order = EpochOrder(len(tensors[0]), shuffle, seed=torch.initial_seed(), rank=rank, world_size=world_size)
        return DeviceBatchLoader(*tensors, batch_size=batch_size, order=order)

    def _eval_loader(self, name: str) -> DataLoader | DeviceBatchLoader:
        if self._data_on_device():
            return self._device_loader(name, self.hparams.eval_batch_size, shuffle=False)
        dataset = self._set(name)
        sampler = None
        if self.trainer is not None and self.trainer.world_size > 1:
            # Our own shards: Lightning's default would pad them with repeated images.
            sampler = ShardSampler(dataset, num_replicas=self.trainer.world_size, rank=self.trainer.global_rank)
        return DataLoader(
            dataset,
            batch_size=self.hparams.eval_batch_size,
            sampler=sampler,
            collate_fn=keep_batch,
            pin_memory=self._pin(),
        )

    def _set(self, name: str) -> TensorBatchDataset:
        if name not in self.sets:
            raise RuntimeError(f"no {name} set: call setup() before asking for a data loader")
        return self.sets[name]

    def _pin(self) -> bool:
        return torch.cuda.is_available()

    def on_after_batch_transfer(self, batch, dataloader_idx: int):
        """uint8 images arrive on the device and become [0, 1] floats there, augmented when training.

        Batches are ``(images, labels)``, or for predict ``(images, labels, test index)`` or
        ``(images, file index)``; everything after the images passes through unchanged.
        """
        if isinstance(batch, torch.Tensor):  # e.g. the model summary's example_input_array: already float
            return batch
        images, *rest = batch
        images = images.float().div_(255)
        if self.hparams.augment and self.trainer is not None and self.trainer.training:
            images = random_affine(images)
        return (images, *rest)
