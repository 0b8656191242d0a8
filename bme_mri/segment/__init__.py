"""Segment stage."""
