"""Lightning callbacks the CLI adds to every run: pictures after `test`, the learning-rate curve, hp_metric."""

from callbacks.test_pictures import TestPictures
from callbacks.training_curves import BestMetricAsHpMetric, LearningRateCurve

__all__ = ["BestMetricAsHpMetric", "LearningRateCurve", "TestPictures"]
