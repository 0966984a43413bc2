"""Usage objects for Dify. Self-hosted models have no price, so every price field is 0.

The SDK's `_calc_response_usage` would look the model schema up twice per call only to find no
pricing; these build the same objects directly.
"""

from __future__ import annotations

from decimal import Decimal

from dify_plugin.entities.model.llm import LLMUsage
from dify_plugin.entities.model.text_embedding import EmbeddingUsage

_ZERO = Decimal(0)


def llm_usage(prompt_tokens: int, completion_tokens: int, latency: float) -> LLMUsage:
    return LLMUsage(
        prompt_tokens=prompt_tokens,
        prompt_unit_price=_ZERO,
        prompt_price_unit=_ZERO,
        prompt_price=_ZERO,
        completion_tokens=completion_tokens,
        completion_unit_price=_ZERO,
        completion_price_unit=_ZERO,
        completion_price=_ZERO,
        total_tokens=prompt_tokens + completion_tokens,
        total_price=_ZERO,
        currency="USD",
        latency=latency,
    )


def embedding_usage(tokens: int, latency: float) -> EmbeddingUsage:
    return EmbeddingUsage(
        tokens=tokens,
        total_tokens=tokens,
        unit_price=_ZERO,
        price_unit=_ZERO,
        total_price=_ZERO,
        currency="USD",
        latency=latency,
    )
