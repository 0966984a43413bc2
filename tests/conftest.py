import pytest

from models._xinference import client as client_module
from models._xinference.model_info import DESCRIPTIONS


@pytest.fixture(autouse=True)
def _fresh_process_state():
    """Each test starts like a fresh plugin process: no cached descriptions, no pooled sessions."""
    DESCRIPTIONS.clear()
    client_module._sessions.clear()
    yield
    DESCRIPTIONS.clear()
    client_module._sessions.clear()


@pytest.fixture(autouse=True)
def _no_sleep(monkeypatch):
    """Retries back off with time.sleep; tests must not wait for real."""
    monkeypatch.setattr("models._xinference.retry.time.sleep", lambda _s: None)
