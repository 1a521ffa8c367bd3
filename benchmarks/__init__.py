"""Benchmarks for flask-twitsocket: ``make bench`` (``python -m benchmarks``) runs them all."""
