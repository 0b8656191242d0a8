"""Quantify stage."""
