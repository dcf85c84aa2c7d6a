"""Plumbing shared by both services: the fail-open Redis store, caches, the LRU, rate
limits, logs, the unexpected-error report, gunicorn serving, networks.

Imports nothing of the project but `tickercast.errors` (and the package's version)."""
