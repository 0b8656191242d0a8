"""Report tests reuse the compare fixtures (the `compare` config section)."""

from tests.compare.conftest import compare_settings  # noqa: F401
