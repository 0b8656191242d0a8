"""Phantom stage."""
