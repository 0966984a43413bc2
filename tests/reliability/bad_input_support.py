"""Shared by the bad-input suites (test_plugin_bad_credentials.py, test_plugin_bad_calls.py):
one call through the real plugin process, checked for what every bad input must give — a typed
error or an answer, no hang, no key in the message, a process that keeps serving.
"""

from __future__ import annotations

from tests.helpers import API_KEY

TYPED = {
    "CredentialsValidateFailedError",
    "InvokeBadRequestError",
    "InvokeConnectionError",
    "InvokeServerUnavailableError",
    "InvokeAuthorizationError",
    "InvokeRateLimitError",
}
CALL_TIMEOUT = 20.0


def run_checked(plugin, data: dict):
    result = plugin.call(data, timeout=CALL_TIMEOUT)
    assert result.ended and result.violation is None, result
    if result.error is not None:
        error_type, message = result.error["error_type"], result.error["message"]
        # The SDK itself checks model parameters against the schema's rules before calling us and
        # raises a plain ValueError "Model Parameter … should be …": clear, and not ours to type.
        # Likewise the SDK validates the request payload itself (pydantic ValidationError): a shape the
        # daemon never sends. Both reach Dify as clear messages before any plugin code runs.
        sdk_rule = (error_type == "ValueError" and message.startswith("Model Parameter ")) or (
            error_type == "ValidationError"
        )
        assert error_type in TYPED or sdk_rule, f"{data['action']}: untyped {error_type}: {message}"
        assert API_KEY not in result.error["message"], "the key leaked into an error message"
        assert API_KEY not in result.error.get("args", {}).get("traceback", "")
    assert plugin.returncode is None
    return result
