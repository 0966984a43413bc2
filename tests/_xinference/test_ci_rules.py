"""CI cannot pass by skipping: a tier that ran no test fails, nothing from the environment narrows a
tier, and the cluster tier runs under the process-test time cap (its worker-loss bound is 150 s)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import _PROCESS_DIRS, PROCESS_TEST_TIMEOUT

ROOT = Path(__file__).resolve().parents[2]
CI_RUN = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
WORKER_LOSS_BOUND = 150  # s, tests/cluster/test_cluster.py DETECTION_BOUND


def test_ci_clears_what_could_narrow_a_tier_and_requires_tests():
    head = CI_RUN.split("make test", 1)[0]
    assert "unset ARGS COMPAT_RELEASES" in head
    assert "REQUIRE_TESTS=1" in head


def test_the_cluster_tier_runs_under_the_process_cap():
    assert str(ROOT / "tests" / "cluster") in _PROCESS_DIRS
    assert PROCESS_TEST_TIMEOUT > WORKER_LOSS_BOUND
    assert "GuardedPluginProcess" in (ROOT / "tests" / "cluster" / "conftest.py").read_text(encoding="utf-8")


def _pytest_in(folder: Path, body: str, **env: str) -> int:
    (folder / "test_x.py").write_text(body, encoding="utf-8")
    (folder / "conftest.py").write_text(
        f"import sys; sys.path.insert(0, {str(ROOT)!r})\nfrom tests.conftest import pytest_sessionfinish\n",
        encoding="utf-8",
    )
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(folder)]
    environment = {**os.environ, **env}
    return subprocess.run(
        command, cwd=folder, env=environment, capture_output=True, timeout=120, check=False
    ).returncode


@pytest.mark.slow
@pytest.mark.parametrize(
    ("body", "required", "code"),
    [
        ("import pytest\n@pytest.mark.skip('no server')\ndef test_a(): pass\n", "1", 1),  # all skipped
        ("import pytest\n@pytest.mark.skip('no server')\ndef test_a(): pass\n", "0", 0),  # a developer run
        ("def test_a(): pass\n", "1", 0),
        ("", "1", 5),  # nothing selected: pytest's own exit 5, never 0
    ],
    ids=["skipped-ci", "skipped-dev", "passed-ci", "empty-ci"],
)
def test_a_tier_that_ran_nothing_fails_in_ci(tmp_path, body, required, code):
    assert _pytest_in(tmp_path, body, REQUIRE_TESTS=required) == code


@pytest.mark.slow
def test_an_empty_release_list_fails_test_compat():
    done = subprocess.run(
        ["make", "-s", "test-compat-releases", "COMPAT_RELEASES="],
        cwd=ROOT,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0 and b"COMPAT_RELEASES is empty" in done.stdout
