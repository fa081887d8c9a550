"""Benchmarks of the forum's thread reads and writes (see bench/README.md).

Run with ``make bench``; nothing here is imported by the application or the tests.
"""
