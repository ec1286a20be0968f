"""Lightning callbacks the CLI adds to every run: pictures after `test`, the learning-rate curve, hp_metric,
``last.ckpt`` every epoch, a stop when the loss or weights become NaN, and the progress bar (environment steps for agents)."""

from callbacks.evaluation_pictures import TestPictures
from callbacks.latest_checkpoint import LatestCheckpoint
from callbacks.non_finite_stop import NonFiniteStop
from callbacks.progress_bar import EnvStepsProgressBar
from callbacks.run_checkpoints import BestCheckpoint
from callbacks.training_curves import BestMetricAsHpMetric, LearningRateCurve

__all__ = [
    "BestCheckpoint",
    "BestMetricAsHpMetric",
    "EnvStepsProgressBar",
    "LatestCheckpoint",
    "LearningRateCurve",
    "NonFiniteStop",
    "TestPictures",
]
