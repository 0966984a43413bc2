"""Error classes: a status error is a real class built by its constructor (message, status, detail),
reported to Dify under Dify's class name; a model that is not running carries its UID; a KeyError or
TypeError of ours is never reported as the user's bad request."""

import pytest
import responses
from dify_plugin.errors.model import (
    InvokeAuthorizationError,
    InvokeBadRequestError,
    InvokeError,
    InvokeRateLimitError,
    InvokeServerUnavailableError,
)

from models._xinference.base import XinferenceModelMixin
from models._xinference.errors import (
    HTTPStatusError,
    ModelNotRunningError,
    StatusBadRequestError,
    status_error,
)
from tests._xinference.client_support import client, replay
from tests.helpers import SERVER


@pytest.mark.parametrize(
    ("status", "dify_class"),
    [
        (401, InvokeAuthorizationError),
        (403, InvokeAuthorizationError),
        (429, InvokeRateLimitError),
        (400, InvokeBadRequestError),
        (422, InvokeBadRequestError),
        (500, InvokeServerUnavailableError),
        (503, InvokeServerUnavailableError),
    ],
)
def test_a_status_error_is_the_dify_class_by_type_and_by_name(status, dify_class):
    err = status_error(status, "Reason", "the server's words", "chat with model 'm'")
    assert isinstance(err, dify_class)
    assert isinstance(err, HTTPStatusError)
    assert type(err).__name__ == dify_class.__name__  # the SDK sends this name as error_type
    assert (err.status_code, err.detail) == (status, "the server's words")
    assert str(err).startswith(f"Xinference answered HTTP {status} Reason to chat with model 'm'")
    assert err.args == (str(err),)


def test_a_500_that_blames_the_input_is_a_bad_request_with_its_status():
    err = status_error(500, "Error", "soundfile is either not in the correct format or is malformed", "stt")
    assert isinstance(err, InvokeBadRequestError)
    assert err.status_code == 500


def test_the_constructor_takes_message_status_and_detail():
    err = StatusBadRequestError("no", status=400, detail="why")
    assert (str(err), err.status_code, err.detail) == ("no", 400, "why")
    assert type(err).__name__ == "InvokeBadRequestError"


def test_model_not_running_carries_the_uid():
    err = ModelNotRunningError("gone", status=404, detail="Model not found", model_uid="qwen3")
    assert isinstance(err, InvokeBadRequestError)
    assert type(err).__name__ == "InvokeBadRequestError"
    assert err.model_uid == "qwen3"


@responses.activate
def test_describing_a_uid_that_is_not_running_raises_model_not_running():
    replay(responses, "GET", SERVER + "/v1/models/test-llm", "err_01_get_unknown_model.txt")
    with pytest.raises(ModelNotRunningError) as caught:
        client().describe()
    assert caught.value.model_uid == "test-llm"
    assert "No model with UID 'test-llm' is running" in str(caught.value)


class _Model(XinferenceModelMixin):
    """The mixin's error translation, without a Dify model class around it."""


@pytest.mark.parametrize("bug", [KeyError("choices"), TypeError("'NoneType' object is not subscriptable")])
def test_our_own_bugs_are_not_reported_as_the_users_bad_request(bug):
    mapped = [
        cls for cls, sources in _Model()._invoke_error_mapping.items() if isinstance(bug, tuple(sources))
    ]
    assert mapped == []


def test_a_value_error_stays_the_callers_bad_request():
    mapping = _Model()._invoke_error_mapping
    assert ValueError in mapping[InvokeBadRequestError]
    assert issubclass(InvokeBadRequestError, InvokeError)
