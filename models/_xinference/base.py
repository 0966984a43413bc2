"""Behaviour every model type shares, as a plain mixin (the SDK loader registers every AIModel
subclass it sees in a model file, so shared code must not subclass AIModel itself): one shape for
all five types (see `XinferenceModelMixin`)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import ClassVar

from dify_plugin.entities.model import AIModelEntity
from dify_plugin.errors.model import CredentialsValidateFailedError, InvokeBadRequestError, InvokeError

from models._xinference.client import SCHEMA_TIMEOUT, XinferenceClient
from models._xinference.credentials import XinferenceCredentials, parse_credentials
from models._xinference.errors import INVOKE_ERROR_MAPPING, ModelNotRunningError, as_credentials_error
from models._xinference.model_info import ModelDescription, ModelKind
from models._xinference.schemas import SCHEMAS

logger = logging.getLogger(__name__)
_LISTED = 10  # running models named in a message; more would bury the advice
_MIN_LIST_BUDGET = 0.5  # seconds; with less left of the timeout the message goes without the list


class XinferenceModelMixin:
    """Put first in the bases: `class X(XinferenceModelMixin, TextEmbeddingModel)`.

    Every model type has the same shape:
    - `kind` (model_info.py): which Xinference models it takes;
    - `validate_credentials`: `_validated_description` (the live description, checked for the kind,
      the running models of the right kind listed when it is wrong), then one small real call;
    - `get_customizable_model_schema` (here): the type's `_build_schema(model, creds, description)`,
      cached for a few seconds; `description` is None when the server cannot describe the model
      (down, key rejected, another kind, incomplete credentials), so the schema falls back to the
      admin's overrides and safe defaults in one place, and Dify's model list never breaks;
    - `_invoke`: `_client`, then `_call_description` when the request depends on the description.
    """

    kind: ClassVar[ModelKind]

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

    # ---- schema ------------------------------------------------------------------------

    def get_customizable_model_schema(self, model: str, credentials: Mapping) -> AIModelEntity | None:
        return SCHEMAS.get(self.kind.dify_name, model, credentials, lambda: self._schema(model, credentials))

    def _schema(self, model: str, credentials: Mapping) -> AIModelEntity:
        creds = schema_credentials(credentials)
        return self._build_schema(model, creds, self._schema_description(creds))

    def _schema_description(self, creds: XinferenceCredentials | None) -> ModelDescription | None:
        """The description a schema is built from: cached, else one quick try (client.py); None when
        the server cannot give one of this kind. Never raises."""
        if creds is None or not self._schema_reads_description(creds):
            return None
        description = XinferenceClient(creds).describe_for_schema()
        return description if description is not None and self.kind.accepts(description) else None

    def _schema_reads_description(self, creds: XinferenceCredentials) -> bool:
        """Whether the schema depends on the server at all (speech2text: no; rerank: to detect images)."""
        return True

    def _build_schema(
        self, model: str, creds: XinferenceCredentials | None, description: ModelDescription | None
    ) -> AIModelEntity:
        raise NotImplementedError

    # ---- description -------------------------------------------------------------------

    def _validated_description(self, credentials: Mapping) -> tuple[XinferenceClient, ModelDescription]:
        """Read the live description and check it is the kind of model this Dify type needs."""
        started = time.monotonic()
        with validation_errors():
            client = self._client(credentials)
            try:
                description = client.describe(fresh=True)
            except ModelNotRunningError as err:
                listing = running_models(client, self.kind.dify_name, self.kind.accepts, started)
                raise InvokeBadRequestError(f"{err}. {listing}" if listing else str(err)) from None
        if not self.kind.accepts(description):
            listing = running_models(client, self.kind.dify_name, self.kind.accepts, started)
            message = wrong_type_message(description, self.kind.dify_name)
            raise CredentialsValidateFailedError(f"{message} {listing}" if listing else message)
        return client, description

    def _call_description(self, client: XinferenceClient) -> ModelDescription:
        """The description at call time, one policy for every type whose request depends on it: from
        the process cache (the SDK's schema request before each call has usually filled it), fetched
        when missing, and checked like at validation: a model relaunched under the same UID as another
        kind gets a clear message instead of the server's 500."""
        return self._checked(client.describe())

    def _call_description_if_any(self, client: XinferenceClient) -> ModelDescription | None:
        """The same for a type whose request can be built without it (the LLM, from the admin's
        overrides): None while the server cannot describe the model, as for the schema; a rejected
        key raises instead (Xinference counts every 401 towards banning the client's IP)."""
        description = client.describe_for_schema(raise_authorization=True)
        return None if description is None else self._checked(description)

    def _checked(self, description: ModelDescription) -> ModelDescription:
        if not self.kind.accepts(description):
            raise InvokeBadRequestError(wrong_type_message(description, self.kind.dify_name))
        return description


def schema_credentials(credentials: Mapping) -> XinferenceCredentials | None:
    """The parsed form for a schema, or None while it is incomplete (a schema never raises)."""
    try:
        return parse_credentials(credentials)
    except CredentialsValidateFailedError:
        return None


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
