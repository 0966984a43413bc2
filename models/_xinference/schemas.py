"""Building blocks for the model schemas (AIModelEntity) the plugin reports to Dify."""

from __future__ import annotations

from typing import Any

from dify_plugin.entities import I18nObject
from dify_plugin.entities.model import AIModelEntity, FetchFrom, ModelType
from dify_plugin.entities.model.schema import ModelFeature, ParameterRule


def model_entity(
    model: str,
    model_type: ModelType,
    properties: dict[Any, Any],
    *,
    features: list[ModelFeature] | None = None,
    parameter_rules: list[ParameterRule] | None = None,
) -> AIModelEntity:
    return AIModelEntity(
        model=model,
        label=I18nObject(en_US=model),
        model_type=model_type,
        fetch_from=FetchFrom.CUSTOMIZABLE_MODEL,
        model_properties=properties,
        features=features or [],
        parameter_rules=parameter_rules or [],
    )
