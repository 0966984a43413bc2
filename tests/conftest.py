import os
from pathlib import Path

import pytest

from models._xinference.process_state import reset_process_state
from tests.plugin_process import new_blocked_contacts
from tests.reliability.offline import offline_guard

# Offline guard for the whole run, installed at import so collection is covered too: any connection
# or name lookup outside loopback raises, and the fixture below fails the test that caused it.
offline_guard.install()

PROCESS_TEST_TIMEOUT = 300  # s; plugin processes, servers, packaging on a loaded 2-core machine
_PROCESS_DIRS = tuple(
    str(Path(__file__).parent / d) for d in ("e2e", "reliability", "real", "cluster", "offline")
)
# Set by .ci/run: a tier whose tests were all skipped (or that selected none) fails instead of passing
REQUIRE_TESTS = os.environ.get("REQUIRE_TESTS") == "1"


def pytest_collection_modifyitems(config, items):
    """The generous cap for tests that start processes (pytest.ini's `timeout` is for the rest), and
    the `in_process` marker on every other test: `make test-fast` runs only those."""
    for item in items:
        starts_processes = item.get_closest_marker("slow") or str(item.fspath).startswith(_PROCESS_DIRS)
        if item.get_closest_marker("in_process"):  # marked by hand: in a process directory, but in-process
            continue
        if not starts_processes:
            item.add_marker(pytest.mark.in_process)
        elif not item.get_closest_marker("timeout"):
            item.add_marker(pytest.mark.timeout(PROCESS_TEST_TIMEOUT))


def pytest_sessionfinish(session, exitstatus):
    """Under REQUIRE_TESTS, a run in which no test passed is a failure: a tier cannot pass by skipping."""
    if not REQUIRE_TESTS or exitstatus != 0:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    stats = reporter.stats if reporter else {}
    if not stats.get("passed"):
        skipped = len(stats.get("skipped", []))
        print(f"\nREQUIRE_TESTS: no test passed ({skipped} skipped): this tier did not run", flush=True)
        session.exitstatus = 1


@pytest.fixture(autouse=True)
def _offline_guard():
    yield  # violations from collection or module fixtures are reported by the next test, not dropped
    if blocked := offline_guard.take_violations():
        pytest.fail("contacted a host other than 127.0.0.1:\n" + "\n".join(blocked), pytrace=False)
    if blocked := new_blocked_contacts():  # from a plugin process (or other child) the suite started
        pytest.fail(
            "a child process contacted a host other than 127.0.0.1:\n" + "\n".join(blocked), pytrace=False
        )


@pytest.fixture(autouse=True)
def _fresh_process_state():
    """Each test starts like a fresh plugin process: nothing cached (descriptions, schemas, memoised
    credential parses: a parse remembered from an earlier test would hide what this one exercises, from the
    test and from mutation testing's coverage map), no pooled sessions."""
    reset_process_state()
    yield
    reset_process_state()


@pytest.fixture(autouse=True)
def _no_sleep(monkeypatch) -> list[float]:
    """Retries back off with time.sleep; tests must not wait for real. The waits asked for are recorded
    instead of hidden: a test takes the `slept` fixture to read them."""
    waits: list[float] = []
    monkeypatch.setattr("models._xinference.retry.time.sleep", waits.append)
    return waits


@pytest.fixture
def slept(_no_sleep) -> list[float]:
    """Every retry wait (seconds) the code under test asked for, in order."""
    return _no_sleep
