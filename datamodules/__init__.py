"""Data modules: MNIST / Fashion-MNIST for the classifiers, and a tiny synthetic set for TinyNet."""

from datamodules.mnist import MNISTDataModule
from datamodules.mnist_files import DataNotFoundError
from datamodules.synthetic import TinyDataModule

__all__ = ["DataNotFoundError", "MNISTDataModule", "TinyDataModule"]
