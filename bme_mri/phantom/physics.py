"""Acquisition physics applied after partial-volume sampling: bias field and Rician noise.

* Bias (coil sensitivity): a smooth multiplicative field ``1 + amplitude * f(x)`` with
  ``f`` a normalised sum of a few long-wavelength (default 250-600 mm) cosines in patient LPS
  mm, so it varies by up to +/- ``amplitude`` (<= 0.35) over a both-hips field of view and is
  the same physical field for every series of one study. Shorter wavelengths (a surface coil
  close to the body) make the field vary more across one femoral head.
* Noise: magnitude images have Rician noise, ``|S + n_re + i n_im|`` with
  ``n ~ N(0, sigma^2)``. ``sigma = S_muscle / snr`` where ``S_muscle`` is the noise-free
  muscle signal of that sequence, so "SNR 10-40" means muscle SNR.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class BiasField:
    """Smooth multiplicative field; ``amplitude`` 0 means none."""

    amplitude: float
    waves: tuple[tuple[float, float, float, float], ...]  # (kx, ky, kz, phase) rad/mm

    def __call__(self, xyz_lps: np.ndarray) -> np.ndarray:
        if self.amplitude <= 0 or not self.waves:
            return np.ones(xyz_lps.shape[0], np.float32)
        total = np.zeros(xyz_lps.shape[0], np.float64)
        for kx, ky, kz, phase in self.waves:
            total += np.cos(xyz_lps @ np.array([kx, ky, kz]) + phase)
        total /= len(self.waves)  # in [-1, 1]
        return (1.0 + self.amplitude * total).astype(np.float32)


def make_bias(rng: np.random.Generator, amplitude: float,
              wavelength_mm: tuple[float, float] = (250.0, 600.0)) -> BiasField:
    """Random smooth field with peak deviation ``amplitude`` (fraction, <= 0.35; the ``stress``
    cohort uses 0.3) from 3 cosines whose wavelengths are drawn within ``wavelength_mm``."""
    waves = []
    for _ in range(3):
        direction = rng.normal(0, 1, 3)
        direction /= np.linalg.norm(direction)
        k = direction * 2 * np.pi / rng.uniform(*wavelength_mm)
        waves.append((float(k[0]), float(k[1]), float(k[2]), float(rng.uniform(0, 2 * np.pi))))
    return BiasField(amplitude=float(min(amplitude, 0.35)), waves=tuple(waves))


def add_rician_noise(image: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Magnitude of the image plus complex Gaussian noise of standard deviation ``sigma``."""
    if sigma <= 0:
        return image.astype(np.float32)
    real = image + rng.normal(0.0, sigma, image.shape)
    imag = rng.normal(0.0, sigma, image.shape)
    return np.sqrt(real**2 + imag**2).astype(np.float32)
