"""Benchmark of the model service against a minimal reference service: `python -m bench`."""
