"""Session fixtures: one smoke phantom cohort and one validated pipeline run over it.

Built once per session in pytest's temp folder (never in the repository); tests read them and
never modify them, so no test depends on another's order.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

SMOKE_SEED = 11  # not a tuning seed (the segmenter was tuned on seeds 1-5)


def tree_checksums(root: Path) -> dict[str, str]:
    """sha256 of every file under ``root`` (relative path -> hex digest)."""
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="session")
def smoke_cohort(tmp_path_factory) -> Path:
    from bme_mri.phantom import generate_cohort

    root = tmp_path_factory.mktemp("smoke_cohort")
    generate_cohort(root, cohort="smoke", seed=SMOKE_SEED)
    return root


@pytest.fixture(scope="session")
def smoke_validation(smoke_cohort, tmp_path_factory):
    """(validation report, input checksums before the run) for the smoke cohort."""
    from bme_mri.config import load_config
    from bme_mri.pipeline.validate import validate_cohort

    before = tree_checksums(smoke_cohort / "dicom")
    out = tmp_path_factory.mktemp("smoke_validation")
    report = validate_cohort(smoke_cohort, out, load_config())
    return report, before
