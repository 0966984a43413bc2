"""Tests against a REAL Xinference 4.1.0 server, through the real plugin process (stdio protocol).

They need the server that `make test-real` (tools/real_xinference/run.py) starts; without its environment
variables every test here is skipped, so `make test` never runs them.

  XINFERENCE_REAL_URL       open server (auth off) with the models below launched
  XINFERENCE_REAL_PID       its pid (test_zz_server_stop.py stops it as the very last test)
  XINFERENCE_REAL_AUTH_URL  server with auth on (test_auth.py)
  XINFERENCE_REAL_API_KEY   an API key created on that server (never printed)
  XINFERENCE_REAL_UIDS      JSON: role → model uid
                            (embed, rerank, llm, llm_base, reasoning, reasoning_default, stt, tts,
                             gguf_llm, gguf_reasoning, …)
"""

from __future__ import annotations

import os

import pytest

from tests.real.support import AUTH_URL, OPEN_URL, UIDS

# Without any server (plain `make test`) nothing here is even collected: no noise, no failures.
if not OPEN_URL and not AUTH_URL:
    collect_ignore_glob = ["test_*.py"]


# Modules whose models only the 4.1.0 run sets up (their packages live in that venv): older releases skip them
ROLES_OF_MODULE = {
    "test_multimodal.py": "clip",
    "test_speech2text.py": "stt",
    "test_tts.py": "tts",
    "test_llamacpp.py": "gguf_llm",
}


def pytest_report_header(config):
    if not OPEN_URL and not AUTH_URL:
        return "tests/real: not collected (no real Xinference; `make test-real` runs them)"
    return None


def pytest_collection_modifyitems(config, items):
    here = os.path.dirname(__file__)
    for item in items:
        if not str(item.fspath).startswith(here):
            continue
        needs_auth = item.fspath.basename == "test_auth.py"
        needs_role = ROLES_OF_MODULE.get(item.fspath.basename)
        if needs_role and (OPEN_URL or AUTH_URL) and needs_role not in UIDS:
            reason = (
                f"no {needs_role!r} model on this server: images, speech and llama.cpp run on 4.1.0"
                " (make test-real)"
            )
            item.add_marker(pytest.mark.skip(reason=reason))
        elif needs_auth and not AUTH_URL:
            item.add_marker(pytest.mark.skip(reason="needs a real Xinference with auth (make test-real)"))
        elif not needs_auth and not OPEN_URL:
            item.add_marker(pytest.mark.skip(reason="needs a real Xinference (make test-real)"))


@pytest.fixture(scope="session")
def plugin():
    """One plugin process for the whole run, as the Dify daemon keeps one (guarded: 127.0.0.1 only)."""
    from tests.plugin_process import GuardedPluginProcess

    proc = GuardedPluginProcess()
    proc.start(timeout=60)
    yield proc
    proc.stop()
