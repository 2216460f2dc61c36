"""Serving: `napkin serve-size` and `napkin latency`."""
