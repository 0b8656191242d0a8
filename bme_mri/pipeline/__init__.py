"""Pipeline orchestration: one study (``analyse_study``) and whole folder trees (``run_batch``)."""

from bme_mri.pipeline.batch import BatchResult, run_batch
from bme_mri.pipeline.study import StudyAnalysis, analyse_study

__all__ = ["BatchResult", "StudyAnalysis", "analyse_study", "run_batch"]
