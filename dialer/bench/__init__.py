"""Benchmark scripts: each prints a table of measured figures (`dialer bench ...`)."""
