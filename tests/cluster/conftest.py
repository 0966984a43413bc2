"""Tests against a REAL two-worker Xinference 4.1.0 cluster, through one real plugin process.

They need the cluster that `make test-cluster` (tools/real_xinference/run_cluster.py) starts; without its
environment variables nothing here is collected, so `make test` never runs them.

  XINFERENCE_CLUSTER_URL      the supervisor's REST API (auth off)
  XINFERENCE_CLUSTER_WORKERS  JSON: worker name (a, b) → {address, pgid, metrics_port}
  XINFERENCE_CLUSTER_UIDS     JSON: role (llm, embed) → model uid
  XINFERENCE_CLUSTER_REPORT   where the tests write their numbers (JSON)
"""

from __future__ import annotations

import pytest

from tests.cluster.support import CLUSTER_URL

if not CLUSTER_URL:
    collect_ignore_glob = ["test_*.py"]


def pytest_report_header(config):
    if not CLUSTER_URL:
        return "tests/cluster: not collected (no real cluster; `make test-cluster` runs them)"
    return None


@pytest.fixture(scope="session")
def plugin():
    """One plugin process for the whole run, as the Dify daemon keeps one; started guarded (no host
    but 127.0.0.1), like every other tier's plugin."""
    from tests.plugin_process import GuardedPluginProcess

    proc = GuardedPluginProcess()
    proc.start(timeout=60)
    yield proc
    proc.stop()
