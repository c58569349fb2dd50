"""Siaga benchmarks (``make bench``; results in ``bench/results/``)."""
