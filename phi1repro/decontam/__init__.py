"""Contamination measures between training data and benchmark problems (phi-1 Section 5)."""
