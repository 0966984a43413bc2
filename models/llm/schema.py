"""What an LLM can do (from the live model description plus the admin's overrides), and its Dify schema.

`LLMProfile` is resolved once per request from the cached description (model_info.py) and the
credential overrides, and drives both the schema Dify sees and how `_invoke` talks to the server.
When the description cannot be read (server down, key without rights), the profile falls back to
the overrides and safe defaults, so Dify's model list keeps working.
"""

from __future__ import annotations

from dataclasses import dataclass

from dify_plugin.entities.model import AIModelEntity, ModelPropertyKey, ModelType
from dify_plugin.entities.model.llm import LLMMode
from dify_plugin.entities.model.schema import ModelFeature, ParameterRule

from models._xinference.credentials import XinferenceCredentials
from models._xinference.model_info import ModelDescription
from models._xinference.schemas import model_entity, resolve_override
from models.llm.parameters import parameter_rules
from models.llm.reasoning_request import reasoning_efforts

# Without a description: a context size most models have, and chat (what nearly every LLM serves).
FALLBACK_CONTEXT_SIZE = 4096
# Engines that enforce response_format by guided decoding; Transformers and MLX ignore it silently.
_GUIDED_ENGINES = frozenset({"vllm", "sglang", "llama.cpp"})


@dataclass(frozen=True)
class LLMProfile:
    mode: LLMMode = LLMMode.CHAT
    context_size: int = FALLBACK_CONTEXT_SIZE
    tool_call: bool = False
    vision: bool = False
    video: bool = False
    audio: bool = False
    thinking_switch: bool = False
    # Reports `reasoning` but not `hybrid`: it thinks on every request (reasoning.py relies on it).
    always_thinks: bool = False
    structured_output: bool = False
    # The engine enforces response_format (guided decoding); otherwise the plugin instructs and extracts.
    schema_enforced: bool = False
    family: str = ""  # model_family (custom models: the builtin family), else the model name
    document: bool = False
    # Xinference reads a top-level `enable_thinking` from v1.17; `chat_template_kwargs` works from
    # v1.5.1 on. An API key cannot read /v1/cluster/version and we send no extra request, so the
    # version is inferred from the description: `model_engine` appears in it from v3.1 (> 1.17).
    # Top-level is preferred where it works because the server then also sets the `thinking`
    # template variable that some DeepSeek templates read; without a description we use
    # chat_template_kwargs, which every version since 1.5.1 honours.
    thinking_top_level: bool = False
    # v3.0+: some templates (Qwen3.5 …) reject a system message that is not the first one.
    system_first: bool = False
    # The description's `model_engine` ("" without one): request.py adapts response_format to it.
    engine: str = ""


def resolve_profile(creds: XinferenceCredentials, description: ModelDescription | None) -> LLMProfile:
    d = description
    abilities = d.abilities if d else frozenset()
    generate_only = "chat" not in abilities and "generate" in abilities
    mode = LLMMode.COMPLETION if generate_only else LLMMode.CHAT
    chat = mode == LLMMode.CHAT
    omni = "omni" in abilities
    engine = d.engine.lower() if d else ""
    return LLMProfile(
        mode=mode,
        context_size=creds.context_size or (d.context_length if d else None) or FALLBACK_CONTEXT_SIZE,
        tool_call=chat and resolve_override(creds.function_calling, "tools" in abilities),
        vision=chat and resolve_override(creds.vision, "vision" in abilities or omni),
        video=chat and resolve_override(creds.video, "video" in abilities or omni),
        audio=chat and resolve_override(creds.audio, "audio" in abilities or omni),
        # No Xinference LLM takes document parts (4.1: image_url, video_url, audio_url only).
        document=chat and creds.document == "supported",
        thinking_switch=chat and resolve_override(creds.thinking, "hybrid" in abilities),
        always_thinks=chat and "reasoning" in abilities and "hybrid" not in abilities,
        # Every chat model: where the engine cannot enforce a schema, structured_output.py instructs.
        structured_output=chat,
        schema_enforced=chat and resolve_override(creds.structured_output, engine in _GUIDED_ENGINES),
        family=(d.family or d.model_name) if d else "",
        thinking_top_level=bool(d and "model_engine" in d.raw),
        system_first=bool(d and d.raw.get("strict_system_first")),
        engine=engine,
    )


def llm_entity(model: str, profile: LLMProfile) -> AIModelEntity:
    return model_entity(
        model,
        ModelType.LLM,
        {ModelPropertyKey.MODE: profile.mode.value, ModelPropertyKey.CONTEXT_SIZE: profile.context_size},
        features=_features(profile),
        parameter_rules=_parameter_rules(profile),
    )


def _features(p: LLMProfile) -> list[ModelFeature]:
    features: list[ModelFeature] = []
    if p.tool_call:
        features += [ModelFeature.TOOL_CALL, ModelFeature.MULTI_TOOL_CALL, ModelFeature.STREAM_TOOL_CALL]
    if p.vision:
        features.append(ModelFeature.VISION)
    if p.video:
        features.append(ModelFeature.VIDEO)
    if p.audio:
        features.append(ModelFeature.AUDIO)
    if p.document:
        features.append(ModelFeature.DOCUMENT)
    if p.structured_output:
        features.append(ModelFeature.STRUCTURED_OUTPUT)
    return features


def _parameter_rules(p: LLMProfile) -> list[ParameterRule]:
    return parameter_rules(
        p.context_size,
        structured_output=p.structured_output,
        thinking_switch=p.thinking_switch,
        reasoning_efforts=reasoning_efforts(p.family) if p.mode is LLMMode.CHAT else (),
    )
