"""What the detail of an Xinference 500 reveals, when it reveals more than "the server failed".

Xinference answers some bad inputs and some cluster failures with its catch-all 500. Recognising them
lets the admin read the right advice: fix the input (a Bad Request, not "server unavailable"), or know
which worker of a cluster is down.
"""

from __future__ import annotations

import re

# Xinference answers some bad inputs with its catch-all 500; these details blame the input, not the server
# (lower-case excerpt of the detail → what to tell the admin).
_INPUT_FAULTS_500 = {
    "soundfile is either not in the correct format or is malformed": "the server could not decode the audio "
    "file: send a complete, valid audio file (wav, mp3, flac, ogg, m4a or webm)",
    # Kokoro (and other families writing through soundfile) cannot write aac or pcm
    "unknown format: '": "this model cannot produce that audio format: choose another Audio format (mp3, "
    "wav, flac or ogg) in the model's settings in Dify",
}


def input_fault(status: int, detail: str) -> str | None:
    if status != 500:
        return None
    lowered = detail.lower()
    return next((hint for phrase, hint in _INPUT_FAULTS_500.items() if phrase in lowered), None)


def model_missing(status: int, detail: str) -> bool:
    """Xinference before 2.7 reports a model that is not running with a 400, not a 404."""
    return status == 400 and "model not found" in detail.lower()


# How a cluster supervisor words "the worker holding this model (replica) is gone" (xoscar's connect error)
_WORKER_DOWN = re.compile(r"Connect call failed \('([^']+)', (\d+)\)")


def worker_is_down(status: int, detail: str) -> bool:
    """The supervisor could not even connect to the worker: the model never saw the request, so sending
    it again is harmless, and the supervisor hands the next request to the next replica."""
    return status == 500 and _WORKER_DOWN.search(detail) is not None


def worker_down_hint(detail: str) -> str:
    """For a cluster whose worker died: name it and say what happens next (empty when not that case)."""
    match = _WORKER_DOWN.search(detail)
    if not match:
        return ""
    return (
        f"the Xinference supervisor cannot reach the worker at {match.group(1)}:{match.group(2)} that "
        "runs this model (or one of its replicas): that worker is down. Other replicas keep serving; the "
        "supervisor stops routing to the dead one after its health check (about half a minute by default). "
        "The plugin already retried (Max retries); if it was the only replica, launch the model again on a "
        "running worker"
    )
