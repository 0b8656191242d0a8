"""Tissue classes of the phantom and their signal on STIR, T1 and T2 fat-sat.

Sources and honesty
-------------------
No published table of *relative* intensities of hip tissues on STIR / T1 / T2-FS was found
(see shared/DOMAIN.md). The phantom therefore evaluates textbook signal equations on
relaxation times at 1.5 T:

* proton density ``PD`` (relative, fluid = 1), ``T1`` and ``T2`` in ms;
* spin echo / turbo spin echo (T1, T2, PD):
  ``S = PD * (1 - exp(-TR/T1)) * exp(-TE/T2)``;
* inversion recovery (STIR), magnitude image, long TR:
  ``S = |PD * (1 - 2 exp(-TI/T1) + exp(-TR/T1)) * exp(-TE/T2)|``; the signed value is kept
  per component so that fat and water mix before the magnitude is taken;
* T2 fat-sat: the spin-echo equation with the fat component scaled by ``FAT_SAT_RESIDUAL``.

Relaxation times (1.5 T), approximate and rounded, as tabulated by
Gold GE et al., "Musculoskeletal MRI at 3.0 T: relaxation times and image contrast",
AJR 2004;183:343-351 (cartilage, synovial fluid, muscle, marrow, subcutaneous fat) and
Stanisz GJ et al., "T1, T2 relaxation and magnetization transfer in tissue at 3T",
MRM 2005;54:507-512 (muscle, cartilage, for cross-checking orders of magnitude).
Values for tissues in neither table are *assumptions of this phantom*, marked ``assumed``:
urine (taken equal to free fluid), cortical bone and the sclerotic rim (very short T2, tiny
visible PD: dark on every sequence), the water component of edematous marrow and the
granulation tissue of the double-line sign (long T1/T2, "fluid-like but less so").
Edematous marrow is modelled as a mixture of the fatty marrow component and a water
component (``EDEMA_WATER_FRACTION``), which makes it bright on STIR and T2-FS and dark on T1
as described radiologically (DOMAIN.md: Khoury 2003 and the BMES literature).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np


class Tissue(IntEnum):
    """Tissue codes of the continuous phantom model (not the truth labels)."""

    AIR = 0
    FAT = 1  # subcutaneous / intermuscular fat
    MUSCLE = 2
    CORTEX = 3  # cortical bone of femur and pelvis
    MARROW = 4  # fatty (yellow) marrow of the proximal femur; edema mixes into it
    PELVIC_MARROW = 5  # pelvic marrow: some red marrow, slightly brighter on STIR
    CARTILAGE = 6
    FLUID = 7  # joint effusion
    URINE = 8  # bladder
    NECROTIC_CORE = 9  # inside an osteonecrosis: marrow-like (fatty) signal
    SCLEROTIC_RIM = 10  # the low-signal band bounding the lesion
    GRANULATION = 11  # bright inner line of the double-line sign
    EDEMA_WATER = 12  # water component of edematous marrow (never a tissue by itself)


@dataclass(frozen=True)
class Relaxation:
    """Relative proton density, T1 and T2 (ms) at 1.5 T, and the fat fraction of the signal."""

    pd: float
    t1_ms: float
    t2_ms: float
    fat: bool = False  # True: the component is suppressed by spectral fat saturation


# Rounded 1.5 T values (see module docstring for sources; "assumed" = not from a table).
RELAXATION: dict[Tissue, Relaxation] = {
    Tissue.AIR: Relaxation(0.0, 1000.0, 1.0),
    Tissue.FAT: Relaxation(0.95, 300.0, 133.0, fat=True),  # ~Gold 2004, subcutaneous fat
    Tissue.MUSCLE: Relaxation(0.80, 1008.0, 44.0),  # Gold 2004 / Stanisz 2005
    Tissue.CORTEX: Relaxation(0.05, 1000.0, 1.0),  # assumed: no visible signal
    Tissue.MARROW: Relaxation(0.90, 288.0, 165.0, fat=True),  # Gold 2004, femoral marrow
    Tissue.PELVIC_MARROW: Relaxation(0.85, 340.0, 120.0, fat=True),  # assumed: some red marrow
    Tissue.CARTILAGE: Relaxation(0.75, 1024.0, 30.0),  # Gold 2004, hyaline cartilage
    Tissue.FLUID: Relaxation(1.0, 2850.0, 1210.0),  # Gold 2004, synovial fluid
    Tissue.URINE: Relaxation(1.0, 2850.0, 1210.0),  # assumed equal to free fluid
    Tissue.NECROTIC_CORE: Relaxation(0.85, 300.0, 150.0, fat=True),  # assumed: marrow-like
    Tissue.SCLEROTIC_RIM: Relaxation(0.10, 1000.0, 5.0),  # assumed: dark band
    Tissue.GRANULATION: Relaxation(0.95, 1500.0, 250.0),  # assumed: bright inner line
    Tissue.EDEMA_WATER: Relaxation(1.0, 1200.0, 110.0),  # assumed: edematous marrow water
}

# Fraction of the marrow signal replaced by water in fully edematous marrow (assumed).
EDEMA_WATER_FRACTION = 0.6
# Residual fat signal after spectral fat saturation (assumed; typical SPIR/SPAIR quality).
FAT_SAT_RESIDUAL = 0.12


@dataclass(frozen=True)
class SequenceParams:
    """Timing of one acquisition (ms). ``ti_ms`` > 0 makes it inversion recovery."""

    kind: str  # 'stir' | 't1' | 't2fs' | 't2' | 'pd' | 'localizer' | 'dwi'
    tr_ms: float
    te_ms: float
    ti_ms: float = 0.0
    fat_sat: bool = False
    fat_not_nulled: bool = False  # failed fat suppression: no inversion / fat-sat effect at all


def _signed_signal(relax: Relaxation, seq: SequenceParams) -> float:
    transverse = np.exp(-seq.te_ms / relax.t2_ms)
    if seq.fat_not_nulled:
        # failed fat suppression (assumed model: the inversion or fat-sat pulse had no effect,
        # e.g. a B0/B1 failure): every tissue relaxes as in a spin echo of the same TR/TE, so fat
        # and fatty marrow are bright, brighter than muscle, and edema is nearly iso-intense
        return float(relax.pd * (1.0 - np.exp(-seq.tr_ms / relax.t1_ms)) * transverse)
    if seq.ti_ms > 0:
        longitudinal = 1.0 - 2.0 * np.exp(-seq.ti_ms / relax.t1_ms) + np.exp(-seq.tr_ms / relax.t1_ms)
    else:
        longitudinal = 1.0 - np.exp(-seq.tr_ms / relax.t1_ms)
    value = relax.pd * longitudinal * transverse
    if seq.fat_sat and relax.fat:
        value *= FAT_SAT_RESIDUAL
    return float(value)


def intensity_table(seq: SequenceParams) -> np.ndarray:
    """Noise-free magnitude per :class:`Tissue` code (index = code), float32.

    The entry for ``EDEMA_WATER`` is the magnitude of *fully edematous marrow* (the
    fat/water mixture), ready to be blended with ``MARROW`` by an edema fraction.
    """
    table = np.zeros(len(Tissue), dtype=np.float64)
    for tissue, relax in RELAXATION.items():
        table[tissue] = abs(_signed_signal(relax, seq))
    marrow = _signed_signal(RELAXATION[Tissue.MARROW], seq)
    water = _signed_signal(RELAXATION[Tissue.EDEMA_WATER], seq)
    table[Tissue.EDEMA_WATER] = abs((1 - EDEMA_WATER_FRACTION) * marrow + EDEMA_WATER_FRACTION * water)
    if seq.kind == "dwi":  # a diffusion-like "other" series: flat, fluid-dark, low contrast
        table = 0.3 + 0.2 * table / max(table.max(), 1e-6)
        table[Tissue.AIR] = 0.0
    return table.astype(np.float32)
