"""Report stage."""
