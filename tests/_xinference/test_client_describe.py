"""Reading a model's description and JSON answers through the one client: only a 400 saying "not
found" means the model is not running, a description without a model type is refused, and a body
that is not JSON names the request."""

import pytest
import responses
from dify_plugin.errors.model import InvokeBadRequestError, InvokeServerUnavailableError

from models._xinference.errors import ModelNotRunningError
from models._xinference.model_info import DESCRIPTIONS
from tests._xinference.client_support import CHAT, client
from tests.helpers import SERVER


@pytest.fixture(autouse=True)
def _fresh_cache():
    DESCRIPTIONS.clear()
    yield
    DESCRIPTIONS.clear()


def test_a_400_that_does_not_say_not_found_is_not_a_missing_model():
    with responses.RequestsMock() as mock:
        mock.get(SERVER + "/v1/models/test-llm", status=400, json={"detail": "Invalid model spec"})
        with pytest.raises(InvokeBadRequestError) as info:
            client().describe()
    assert not isinstance(info.value, ModelNotRunningError)
    assert "Invalid model spec" in str(info.value)


def test_a_description_without_a_model_type_is_refused():
    with responses.RequestsMock() as mock:
        mock.get(SERVER + "/v1/models/test-llm", json={"model_name": "x"})
        with pytest.raises(InvokeServerUnavailableError) as info:
            client().describe()
    assert str(info.value) == (
        "Xinference sent an unusable answer to the description of model 'test-llm': "
        "no model_type in the description"
    )


@pytest.mark.parametrize(
    ("method", "url", "call"),
    [
        ("GET", SERVER + "/v1/models", lambda c: c.get_json("/v1/models", what="the list")),
        ("POST", CHAT, lambda c: c.post_json("/v1/chat/completions", {}, what="the list")),
    ],
)
def test_a_body_that_is_not_json_names_the_request(method, url, call):
    with responses.RequestsMock() as mock:
        mock.add(method, url, body=b"oops", content_type="application/json")
        with pytest.raises(InvokeServerUnavailableError) as info:
            call(client())
    assert str(info.value) == "Xinference sent an unusable answer to the list: the body is not JSON: 'oops'"


def test_a_model_list_that_is_not_json_names_the_model_list():
    with responses.RequestsMock() as mock:
        mock.get(SERVER + "/v1/models", body=b"oops", content_type="application/json")
        with pytest.raises(InvokeServerUnavailableError) as info:
            client().list_models()
    assert str(info.value) == (
        "Xinference sent an unusable answer to the list of running models: the body is not JSON: 'oops'"
    )
