"""Benchmarks with budgets: how much the plugin adds on top of the network.

Run `python -m bench` (full), `python -m bench --quick` (fewer repetitions), `python -m bench --check`
(exit 1 when a budget is missed). Budgets live in bench/budgets.py; results go to bench/results.json.
These are measurements, not tests: nothing here runs under `make test`.
"""
