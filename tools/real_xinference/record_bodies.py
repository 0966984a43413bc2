"""`make fixtures`: the request bodies several groups of recordings send (the chats with and without a
tool, the streaming options, the rerank documents)."""

HELLO = [{"role": "user", "content": "Hello, who are you?"}]
WEATHER = [{"role": "user", "content": "What is the weather like in Paris today?"}]
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
AFTER_TOOL = [
    *WEATHER,
    {
        "role": "assistant",
        "content": "",
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
            }
        ],
    },
    {"role": "tool", "content": '{"temperature": 21, "condition": "sunny"}', "tool_call_id": "call_1"},
]
STREAM = {"stream": True, "stream_options": {"include_usage": True}}
DOCS = ["Paris is the capital of France.", "Berlin is the capital of Germany.", "The cat sits on the mat."]
