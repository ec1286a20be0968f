"""Lightning callbacks the CLI adds to every run: pictures after `test`, the learning-rate curve, hp_metric,
``last.ckpt`` every epoch, a stop when the loss or weights become NaN, and the progress bar (agent steps for agents)."""

from lightning_classics.callbacks.evaluation_pictures import TestPictures
from lightning_classics.callbacks.latest_checkpoint import LatestCheckpoint
from lightning_classics.callbacks.non_finite_stop import NonFiniteStop
from lightning_classics.callbacks.progress_bar import EnvStepsProgressBar
from lightning_classics.callbacks.run_checkpoints import BestCheckpoint
from lightning_classics.callbacks.training_curves import BestMetricAsHpMetric, LearningRateCurve

__all__ = [
    "BestCheckpoint",
    "BestMetricAsHpMetric",
    "EnvStepsProgressBar",
    "LatestCheckpoint",
    "LearningRateCurve",
    "NonFiniteStop",
    "TestPictures",
]
