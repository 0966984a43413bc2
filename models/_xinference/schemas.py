"""Building blocks for the model schemas (AIModelEntity) the plugin reports to Dify."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from dify_plugin.entities.model import AIModelEntity, FetchFrom, ModelType
from dify_plugin.entities.model.schema import ModelFeature, ParameterRule

from models._xinference.process_state import TTLMap, on_reset


def model_entity(
    model: str,
    model_type: ModelType,
    properties: dict[Any, Any],
    *,
    features: list[ModelFeature] | None = None,
    parameter_rules: list[ParameterRule] | None = None,
) -> AIModelEntity:
    return AIModelEntity(  # no label: the SDK labels an entity with its model name in every language
        model=model,
        model_type=model_type,
        fetch_from=FetchFrom.CUSTOMIZABLE_MODEL,
        model_properties=properties,
        features=features or [],
        parameter_rules=parameter_rules or [],
    )


def resolve_override(setting: str, detected: bool) -> bool:
    """An admin's feature switch ("auto" / "supported" / "unsupported"): auto is what the server
    reports, the others are the admin's word (for servers that do not report the feature)."""
    return detected if setting == "auto" else setting == "supported"


class SchemaCache:
    """Built schemas for a few seconds, per (model type, model name, credentials), at most 256.

    The SDK asks for the schema up to three times per LLM call (parameter validation, then input
    and output prices); rebuilding it each time cost more than the rest of the plugin's work. The
    entry lives no longer than a failed description lookup is remembered, so a schema built from
    fallback defaults while the server was down is not served for long.
    """

    def __init__(
        self, ttl: float = 10.0, max_entries: int = 256, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self._entries = TTLMap(max_entries=max_entries, clock=clock)

    def get(
        self, kind: str, model: str, credentials: Mapping, build: Callable[[], AIModelEntity | None]
    ) -> AIModelEntity | None:
        try:
            key = (kind, model, frozenset((k, type(v), v) for k, v in credentials.items()))
        except TypeError:  # an unhashable credential value: do not cache
            return build()
        schema = self._entries.get(key, _NOT_BUILT)
        if schema is _NOT_BUILT:
            schema = build()  # may read the description over the network: outside the lock
            self._entries.put(key, schema, self.ttl)
        return schema

    def clear(self) -> None:
        self._entries.clear()


_NOT_BUILT = object()  # a build may give None (no schema), which is cached too
SCHEMAS = SchemaCache()
on_reset(SCHEMAS.clear)
