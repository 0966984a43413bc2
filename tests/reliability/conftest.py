"""Fixtures of the reliability suite: the hostile servers, one guarded plugin process per module,
a DEBUG-level capture of every in-process log record for the secrets check, and that check over
everything the run collected (a session finalizer)."""

from __future__ import annotations

import logging
import traceback

import pytest

from tests.reliability.hostile_server import HostileServer
from tests.reliability.plugin_harness import EVIDENCE, GuardedPlugin, evidence_leaks


class _EvidenceHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += "\n" + "".join(traceback.format_exception(*record.exc_info))
        EVIDENCE.add(text)


@pytest.fixture(scope="session", autouse=True)
def _capture_logs_at_debug():
    root = logging.getLogger()
    handler, level = _EvidenceHandler(logging.DEBUG), root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield
    root.removeHandler(handler)
    root.setLevel(level)


@pytest.fixture(scope="session", autouse=True)
def _no_key_in_anything_collected():
    """A finalizer over the whole reliability run, after every module's plugin process has stopped:
    the key is in nothing the suite collected (test_secrets.py checks what was collected by then)."""
    yield
    leaks = evidence_leaks()
    assert leaks == [], f"the API key leaked: {leaks[:3]}"


@pytest.fixture(autouse=True)
def _keep_error_texts(request):
    """Exceptions a test saw (their messages and tracebacks) are evidence too."""
    yield
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.longrepr:
        EVIDENCE.add(str(report.longrepr))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(scope="module")
def hostile():
    """The hostile server, plus a second one on another loopback address as the redirect target."""
    with HostileServer() as server, HostileServer(host="127.0.0.2") as other:
        server.redirect_to(other.origin)
        server.other = other
        yield server


@pytest.fixture(scope="module")
def plugin():
    process = GuardedPlugin()
    process.start()
    yield process
    try:
        assert process.blocked_contacts() == [], "the plugin process tried to reach a non-loopback host"
        assert process.violations == [], f"stdio protocol violations: {process.violations[:5]}"
    finally:
        process.stop()
