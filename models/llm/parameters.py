"""The LLM parameter rules Dify shows under a model, with labels and help in English, Chinese and Japanese.

The SDK copies the English text into every language that is left out, so each rule carries all three.
Names are Xinference's (min_p, repetition_penalty …): they are sent as they are. Every rule is optional,
and an unset one is not sent, so the model's own defaults apply.
"""

from __future__ import annotations

from typing import Any

from dify_plugin.entities import I18nObject
from dify_plugin.entities.model.schema import ParameterRule, ParameterType

from models.llm.reasoning_request import REASONING_EFFORT_PARAMETER

THINKING_PARAMETER = "enable_thinking"
EXTRA_BODY_PARAMETER = "extra_body"

_F, _I, _S, _T, _B = (
    ParameterType.FLOAT,
    ParameterType.INT,
    ParameterType.STRING,
    ParameterType.TEXT,
    ParameterType.BOOLEAN,
)
_UNSET = (
    " Leave it off to use the model's own default.",
    "不设置则使用模型自身的默认值。",
    "未設定の場合はモデル自身のデフォルト値を使います。",
)

Text = tuple[str, str, str]  # en_US, zh_Hans, ja_JP


def _i18n(text: Text) -> I18nObject:
    return I18nObject(en_US=text[0], zh_Hans=text[1], ja_JP=text[2])


def _rule(name: str, kind: ParameterType, label: Text, help_text: Text, **limits: Any) -> ParameterRule:
    return ParameterRule(name=name, label=_i18n(label), type=kind, help=_i18n(help_text), **limits)


# name, type, label, help, limits (max_tokens gets its maximum from the context size)
SAMPLING_RULES: tuple[tuple[str, ParameterType, Text, Text, dict[str, Any]], ...] = (
    (
        "temperature",
        _F,
        ("Temperature", "温度", "温度"),
        (
            "Randomness; 0 is greedy (deterministic).",
            "随机性；0 为贪婪解码（确定性输出）。",
            "ランダム性。0 は貪欲法（決定的な出力）です。",
        ),
        {"min": 0, "max": 2, "default": 0.7, "precision": 2},
    ),
    (
        "top_p",
        _F,
        ("Top P", "Top P", "Top P"),
        (
            "Nucleus sampling: the share of probability mass considered.",
            "核采样：参与采样的概率质量比例。",
            "核サンプリング：考慮する確率質量の割合。",
        ),
        {"min": 0, "max": 1, "default": 1.0, "precision": 2},
    ),
    (
        "top_k",
        _I,
        ("Top K", "Top K", "Top K"),
        (
            "Sample only from the k most likely tokens.",
            "只从概率最高的 k 个词元中采样。",
            "確率の高い上位 k 個のトークンからのみサンプリングします。",
        ),
        {"min": 1, "max": 1000, "default": 50},
    ),
    (
        "min_p",
        _F,
        ("Min P", "Min P", "Min P"),
        (
            "Drop tokens less likely than this share of the most likely token's probability "
            "(0.05–0.1 is common for local models).",
            "舍弃概率低于“最可能词元概率 × 该值”的词元（本地模型常用 0.05–0.1）。",
            "最も確率の高いトークンの確率にこの値を掛けたものより低いトークンを除外します"
            "（ローカルモデルでは 0.05–0.1 が一般的）。",
        ),
        {"min": 0, "max": 1, "default": 0.05, "precision": 2},
    ),
    (
        "max_tokens",
        _I,
        ("Max Tokens", "最大词元数", "最大トークン数"),
        ("Upper limit on generated tokens.", "生成词元数的上限。", "生成するトークン数の上限。"),
        {"min": 1},
    ),
    (
        "presence_penalty",
        _F,
        ("Presence Penalty", "存在惩罚", "存在ペナルティ"),
        (
            "Penalise tokens already present.",
            "惩罚已出现过的词元。",
            "すでに出現したトークンにペナルティを与えます。",
        ),
        {"min": -2, "max": 2, "default": 0.0, "precision": 2},
    ),
    (
        "frequency_penalty",
        _F,
        ("Frequency Penalty", "频率惩罚", "頻度ペナルティ"),
        (
            "Penalise frequent tokens.",
            "惩罚频繁出现的词元。",
            "頻繁に出現するトークンにペナルティを与えます。",
        ),
        {"min": -2, "max": 2, "default": 0.0, "precision": 2},
    ),
    (
        "repetition_penalty",
        _F,
        ("Repetition Penalty", "重复惩罚", "繰り返しペナルティ"),
        (
            "Above 1 discourages repeating text (1.05–1.2 is common); 1 is off.",
            "大于 1 时抑制重复文本（常用 1.05–1.2）；1 表示关闭。",
            "1 より大きいと繰り返しを抑えます（1.05–1.2 が一般的）。1 で無効です。",
        ),
        {"min": 0.01, "max": 2, "default": 1.0, "precision": 2},
    ),
    (
        "seed",
        _I,
        ("Seed", "随机种子", "シード"),
        (
            "Same seed, prompt and parameters: the same answer.",
            "相同的种子、提示词和参数会得到相同的回答。",
            "同じシード・プロンプト・パラメータなら同じ回答になります。",
        ),
        {"min": 0, "max": 2**31 - 1},
    ),
)

_RESPONSE_FORMAT = _rule(
    "response_format",
    _S,
    ("Response Format", "回复格式", "応答形式"),
    (
        "text, json_object (any JSON) or json_schema (JSON following the JSON Schema below).",
        "text、json_object（任意 JSON）或 json_schema（符合下方 JSON Schema 的 JSON）。",
        "text、json_object（任意の JSON）、json_schema（下の JSON Schema に従う JSON）のいずれか。",
    ),
    options=["text", "json_object", "json_schema"],
)
_JSON_SCHEMA = _rule(
    "json_schema",
    _T,
    ("JSON Schema", "JSON Schema", "JSON Schema"),
    (
        'For json_schema: {"name": …, "schema": {…}} or the bare schema.',
        '用于 json_schema：{"name": …, "schema": {…}} 或直接填写 schema。',
        'json_schema 用：{"name": …, "schema": {…}} またはスキーマそのもの。',
    ),
)
_THINKING = _rule(
    THINKING_PARAMETER,
    _B,
    ("Thinking", "深度思考", "思考モード"),
    (
        "On: the model reasons before answering; off: it answers directly. Unset: the default the model "
        "was launched with.",
        "开启：模型先推理再回答；关闭：直接回答。不设置：使用模型启动时的默认值。",
        "オン：回答の前に推論します。オフ：直接回答します。未設定：モデル起動時のデフォルトに従います。",
    ),
)
_EXTRA_BODY = _rule(
    EXTRA_BODY_PARAMETER,
    _T,
    (
        "Extra request body (JSON object)",
        "额外请求体（JSON 对象）",
        "追加リクエストボディ（JSON オブジェクト）",
    ),
    (
        'Merged into the request for engine options, e.g. {"chat_template_kwargs": {…}} or guided decoding '
        "(guided_json, guided_regex …). It cannot replace model, messages, prompt, stream or tools.",
        '合并进请求体，用于引擎选项，例如 {"chat_template_kwargs": {…}} '
        "或引导解码（guided_json、guided_regex …）。"
        "不能覆盖 model、messages、prompt、stream 或 tools。",
        'エンジンのオプション用にリクエストへマージされます。例：{"chat_template_kwargs": {…}} '
        "やガイド付きデコード"
        "（guided_json、guided_regex …）。model、messages、prompt、stream、tools は上書きできません。",
    ),
)


def _reasoning_effort(levels: tuple[str, ...]) -> ParameterRule:
    return _rule(
        REASONING_EFFORT_PARAMETER,
        _S,
        ("Reasoning effort", "推理强度", "推論の強さ"),
        (
            "How much the model reasons before answering (" + ", ".join(levels) + "). Unset: the "
            "model's default.",
            "模型回答前推理的程度（" + "、".join(levels) + "）。不设置：使用模型的默认值。",
            "回答前にどれだけ推論するか（" + "、".join(levels) + "）。未設定：モデルのデフォルト。",
        ),
        options=list(levels),
    )


def parameter_rules(
    context_size: int,
    *,
    structured_output: bool,
    thinking_switch: bool,
    reasoning_efforts: tuple[str, ...] = (),
) -> list[ParameterRule]:
    rules = []
    for name, kind, label, help_text, limits in SAMPLING_RULES:
        context = {"max": context_size, "default": min(2048, context_size)} if name == "max_tokens" else {}
        full_help = tuple(h + u for h, u in zip(help_text, _UNSET, strict=True))
        rules.append(_rule(name, kind, label, full_help, **limits, **context))  # type: ignore[arg-type]
    if structured_output:
        rules += [_RESPONSE_FORMAT, _JSON_SCHEMA]
    if thinking_switch:
        rules.append(_THINKING)
    if reasoning_efforts:
        rules.append(_reasoning_effort(reasoning_efforts))
    rules.append(_EXTRA_BODY)
    return rules
