"""bme-mri: bone marrow edema of the hip on MRI, measured in ml.

Research software, not a medical device: every number it produces must be read by a
qualified person before it informs any clinical decision.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
