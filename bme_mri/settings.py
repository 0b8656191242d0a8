"""Base class for every configuration section: unknown keys are errors, values are typed.

Each stage declares its own section model (``bme_mri/<stage>/settings.py``) deriving from
:class:`Section`; fields have **no defaults in code** — ``configs/default.yaml`` is the one
place where thresholds live, and :mod:`bme_mri.config` merges a user file over it.

Values are checked for meaning, not only type, with the constrained types below (pydantic
``Field`` bounds): no negative lengths (mm), volumes (ml) or counts, fractions in [0, 1],
percentiles in [0, 100], ``(low, high)`` ranges with low < high. Two fields that form a
min/max pair are listed in a section's ``ordered_fields``; :meth:`Section._check_order`
refuses ``low >= high``. :func:`bme_mri.config.load_config` turns a violation into one line
naming the dotted key.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

Positive = Annotated[float, Field(gt=0)]  # a length, size or scale that must be > 0 (mm, ...)
NonNegative = Annotated[float, Field(ge=0)]  # mm, ml, sd multiples, tolerances: >= 0
Fraction = Annotated[float, Field(ge=0, le=1)]  # a fraction or probability in [0, 1]
Percentile = Annotated[float, Field(ge=0, le=100)]  # a percentile, in [0, 100]
Angle = Annotated[float, Field(ge=0, le=180)]  # an angle between directions (deg), in [0, 180]
Count = Annotated[int, Field(ge=1)]  # a number of things (voxels, bins, iterations): >= 1
NonNegativeInt = Annotated[int, Field(ge=0)]


def _ordered_pair(pair: tuple[float, float]) -> tuple[float, float]:
    low, high = pair
    if not low < high:
        raise ValueError(f"must be [low, high] with low < high (got [{low:g}, {high:g}])")
    return pair


PositiveRange = Annotated[tuple[Positive, Positive], AfterValidator(_ordered_pair)]  # [low, high], 0 < low < high


class Section(BaseModel):
    """A config section: forbids unknown keys, validates assignments, immutable.

    ``ordered_fields``: pairs ``(low, high)`` of field names whose values must satisfy
    ``low < high`` (e.g. ``("radius_min_mm", "radius_max_mm")``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    ordered_fields: ClassVar[tuple[tuple[str, str], ...]] = ()

    @model_validator(mode="after")
    def _check_order(self):
        for low, high in self.ordered_fields:
            a, b = getattr(self, low), getattr(self, high)
            if not a < b:
                # the message starts with the field name: load_config prefixes the section's key
                raise ValueError(f"{low} must be < {high} (got {a:g} >= {b:g})")
        return self
