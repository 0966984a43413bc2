"""A cluster worker that died: the supervisor's 500 names the worker; the plugin's message explains it."""

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


def test_dead_worker_500_names_the_worker_and_what_to_do():
    client = XinferenceClient(parse_credentials(raw_credentials(max_retries="3")))
    with responses.RequestsMock() as mock:
        mock.post(SERVER + "/v1/chat/completions", status=500, json=DEAD_WORKER)
        with pytest.raises(InvokeServerUnavailableError) as info:
            client.post_json("/v1/chat/completions", {"model": "test-llm"})
        assert len(mock.calls) == 1  # a 500 is not retried: the policy stays as it is
    message = str(info.value)
    assert "HTTP 500" in message and "Connect call failed" in message  # the server's own words stay
    assert "worker at 127.0.0.1:39375" in message and "is down" in message
    assert "replica" in message and "retry" in message
    assert "see its log" not in message  # the generic 5xx hint gives way to the specific one


def test_other_details_get_no_worker_hint():
    assert worker_down_hint("Model not found in the model list, uid: x") == ""
    assert worker_down_hint("") == ""
