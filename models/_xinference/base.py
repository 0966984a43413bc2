"""Behaviour every model type shares, as a plain mixin (the SDK loader registers every AIModel
subclass it sees in a model file, so shared code must not subclass AIModel itself)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

from dify_plugin.errors.model import CredentialsValidateFailedError, InvokeBadRequestError, InvokeError

from models._xinference.client import SCHEMA_TIMEOUT, XinferenceClient
from models._xinference.credentials import parse_credentials
from models._xinference.errors import INVOKE_ERROR_MAPPING, ModelNotRunningError, as_credentials_error
from models._xinference.model_info import ModelDescription

logger = logging.getLogger(__name__)
_LISTED = 10  # running models named in a message; more would bury the advice
_MIN_LIST_BUDGET = 0.5  # seconds; with less left of the timeout the message goes without the list


class XinferenceModelMixin:
    """Put first in the bases: `class X(XinferenceModelMixin, TextEmbeddingModel)`."""

    @property
    def _invoke_error_mapping(self) -> dict[type[InvokeError], list[type[Exception]]]:
        return INVOKE_ERROR_MAPPING

    def _transform_invoke_error(self, error: Exception) -> InvokeError:
        # Our errors are already typed with a message an admin can act on: keep them as they are
        # (the SDK would replace an authorization message with a generic one).
        if isinstance(error, InvokeError):
            return error
        return super()._transform_invoke_error(error)  # type: ignore[misc]

    @staticmethod
    def _client(credentials: Mapping) -> XinferenceClient:
        return XinferenceClient(parse_credentials(credentials))

    def _validated_description(
        self, credentials: Mapping, wanted: str, accepts: Callable[[ModelDescription], bool]
    ) -> tuple[XinferenceClient, ModelDescription]:
        """Read the live description and check it is the kind of model this Dify type needs.

        `wanted` names the Dify type for the message, e.g. "Text Embedding".
        """
        started = time.monotonic()
        with validation_errors():
            client = self._client(credentials)
            try:
                description = client.describe(fresh=True)
            except ModelNotRunningError as err:
                listing = running_models(client, wanted, accepts, started)
                raise InvokeBadRequestError(f"{err}. {listing}" if listing else str(err)) from None
        if not accepts(description):
            listing = running_models(client, wanted, accepts, started)
            message = wrong_type_message(description, wanted)
            raise CredentialsValidateFailedError(f"{message} {listing}" if listing else message)
        return client, description

    @staticmethod
    def _described(
        client: XinferenceClient, wanted: str, accepts: Callable[[ModelDescription], bool]
    ) -> ModelDescription:
        """The (cached) description at invocation time, checked like at validation: a model relaunched
        under the same UID as another kind gets a clear message instead of the server's 500."""
        description = client.describe()
        if not accepts(description):
            raise InvokeBadRequestError(wrong_type_message(description, wanted))
        return description


def running_models(
    client: XinferenceClient, wanted: str, accepts: Callable[[ModelDescription], bool], started: float
) -> str:
    """Which models of the wanted type run on the server, from one GET /v1/models (only on a failed
    validation, once, no retries, within what is left of the timeout since `started` and at most
    SCHEMA_TIMEOUT s); "" when the list cannot be read in time."""
    c = client.credentials
    budget = min(c.timeout - (time.monotonic() - started), SCHEMA_TIMEOUT)
    if budget < _MIN_LIST_BUDGET:
        return ""
    try:
        models = [m for m in client.quick(budget).list_models() if m.uid != c.model_uid and accepts(m)]
    except InvokeError as err:
        logger.info("could not list the running models: %s", err)
        return ""
    kind = _dify_type_phrase(wanted).removeprefix("an ").removeprefix("a ")
    if not models:
        return f"No {kind} is running on this server."
    named = ", ".join(
        f"{m.uid!r} ({m.model_name})" if m.model_name else repr(m.uid) for m in models[:_LISTED]
    )
    more = f" and {len(models) - _LISTED} more" if len(models) > _LISTED else ""
    return f"Running {kind}s on this server (UID and model name): {named}{more}."


def wrong_type_message(description: ModelDescription, wanted: str) -> str:
    abilities = ", ".join(sorted(description.abilities)) or "none reported"
    kind = description.model_type or "unknown"
    article = "an" if kind[0] in "aeiou" else "a"
    kind_phrase = "an LLM" if kind == "llm" else f"{article} {kind} model"
    target = description.dify_type
    if target.startswith("none"):
        advice = f"Dify has no model type for {kind} models, so it cannot be used here."
    else:
        advice = f"add it in Dify as {_dify_type_phrase(target)} instead."
    not_wanted = f"not {_dify_type_phrase(wanted)}"
    return f"Model {description.uid!r} is {kind_phrase} (abilities: {abilities}), {not_wanted}: {advice}"


def _dify_type_phrase(dify_type: str) -> str:
    """'an LLM', 'a Text Embedding model', 'a TTS model' — Dify's type names with the right article."""
    if dify_type == "LLM":
        return "an LLM"
    return f"a {dify_type} model"


@contextmanager
def validation_errors() -> Iterator[None]:
    """Inside validate_credentials every failure must surface as CredentialsValidateFailedError."""
    try:
        yield
    except (InvokeError, CredentialsValidateFailedError) as err:
        raise as_credentials_error(err) from None
