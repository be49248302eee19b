"""Peer record-linkage systems that bidui's engine is benchmarked against (FEBRL4).

Each peer module exposes ``run_<peer>_febrl4(with_id: bool, ...) -> dict`` with at least the keys
``precision``, ``recall``, ``f1``, ``seconds`` and ``pairs_predicted``; all of them score through
:func:`benchmarks.peers.scoring.score_pairs`.

Splink is a benchmark-only dependency (``benchmarks/requirements-bench.txt``): it is imported lazily
inside :mod:`benchmarks.peers.splink_febrl` and never by anything under ``pipeline/``.
"""
