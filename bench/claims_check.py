# ruff: noqa: E501  (the table below holds exact code snippets)
"""Issue 29: apply each change of its table to a scratch copy of HEAD and run the new tests (in-process).

The patterns match the code as of commit 8f90d36 (updated after the concept refactor of issue 26); a
refactor that moves the code may need them updated (each change asserts its pattern is found).
usage: .venv/bin/python bench/claims_check.py [index ...]
"""

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

SRC = Path(__file__).resolve().parents[1]
PY = str(SRC / ".venv/bin/python")
CHANGES = [
    (
        "validation lists running models with the same key on a failed description",
        "models/_xinference/base.py",
        "                description = client.describe(fresh=True)\n            except ModelNotRunningError as err:\n",
        "                description = client.describe(fresh=True)\n            except InvokeError as err:\n",
    ),
    (
        "cache key drops the server URL",
        "models/_xinference/client.py",
        "return (c.server_url, c.model_uid, c.key_fingerprint)",
        'return ("", c.model_uid, c.key_fingerprint)',
    ),
    (
        "session.trust_env = True",
        "models/_xinference/sessions.py",
        "    session.trust_env = False\n",
        "    session.trust_env = True\n",
    ),
    (
        "image embeddings re-read the description every call",
        "models/text_embedding/text_embedding.py",
        "        description = self._call_description(client)\n        creds = client.credentials\n        items = mm",
        "        client.describe(fresh=True)\n        description = self._call_description(client)\n        creds = client.credentials\n        items = mm",
    ),
    ("form default timeout 60 -> 90", "provider/xinference.yaml", 'default: "60"', 'default: "90"'),
    ("form default retries 2 -> 3", "provider/xinference.yaml", 'default: "2"', 'default: "3"'),
    ("form default texts per request 32 -> 64", "provider/xinference.yaml", 'default: "32"', 'default: "64"'),
    (
        "base64 from 16,384 -> 16,000 numbers",
        "models/text_embedding/vectors.py",
        "BASE64_FROM_VALUES = 16_384",
        "BASE64_FROM_VALUES = 16_000",
    ),
    (
        "1.x refusal remembered 10 -> 5 min",
        "models/llm/llm.py",
        "REFUSAL_TTL = 600.0",
        "REFUSAL_TTL = 300.0",
    ),
    (
        "speed range 0.25-4.0 -> 0.25-5.0",
        "models/_xinference/credentials.py",
        '"speed", 1.0, 0.25, 4.0',
        '"speed", 1.0, 0.25, 5.0',
    ),
    (
        "speed range 0.25-4.0 -> 0.2-4.0",
        "models/_xinference/credentials.py",
        '"speed", 1.0, 0.25, 4.0',
        '"speed", 1.0, 0.2, 4.0',
    ),
    (
        "Retry-After cap 10 -> 20 s",
        "models/_xinference/retry.py",
        "RETRY_AFTER_CAP = 10.0",
        "RETRY_AFTER_CAP = 20.0",
    ),
    (
        "offline upload cap 15 -> 20 MiB",
        "tools/packaging/offline.py",
        "MAX_PACKED = 15 * 1024 * 1024",
        "MAX_PACKED = 20 * 1024 * 1024",
    ),
    (
        "stream close removed (the plugin's own close)",
        "models/_xinference/stream.py",
        "            self.closed = True\n            self._response.close()",
        "            self.closed = True",
    ),
    (
        "tls_verify back to a switch",
        "provider/xinference.yaml",
        '      type: select\n      required: false\n      default: "true"\n      options:\n        - value: "true"\n          label:\n            en_US: Verify (recommended)',
        '      type: switch\n      required: false\n      default: "true"\n      xoptions:\n        - value: "true"\n          label:\n            en_US: Verify (recommended)',
    ),
    (
        "attribution headers sent when disabled",
        "models/_xinference/client.py",
        "        if self.credentials.request_metadata:\n            headers.update(attribution_headers())",
        "        headers.update(attribution_headers())",
    ),
    (
        "console keeps a switch turned off (False)",
        "tools/console/credentials.py",
        '            if value:\n                credentials[field["variable"]] = value',
        '            if value is not None:\n                credentials[field["variable"]] = value',
    ),
    (
        "truncate_long_texts back to a switch",
        "provider/xinference.yaml",
        "      # A select for the same reason as tls_verify: a switch turned off would never reach the plugin\n      type: select",
        "      type: switch",
    ),
]
only = sys.argv[1:]
for i, (name, path, old, new) in enumerate(CHANGES):
    if only and str(i) not in only:
        continue
    work = Path(tempfile.gettempdir()) / "claims-check-copy"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(SRC), "archive", "HEAD"], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(work)], input=archive, check=True)
    f = work / path
    text = f.read_text()
    assert text.count(old) >= 1, (name, "pattern not found")
    f.write_text(text.replace(old, new, 1))
    targets = [
        "tests/_xinference/test_promises.py",
        "tests/_xinference/test_dify_credential_rule.py",
        "tests/_xinference/test_request_metadata.py",
        "tests/_xinference/test_switches_turn_off.py",
        "tests/reliability/test_client_hostile.py",
        "tests/packaging/test_provider_yaml.py",
    ]
    done = subprocess.run(
        [PY, "-m", "pytest", "-m", "in_process", "-q", "-p", "no:cacheprovider", *targets],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    failed = re.findall(r"^FAILED (\S+)", done.stdout, re.M)
    print(
        f"{i:2d} {name}: exit {done.returncode}; failing: {failed or done.stdout.strip().splitlines()[-1:]}",
        flush=True,
    )
