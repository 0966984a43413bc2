"""A cluster worker that died: the supervisor's 500 names the worker. The plugin retries it (the model never
saw the request; the next attempt goes to the next replica) and, if it persists, explains it."""

import pytest
import responses
from dify_plugin.errors.model import InvokeServerUnavailableError

from models._xinference.client import XinferenceClient
from models._xinference.credentials import parse_credentials
from models._xinference.server_faults import worker_down_hint
from tests.helpers import SERVER, raw_credentials

# Real body from `make test-cluster` (Xinference 4.1.0): chat routed to the replica on a killed worker,
# before the supervisor's health check had dropped that worker.
DEAD_WORKER = {
    "detail": "[address=127.0.0.1:54940, pid=13241] [Errno 111] Connect call failed ('127.0.0.1', 39375)"
}


def test_dead_worker_500_is_retried_and_the_next_replica_answers():
    client = XinferenceClient(parse_credentials(raw_credentials(max_retries="2")))
    with responses.RequestsMock() as mock:
        mock.post(SERVER + "/v1/chat/completions", status=500, json=DEAD_WORKER)
        mock.post(SERVER + "/v1/chat/completions", json={"ok": True})
        assert client.post_json("/v1/chat/completions", {"model": "test-llm"}) == {"ok": True}
        assert len(mock.calls) == 2


def test_dead_worker_500_after_the_retries_names_the_worker_and_what_to_do():
    client = XinferenceClient(parse_credentials(raw_credentials(max_retries="2")))
    with responses.RequestsMock() as mock:
        mock.post(SERVER + "/v1/chat/completions", status=500, json=DEAD_WORKER)
        with pytest.raises(InvokeServerUnavailableError) as info:
            client.post_json("/v1/chat/completions", {"model": "test-llm"})
        assert len(mock.calls) == 3  # the first try and Max retries (2)
    message = str(info.value)
    assert "HTTP 500" in message and "Connect call failed" in message  # the server's own words stay
    assert "worker at 127.0.0.1:39375" in message and "is down" in message
    assert "replica" in message and "already retried (Max retries)" in message
    assert "see its log" not in message  # the generic 5xx hint gives way to the specific one


@pytest.mark.parametrize(
    "body",
    [
        {"detail": "CUDA out of memory"},  # a model failure: the work may have started, never repeated
        {"detail": "Model not found in the model list, uid: test-llm"},
    ],
)
def test_other_500s_are_not_retried(body):
    client = XinferenceClient(parse_credentials(raw_credentials(max_retries="5")))
    with responses.RequestsMock() as mock:
        mock.post(SERVER + "/v1/chat/completions", status=500, json=body)
        with pytest.raises(InvokeServerUnavailableError):
            client.post_json("/v1/chat/completions", {"model": "test-llm"})
        assert len(mock.calls) == 1


def test_other_details_get_no_worker_hint():
    assert worker_down_hint("Model not found in the model list, uid: x") == ""
    assert worker_down_hint("") == ""
