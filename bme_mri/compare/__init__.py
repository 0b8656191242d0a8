"""Compare stage."""
