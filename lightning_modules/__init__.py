"""LightningModules: the MNIST classifiers and TinyNet, sharing one training/eval step."""

from lightning_modules.classifier import Classifier
from lightning_modules.mnist_classifiers import ANN, CNN, LSTM, ImageClassifier
from lightning_modules.tiny import TinyNet

__all__ = ["ANN", "CNN", "LSTM", "Classifier", "ImageClassifier", "TinyNet"]
