"""Quality control per hip: each rule on small synthetic arrays, and the summary columns."""

from __future__ import annotations

import numpy as np
import pytest

from bme_mri.config import load_config
from bme_mri.pipeline.tables import SUMMARY_COLUMNS, summary_rows
from bme_mri.quantify.qc import (
    BLOCKING, WARNING, HipQc, QcFlag, assess_hips, head_fit_flag, head_fov_flag,
    head_outside_fov_fraction, muscle_level, noise_sd, reference_flags,
)
from bme_mri.segment.base import HeadFinding, ReferenceMarrow, Segmentation
from bme_mri.types import Geometry, Side, Volume


@pytest.fixture(scope="module")
def qc_settings():
    return load_config().qc


def _geometry(shape=(90, 90, 40), spacing=(1.5, 1.5, 3.0)) -> Geometry:
    origin = tuple(-(n - 1) / 2 * s for n, s in zip(shape, spacing))
    return Geometry(shape, spacing, origin, np.eye(3))


def _reference(median: float, n_voxels: int = 2000, sd: float = 5.0, side: str = "left") -> ReferenceMarrow:
    return ReferenceMarrow(f"lower intensity mode of femoral head and neck marrow, {side} side",
                           n_voxels, median, sd / 1.4826, median + 2 * sd, sd, median + 3 * sd)


def _head(center=(0.0, 0.0, 0.0), radius=22.0, quality=0.8, residual=0.5, reference=None,
          side=Side.LEFT) -> HeadFinding:
    head = HeadFinding(side, tuple(center), radius, (1.0, 0.0, 0.0), 18.0, 15.0, quality, residual,
                       reference=reference)
    head.own_reference = reference
    return head


def _hip_image(geometry: Geometry, marrow: float, muscle: float, noise: float,
               center=(0.0, 0.0, 0.0), radius=22.0, seed: int = 0) -> Volume:
    """Muscle everywhere, a marrow sphere of ``radius`` (mm) at ``center`` (LPS mm), noise sd."""
    rng = np.random.default_rng(seed)
    idx = np.indices(geometry.shape).reshape(3, -1).T
    dist = np.linalg.norm(geometry.index_to_lps(idx) - np.asarray(center), axis=1).reshape(geometry.shape)
    array = np.where(dist <= radius, marrow, muscle) + rng.normal(0, noise, geometry.shape)
    return Volume(array.astype(np.float32), geometry)


def test_good_head_fit_raises_no_flag(qc_settings):
    assert head_fit_flag(_head(quality=0.8, residual=0.5), qc_settings) is None


def test_head_seen_on_few_rays_is_flagged_blocking(qc_settings):
    flag = head_fit_flag(_head(quality=0.2, residual=0.5), qc_settings)
    assert flag is not None and flag.code == "head_fit_poor" and flag.severity == BLOCKING
    assert "20%" in flag.reason


def test_scattered_head_fit_is_flagged(qc_settings):
    flag = head_fit_flag(_head(quality=0.9, residual=qc_settings.head.max_fit_residual_mm + 0.5),
                         qc_settings)
    assert flag is not None and "residual" in flag.reason


def test_head_inside_the_field_is_not_cut(qc_settings):
    geometry = _geometry()
    assert head_outside_fov_fraction(geometry, _head()) == 0.0
    assert head_fov_flag(geometry, _head(), qc_settings)[0] is None


def test_head_centred_on_the_field_edge_is_about_half_outside(qc_settings):
    geometry = _geometry()
    edge_x = geometry.index_to_lps(np.array([geometry.shape[0] - 0.5, 0, 0]))[0]
    head = _head(center=(edge_x, 0.0, 0.0))
    head.junction_distance_mm = 1e3  # the whole sphere is head proper here
    fraction = head_outside_fov_fraction(geometry, head)
    assert 0.4 < fraction < 0.6
    flag, measured = head_fov_flag(geometry, head, qc_settings)
    assert flag is not None and flag.code == "head_cut_by_fov" and flag.severity == BLOCKING
    assert measured == fraction


def test_marrow_brighter_than_muscle_is_failed_fat_suppression(qc_settings):
    geometry = _geometry()
    image = _hip_image(geometry, marrow=300.0, muscle=100.0, noise=5.0)
    head = _head(reference=_reference(300.0))
    flags, measures = reference_flags(image, head, None, qc_settings)
    codes = [f.code for f in flags]
    assert "reference_implausible" in codes
    assert measures["marrow_muscle_ratio"] == pytest.approx(3.0, rel=0.1)
    assert "fat suppression failed" in next(f.reason for f in flags if f.code == "reference_implausible")


def test_dark_marrow_on_stir_is_a_plausible_reference(qc_settings):
    geometry = _geometry()
    image = _hip_image(geometry, marrow=40.0, muscle=120.0, noise=4.0)
    flags, measures = reference_flags(image, _head(reference=_reference(40.0)), None, qc_settings)
    assert flags == []
    assert measures["marrow_muscle_ratio"] == pytest.approx(1 / 3, rel=0.1)


def test_reference_from_few_voxels_is_implausible(qc_settings):
    geometry = _geometry()
    image = _hip_image(geometry, marrow=40.0, muscle=120.0, noise=4.0)
    head = _head(reference=_reference(40.0, n_voxels=qc_settings.reference.min_voxels - 1))
    flags, _ = reference_flags(image, head, None, qc_settings)
    assert [f.code for f in flags] == ["reference_implausible"]
    assert "voxels" in flags[0].reason


def test_sides_disagreeing_warn_on_the_brighter_side_only(qc_settings):
    geometry = _geometry()
    image = _hip_image(geometry, marrow=40.0, muscle=120.0, noise=4.0)
    dark, bright = _reference(40.0, side="right"), _reference(80.0)
    left = _head(reference=dark, side=Side.LEFT)
    left.own_reference = bright  # its own was brighter; the right side's was used
    right = _head(reference=dark, side=Side.RIGHT)
    left_flags, _ = reference_flags(image, left, right, qc_settings)
    right_flags, _ = reference_flags(image, right, left, qc_settings)
    assert {f.code for f in left_flags} == {"reference_borrowed", "reference_sides_disagree"}
    assert all(f.severity == WARNING for f in left_flags)
    assert right_flags == []


def test_a_reference_borrowed_from_a_poorly_fitted_hip_is_implausible(qc_settings):
    """The lender's head was not found reliably: its marrow reference is marrow of an unknown
    place, and the borrower's own, much brighter, marrow says why it was not used."""
    geometry = _geometry()
    image = _hip_image(geometry, marrow=40.0, muscle=120.0, noise=4.0)
    dark, bright = _reference(40.0, side="right"), _reference(250.0)
    lender = _head(reference=dark, side=Side.RIGHT,
                   residual=qc_settings.head.max_fit_residual_mm + 0.3)
    borrower = _head(reference=dark, side=Side.LEFT)
    borrower.own_reference = bright
    flags, _ = reference_flags(image, borrower, lender, qc_settings)
    implausible = [f for f in flags if f.code == "reference_implausible"]
    assert implausible and implausible[0].severity == BLOCKING
    assert "head fit failed" in implausible[0].reason and "250" in implausible[0].reason
    # the same borrow from a well fitted hip stays a warning
    lender_ok = _head(reference=dark, side=Side.RIGHT)
    flags, _ = reference_flags(image, borrower, lender_ok, qc_settings)
    assert all(f.severity == WARNING for f in flags)


def test_noise_estimate_follows_the_noise_not_the_anatomy():
    geometry = _geometry()
    image = _hip_image(geometry, marrow=40.0, muscle=120.0, noise=10.0)
    mask = np.ones(geometry.shape, bool)
    assert noise_sd(image.array, mask) == pytest.approx(10.0, rel=0.15)


def test_low_snr_is_a_warning(qc_settings):
    geometry = _geometry()
    noisy = _hip_image(geometry, marrow=40.0, muscle=120.0, noise=40.0)
    flags, measures = reference_flags(noisy, _head(reference=_reference(40.0)), None, qc_settings)
    assert measures["snr"] < qc_settings.noise.min_snr
    low = [f for f in flags if f.code == "low_snr"]
    assert low and low[0].severity == WARNING
    clean = _hip_image(geometry, marrow=40.0, muscle=120.0, noise=3.0)
    flags, _ = reference_flags(clean, _head(reference=_reference(40.0)), None, qc_settings)
    assert "low_snr" not in [f.code for f in flags]


def test_assess_hips_gives_one_result_per_head_with_measures(qc_settings):
    geometry = _geometry()
    image = _hip_image(geometry, marrow=40.0, muscle=120.0, noise=4.0)
    head = _head(reference=_reference(40.0), quality=0.1)
    seg = Segmentation(np.zeros(geometry.shape, np.uint8), geometry, [head],
                       np.zeros(geometry.shape, bool), head.reference)
    (qc,) = assess_hips(image, seg, qc_settings)
    assert qc.side == Side.LEFT and qc.codes == "head_fit_poor"
    assert qc.blocking and qc.measures["fit_boundary_fraction"] == pytest.approx(0.1)
    assert qc.to_dict()["flags"][0]["severity"] == BLOCKING


def test_summary_csv_carries_qc_columns_then_the_ranges_at_the_end():
    assert SUMMARY_COLUMNS[-6:-4] == ["qc_flags", "qc_reason"]
    assert SUMMARY_COLUMNS[-4:] == ["edema_ml_low", "edema_ml_high", "necrosis_ml_low", "necrosis_ml_high"]
    qc = HipQc(Side.RIGHT, [QcFlag("low_snr", "snr 4", WARNING),
                            QcFlag("head_cut_by_fov", "30% outside", BLOCKING)])
    record = {"patient_id": "P", "study_uid": "1.2", "series": {}, "outputs": {},
              "sides": [{"side": "right", "edema_ml": 1.0, "necrosis_ml": 0.0, "qc": qc.to_dict()},
                        {"side": "left", "edema_ml": 0.0, "necrosis_ml": 0.0,
                         "qc": HipQc(Side.LEFT).to_dict()}]}
    right, left = summary_rows([record])
    assert right["qc_flags"] == "head_cut_by_fov;low_snr"  # blocking first
    assert "30% outside" in right["qc_reason"] and "blocking" in right["qc_reason"]
    assert left["qc_flags"] == "" and left["qc_reason"] == ""


def test_head_grazing_the_field_edge_is_a_warning_not_a_block(qc_settings):
    geometry = _geometry()
    edge_x = geometry.index_to_lps(np.array([geometry.shape[0] - 0.5, 0, 0]))[0]
    head = _head(center=(edge_x - 17.0, 0.0, 0.0))  # a 5 mm cap of a 22 mm head outside
    head.junction_distance_mm = 1e3
    flag, fraction = head_fov_flag(geometry, head, qc_settings)
    assert qc_settings.head.warn_outside_fov_fraction < fraction < qc_settings.head.max_outside_fov_fraction
    assert flag is not None and flag.code == "head_partly_outside_fov" and flag.severity == WARNING


def test_muscle_level_is_the_largest_class_under_a_bias_field():
    """A dark class (suppressed fat, pelvic bone; 40% of the shell) and muscle (60%), both
    multiplied by the same smooth bias of +/-30%: on a linear histogram the dark class's peak
    stands higher (the bias spreads muscle 2.5 x as wide); the muscle level is muscle's."""
    for seed in range(6):
        rng = np.random.default_rng(seed)
        n = 20000
        bias = rng.uniform(0.7, 1.3, n)
        dark = rng.random(n) < 0.4
        values = np.where(dark, 100.0, 250.0) * bias + rng.normal(0.0, 5.0, n)
        assert muscle_level(values, 64) == pytest.approx(250.0, rel=0.1), f"seed {seed}"


def _tissue_pair(fat_suppressed: bool, seed: int = 0):
    """A body of layered tissues (subcutaneous fat, muscle, a fluid-filled bladder, fatty
    marrow) as STIR and T1, with a shared coil shading and noise: STIR nulls fat unless its
    fat suppression failed (then fat is bright, as in a spin echo)."""
    geometry = _geometry((60, 60, 20), (2.0, 2.0, 4.0))
    rng = np.random.default_rng(seed)
    x, y, _ = np.indices(geometry.shape)
    r = np.hypot(x - 30, y - 30)
    tissue = np.zeros(geometry.shape, np.int8)  # 0 air
    tissue[r < 28] = 1  # subcutaneous fat
    tissue[r < 22] = 2  # muscle
    tissue[np.hypot(x - 22, y - 30) < 6] = 3  # bladder (fluid)
    tissue[np.hypot(x - 38, y - 30) < 6] = 1  # fatty marrow
    stir = np.array([0.0, 40.0 if fat_suppressed else 420.0, 120.0, 500.0])[tissue]
    t1 = np.array([0.0, 500.0, 180.0, 60.0])[tissue]
    shading = 1.0 + 0.3 * (x - 30) / 30
    noise = lambda: rng.normal(0, 10, geometry.shape)  # noqa: E731
    return (Volume((stir * shading + noise()).clip(0).astype(np.float32), geometry),
            Volume((t1 * shading + noise()).clip(0).astype(np.float32), geometry))


def test_t1_rank_correlation_tells_failed_fat_suppression(qc_settings):
    from bme_mri.quantify.qc import fat_suppression_flag, t1_rank_correlation

    good = t1_rank_correlation(*_tissue_pair(True), qc_settings.reference.t1_correlation_voxels)
    failed = t1_rank_correlation(*_tissue_pair(False), qc_settings.reference.t1_correlation_voxels)
    assert good < 0.0 < qc_settings.reference.max_t1_rank_correlation < failed
    assert fat_suppression_flag(good, qc_settings) is None
    flag = fat_suppression_flag(failed, qc_settings)
    assert flag.code == "reference_implausible" and flag.severity == BLOCKING
    assert "fat suppression failed" in flag.reason
    assert fat_suppression_flag(None, qc_settings) is None  # no T1: no evidence either way


def test_assess_hips_flags_both_hips_when_the_t1_says_fat_is_not_suppressed(qc_settings):
    image, t1 = _tissue_pair(False)
    heads = [_head((-20.0, 0.0, 0.0), reference=_reference(50.0)),
             _head((20.0, 0.0, 0.0), reference=_reference(50.0, side="right"), side=Side.RIGHT)]
    seg = Segmentation(np.zeros(image.geometry.shape, np.uint8), image.geometry, heads,
                       np.zeros(image.geometry.shape, bool), heads[0].reference)
    with_t1 = assess_hips(image, seg, qc_settings, t1)
    assert len(with_t1) == 2
    assert all(any(f.code == "reference_implausible" and "fat suppression failed" in f.reason
                   for f in hip.flags) for hip in with_t1)
    assert all([f.code for f in hip.flags].count("reference_implausible") == 1 for hip in with_t1)
    assert all(hip.measures["t1_rank_correlation"] > 0.5 for hip in with_t1)
    without = assess_hips(image, seg, qc_settings)
    assert not any("fat suppression failed" in f.reason for hip in without for f in hip.flags)


def test_one_blocking_test_for_flags_dicts_and_report_tuples():
    from bme_mri.quantify.qc import QcFlag, blocking_flags, is_blocking, is_measured

    flag = QcFlag("not_fat_suppressed", "fat bright", BLOCKING)
    warn = QcFlag("fat_suppression_unverified", "could not verify fat suppression: no skin", WARNING)
    assert is_blocking(flag) and is_blocking(flag.to_dict()) and is_blocking(("x", BLOCKING, "r"))
    assert not is_blocking(warn) and not is_blocking(warn.to_dict()) and not is_blocking(("x", WARNING, "r"))
    assert blocking_flags([warn, flag, warn.to_dict(), flag.to_dict()]) == [flag, flag.to_dict()]
    assert is_measured(3.0, 0.0, [warn]) and not is_measured(3.0, 0.0, [flag]) and not is_measured(None, 0.0, [])
