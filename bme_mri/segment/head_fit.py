"""One candidate head centre -> one measured sphere: the cortical-shell fit, or on a fat-bright
series the step-edge fit (the shell fit where the step fit finds no sound sphere).

Shared by the classical finder (:mod:`bme_mri.segment.classical`, at each vote peak) and the
learned finder's check (:mod:`bme_mri.segment.learned`, at each network head). Frames: the
LPS-aligned isotropic working grid (array ``[x, y, z]``, LPS ``origin + spacing x index``);
centres in LPS mm, distances in mm.
"""

from __future__ import annotations

import numpy as np

from bme_mri.segment.fatty_marrow import fit_head_step
from bme_mri.segment.localize import SphereFit, fit_head_sphere
from bme_mri.segment.settings import LocalizeSettings


def sound_fit(fit: SphereFit | None, settings: LocalizeSettings) -> bool:
    """The finder's own floor for a head: boundary on enough rays, little scatter, a shell
    darker than both sides (a step fit's contrast: marrow brighter than beyond)."""
    return (fit is not None and fit.quality >= settings.min_boundary_fraction
            and fit.residual_mm <= settings.max_fit_residual_mm and fit.shell_contrast > 0.0)


def shell_fit(smooth: np.ndarray, spacing: float, origin: np.ndarray, start_mm: np.ndarray,
              scale: float, settings: LocalizeSettings) -> SphereFit | None:
    """The cortical-shell sphere fit at ``start_mm``, retried with the fallback shell contrast
    when the first fit is not sound (a faint cortex: edema inside, thick slices)."""
    fit = fit_head_sphere(smooth, spacing, origin, start_mm, scale, settings)
    if not sound_fit(fit, settings) and settings.fallback_shell_contrast < settings.min_shell_contrast:
        weak = settings.model_copy(update={"min_shell_contrast": settings.fallback_shell_contrast})
        fit = fit_head_sphere(smooth, spacing, origin, start_mm, scale, weak) or fit
    return fit


def fit_candidate(smooth: np.ndarray, spacing: float, origin: np.ndarray, start_mm: np.ndarray,
                  scale: float, settings: LocalizeSettings,
                  covered: np.ndarray | None = None) -> SphereFit | None:
    """The sphere of the head near ``start_mm`` (LPS mm) on the working grid (``smooth``: the
    smoothed body-normalised working image; ``scale``: its body level).

    ``covered`` (the working-grid voxels inside the field of view) marks a fat-bright series:
    the step-edge fit (:func:`~bme_mri.segment.fatty_marrow.fit_head_step`) applies, and with
    ``step_edge_try_shell`` the shell fit is tried where the step fit finds no sound sphere
    (real 3D PD reference slabs: surface-coil shading, marrow no brighter than muscle, the
    head a dark cortical ring; the step fits drifted 3-13 mm with residuals 1.7-3.0 mm). The
    step fit stays first: on fat-bright T2 the shell fit takes the acetabular rim. Without
    ``covered`` the shell fit applies. None when no fit converged.
    """
    if covered is None:
        return shell_fit(smooth, spacing, origin, start_mm, scale, settings)
    step = fit_head_step(smooth, spacing, origin, start_mm, covered, scale, settings)
    if sound_fit(step, settings) or not settings.step_edge_try_shell:
        return step
    shell = shell_fit(smooth, spacing, origin, start_mm, scale, settings)
    return shell if sound_fit(shell, settings) else step
