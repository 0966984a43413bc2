"""The credential form: every bad value names its field; good values are normalised once."""

import pytest
from dify_plugin.errors.model import CredentialsValidateFailedError

from models._xinference.credentials import parse_credentials
from tests.helpers import API_KEY, raw_credentials


def parse(**overrides):
    return parse_credentials(raw_credentials(**overrides))


@pytest.mark.parametrize(
    ("pasted", "expected"),
    [
        ("http://host:9997", "http://host:9997"),
        ("  http://host:9997/  ", "http://host:9997"),
        ("http://host:9997/v1", "http://host:9997"),
        ("http://host:9997/v1/", "http://host:9997"),
        ("https://host/xinference/v1", "https://host/xinference"),
        ("HTTP://Host:9997", "HTTP://Host:9997"),
        ("http://[::1]:9997", "http://[::1]:9997"),
    ],
)
def test_server_url_is_normalised(pasted, expected):
    assert parse(server_url=pasted).server_url == expected


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("", "is required"),
        ("   ", "is required"),
        ("host:9997", "http:// or https://"),
        ("ftp://host", "http:// or https://"),
        ("javascript:alert(1)", "http:// or https://"),
        ("file:///etc/passwd", "http:// or https://"),
        ("http://", "no host"),
        ("http://host:99999", "not a valid URL"),
        ("http://host:abc", "not a valid URL"),
        ("http://user:pw@host:9997", "user name or password"),
        ("http://host:9997/?x=1", "'?' or '#'"),
        ("http://host\n:9997", "single line"),
        ("http://" + "a" * 5000, "characters long"),
        (123, "expected text"),
    ],
)
def test_bad_server_url_names_the_field(value, problem):
    with pytest.raises(CredentialsValidateFailedError) as info:
        parse(server_url=value)
    assert "server_url" in str(info.value)
    assert problem in str(info.value)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("", "is required"),
        ("  ", "is required"),
        ("a/b", "may not contain"),
        ("a b", "may not contain"),
        ("a?b", "may not contain"),
        ("a#b", "may not contain"),
        ("a\tb", "may not contain"),
    ],
)
def test_bad_model_uid(value, problem):
    with pytest.raises(CredentialsValidateFailedError) as info:
        parse(model_uid=value)
    assert "model_uid" in str(info.value) and problem in str(info.value)


def test_model_uid_is_stripped():
    assert parse(model_uid="  qwen3  ").model_uid == "qwen3"


@pytest.mark.parametrize(
    ("field", "value", "attr", "expected"),
    [
        ("invoke_timeout", "120", "timeout", 120.0),
        ("invoke_timeout", " 2.5 ", "timeout", 2.5),
        ("invoke_timeout", "", "timeout", 60.0),
        ("max_retries", "0", "max_retries", 0),
        ("max_retries", "10", "max_retries", 10),
        ("max_chunks", "2048", "max_chunks", 2048),
        ("speed", "0.5", "speed", 0.5),
        ("context_size", "auto", "context_size", None),
        ("context_size", "", "context_size", None),
        ("context_size", "32768", "context_size", 32768),
    ],
)
def test_numbers_parse_from_strings(field, value, attr, expected):
    assert getattr(parse(**{field: value}), attr) == expected


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("invoke_timeout", "0"),
        ("invoke_timeout", "-5"),
        ("invoke_timeout", "3601"),
        ("invoke_timeout", "ten"),
        ("invoke_timeout", "nan"),
        ("invoke_timeout", True),
        ("max_retries", "11"),
        ("max_retries", "1.5"),
        ("max_retries", "-1"),
        ("max_chunks", "0"),
        ("max_chunks", "4096"),
        ("speed", "9"),
        ("context_size", "lots"),
        ("context_size", "8"),
    ],
)
def test_out_of_range_numbers_name_field_and_range(field, value):
    with pytest.raises(CredentialsValidateFailedError) as info:
        parse(**{field: value})
    message = str(info.value)
    assert message.startswith(field)
    assert "expected" in message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        (False, False),
        ("true", True),
        ("false", False),
        ("TRUE", True),
        (None, True),
        ("", True),
    ],
)
def test_switch_accepts_booleans_and_default_strings(value, expected):
    assert parse(tls_verify=value).tls_verify is expected


@pytest.mark.parametrize("value", ["yes", "1", 1, [True]])
def test_switch_rejects_other_values(value):
    with pytest.raises(CredentialsValidateFailedError, match="tls_verify"):
        parse(tls_verify=value)


def test_select_fields_are_checked():
    assert parse(function_calling="supported").function_calling == "supported"
    with pytest.raises(CredentialsValidateFailedError, match="vision"):
        parse(vision="maybe")
    with pytest.raises(CredentialsValidateFailedError, match="audio_format"):
        parse(audio_format="midi")


def test_prefixes_keep_their_trailing_space():
    creds = parse(query_prefix="query: ", document_prefix="passage: ")
    assert creds.query_prefix == "query: " and creds.document_prefix == "passage: "


def test_missing_credentials():
    with pytest.raises(CredentialsValidateFailedError, match="Server URL"):
        parse_credentials(None)


def test_api_key_is_optional_and_never_shown():
    assert parse().api_key is None
    creds = parse(api_key=f"  {API_KEY}  ")
    assert creds.api_key == API_KEY
    assert API_KEY not in repr(creds) and API_KEY not in str(creds)
    assert API_KEY not in creds.key_fingerprint and len(creds.key_fingerprint) == 16


def test_bad_api_key_message_does_not_echo_it():
    with pytest.raises(CredentialsValidateFailedError) as info:
        parse(api_key=API_KEY + "\n" + API_KEY)
    assert API_KEY not in str(info.value)


def test_credentials_are_immutable():
    creds = parse()
    with pytest.raises(Exception):  # noqa: B017  (pydantic raises ValidationError for frozen models)
        creds.server_url = "http://elsewhere"


def test_connect_timeout_is_short_even_for_long_invocations():
    assert parse(invoke_timeout="600").connect_timeout == 10.0
    assert parse(invoke_timeout="3").connect_timeout == 3.0


@pytest.mark.parametrize("field", ["embedding_vision", "rerank_vision"])
def test_image_overrides_default_to_auto_and_accept_the_three_choices(field):
    assert getattr(parse(), field) == "auto"
    for choice in ("auto", "supported", "unsupported", "Supported"):
        assert getattr(parse(**{field: choice}), field) == choice.lower()
    with pytest.raises(CredentialsValidateFailedError, match=f"{field}: 'yes' is not one of auto, supported"):
        parse(**{field: "yes"})


# ---- details mutation testing found unheld (make mutants) ----------------------------------------


def test_a_bad_choice_is_quoted_up_to_40_characters():
    with pytest.raises(CredentialsValidateFailedError) as info:
        parse(vision="v" * 60)
    assert f"{'v' * 40!r} is not one of auto, supported, unsupported" in str(info.value)


@pytest.mark.parametrize("value", ["AUTO", "Auto", " auto ", None])
def test_context_size_auto_in_any_case_or_missing_means_the_servers(value):
    assert parse(context_size=value).context_size is None


@pytest.mark.parametrize("field", ["query_prefix", "document_prefix"])
def test_prefixes_are_validated_and_kept_exactly(field):
    assert getattr(parse(), field) == ""
    assert getattr(parse(**{field: "X: "}), field) == "X: "  # trailing space and edge letters kept
    assert getattr(parse(**{field: " query: \r\n"}), field) == " query: "  # only line ends dropped
    with pytest.raises(CredentialsValidateFailedError, match=field):
        parse(**{field: "a\nb"})


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("max_retries", "x", "max_retries: 'x' is not a whole number; expected 0–10"),
        ("invoke_timeout", "ten", "invoke_timeout: 'ten' is not a number; expected 1–3600"),
        ("invoke_timeout", "x" * 60, f"invoke_timeout: {'x' * 40!r} is not a number; expected 1–3600"),
        ("max_chunks", True, "max_chunks: expected a whole number between 1 and 2048"),
        ("speed", False, "speed: expected a number between 0.25 and 4"),
        ("context_size", "4096.5", "context_size: '4096.5' is not a whole number; expected 16–1e+07"),
        ("tls_verify", "yes", "tls_verify: expected true or false"),
    ],
)
def test_bad_values_say_what_is_expected(field, value, message):
    with pytest.raises(CredentialsValidateFailedError) as info:
        parse(**{field: value})
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("value", "accepted"), [("16", True), ("15", False), ("10000000", True), ("10000001", False)]
)
def test_context_size_is_16_to_10_million(value, accepted):
    if accepted:
        assert parse(context_size=value).context_size == int(value)
    else:
        with pytest.raises(CredentialsValidateFailedError, match="context_size"):
            parse(context_size=value)


ALL_SET = {
    "api_key": "xf-k",
    "invoke_timeout": "7",
    "max_retries": "4",
    "tls_verify": "false",
    "enable_request_metadata": "enabled",
    "context_size": "1024",
    "function_calling": "supported",
    "vision": "unsupported",
    "thinking": "supported",
    "structured_output": "unsupported",
    "max_chunks": "5",
    "query_prefix": "q: ",
    "document_prefix": "d: ",
    "query_task": "retrieval.query",
    "document_task": "retrieval.passage",
    "truncate_long_texts": "false",
    "embedding_vision": "supported",
    "rerank_vision": "unsupported",
    "rerank_instruction": "Judge relevance",
    "rerank_batch_size": "9",
    "language": "de",
    "audio_format": "wav",
    "speed": "1.5",
    "default_voice": "af_bella",
    "tts_streaming": True,
}
PARSED = {
    "api_key": "xf-k",
    "timeout": 7.0,
    "max_retries": 4,
    "tls_verify": False,
    "request_metadata": True,
    "context_size": 1024,
    "function_calling": "supported",
    "vision": "unsupported",
    "thinking": "supported",
    "structured_output": "unsupported",
    "max_chunks": 5,
    "query_prefix": "q: ",
    "document_prefix": "d: ",
    "query_task": "retrieval.query",
    "document_task": "retrieval.passage",
    "truncate_long_texts": False,
    "embedding_vision": "supported",
    "rerank_vision": "unsupported",
    "rerank_instruction": "Judge relevance",
    "rerank_batch_size": 9,
    "language": "de",
    "audio_format": "wav",
    "speed": 1.5,
    "default_voice": "af_bella",
    "tts_streaming": True,
}
DEFAULTS = {
    "api_key": None,
    "timeout": 60.0,
    "max_retries": 2,
    "tls_verify": True,
    "request_metadata": False,
    "context_size": None,
    "function_calling": "auto",
    "vision": "auto",
    "thinking": "auto",
    "structured_output": "auto",
    "max_chunks": 32,
    "query_prefix": "",
    "document_prefix": "",
    "query_task": "",
    "document_task": "",
    "truncate_long_texts": True,
    "embedding_vision": "auto",
    "rerank_vision": "auto",
    "rerank_instruction": "",
    "rerank_batch_size": 256,
    "language": "",
    "audio_format": "mp3",
    "speed": 1.0,
    "default_voice": "",
    "tts_streaming": False,
}


def test_every_field_reaches_its_attribute():
    parsed = parse_credentials({"server_url": "http://h:1", "model_uid": "m", **ALL_SET})
    assert {name: getattr(parsed, name) for name in PARSED} == PARSED


def test_every_attribute_has_its_documented_default():
    parsed = parse_credentials({"server_url": "http://h:1", "model_uid": "m"})
    assert {name: getattr(parsed, name) for name in DEFAULTS} == DEFAULTS


URL_FIELD = "server_url (Server URL): "


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "is required, e.g. http://xinference.local:9997"),
        ("ftp://h:1", "must start with http:// or https://, e.g. http://xinference.local:9997"),
        ("http://", "has no host name; expected e.g. http://xinference.local:9997"),
        ("http://user@h:1", "must not contain a user name or password; put the key in the API Key field"),
        ("http://:pw@h:1", "must not contain a user name or password; put the key in the API Key field"),
        ("http://h:1/?x=1", "must not contain '?' or '#'; give only the server address"),
    ],
)
def test_server_url_messages(value, message):
    with pytest.raises(CredentialsValidateFailedError) as info:
        parse(server_url=value)
    assert str(info.value) == URL_FIELD + message


@pytest.mark.parametrize(
    ("pasted", "kept"),
    [
        ("http://h:1/pathX/", "http://h:1/pathX"),
        ("http://h:1/pathX/v1", "http://h:1/pathX"),
        ("http://h:1//v1", "http://h:1"),
    ],
)
def test_server_url_loses_only_slashes_and_v1(pasted, kept):
    assert parse(server_url=pasted).server_url == kept


def test_model_uid_and_missing_credentials_messages():
    with pytest.raises(CredentialsValidateFailedError) as info:
        parse(model_uid="")
    assert str(info.value) == (
        "model_uid (Model UID): is required: the UID of a running model, as shown by `xinference list`"
    )
    with pytest.raises(CredentialsValidateFailedError) as info:
        parse_credentials(None)
    assert str(info.value) == "credentials are missing: fill in Server URL and Model UID"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (7, "language: expected text, got int"),
        ("a\rb", "language: must be a single line"),
        ("a\x00b", "language: must be a single line"),
        ("x" * 2049, "language: is 2049 characters long; at most 2048 are accepted"),
    ],
)
def test_text_fields_say_what_is_wrong(value, message):
    with pytest.raises(CredentialsValidateFailedError) as info:
        parse(language=value)
    assert str(info.value) == message
    assert parse(language="x" * 2048).language == "x" * 2048  # the longest accepted


def test_parsed_credentials_are_memoised_by_value_and_type():
    raw = raw_credentials(tls_verify=True)
    assert parse_credentials(raw) is parse_credentials(dict(raw))  # the same dict again: no re-parse
    with pytest.raises(CredentialsValidateFailedError, match="tls_verify"):
        parse_credentials({**raw, "tls_verify": 1})  # 1 == True, but only True is a switch value


@pytest.mark.parametrize(
    ("value", "accepted"), [("1", True), ("0", False), ("4096", True), ("4097", False), ("2.5", False)]
)
def test_rerank_batch_size_is_a_whole_number_from_1_to_4096(value, accepted):
    if accepted:
        assert parse(rerank_batch_size=value).rerank_batch_size == int(value)
    else:
        with pytest.raises(CredentialsValidateFailedError, match="rerank_batch_size"):
            parse(rerank_batch_size=value)
