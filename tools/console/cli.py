"""Command line of the plugin console: `python -m tools.console <command> …`.

Every command except `models` starts the plugin exactly as the Dify daemon does (tools/console/runtime.py)
and sends it the request Dify would send, so what you see is what Dify would get.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import requests

from tools.console import commands
from tools.console.credentials import MODEL_TYPES, build, detect_model_type
from tools.console.runtime import REPO_ROOT, PluginProcess
from tools.console.session import PluginError, ProtocolViolation

EXIT_PLUGIN_ERROR = 1
EXIT_USAGE = 2
EXIT_RUNTIME = 3


class Console:
    """Parsed options plus the (lazily started) plugin process."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.json = bool(args.json)
        self.plugin: PluginProcess | None = None

    def out(self, text: str = "", end: str = "\n") -> None:
        sys.stdout.write(text + end)
        sys.stdout.flush()

    def note(self, text: str) -> None:
        if self.args.verbose:
            sys.stderr.write(text + "\n")

    def server_get(self, path: str) -> Any:
        """Ask the server directly: only `models` and type detection do; the rest goes via the plugin."""
        headers = {"Authorization": f"Bearer {self.args.api_key}"} if self.args.api_key else {}
        url = self.args.server_url.rstrip("/").removesuffix("/v1") + path
        response = requests.get(
            url, headers=headers, timeout=self.args.timeout, verify=not self.args.insecure
        )
        if response.status_code >= 400:
            try:
                detail = response.json().get("detail", response.text)
            except ValueError:
                detail = response.text
            raise RuntimeError(
                f"Xinference answered HTTP {response.status_code} to GET {path}: {str(detail)[:300]}"
            )
        return response.json()

    def model_type(self, fixed: str | None = None) -> str:
        if fixed or self.args.type:
            return fixed or self.args.type
        try:
            return detect_model_type(self.server_get(f"/v1/models/{self.args.uid}"))
        except (requests.RequestException, RuntimeError, ValueError) as err:
            # Let the plugin report the problem: its message is the one Dify would show.
            self.note(f"could not detect the model type ({type(err).__name__}); assuming llm, use --type")
            return "llm"

    def credentials(self, model_type: str) -> dict[str, Any]:
        values: dict[str, Any] = dict(item.split("=", 1) for item in self.args.credential)
        values.update(server_url=self.args.server_url, model_uid=self.args.uid, api_key=self.args.api_key)
        if self.args.insecure:
            values["tls_verify"] = "false"  # as the form posts "Do not verify"
        return build(Path(self.args.plugin_root), model_type, values)

    def started(self) -> PluginProcess:
        if self.plugin is None:
            self.plugin = PluginProcess(Path(self.args.plugin_root), python=self.args.python)
            self.note(f"plugin ready in {self.plugin.start():.2f} s (pid {self.plugin.pid})")
        return self.plugin

    def call(self, data: dict, on_chunk: Any = None) -> list[dict]:
        result = self.started().call(data, timeout=self.args.timeout, on_chunk=on_chunk)
        for violation in self.started().violations:
            self.note(f"protocol violation: {violation}")
        return result.raise_for_error().chunks

    def close(self) -> None:
        if self.plugin is not None:
            self.plugin.stop()


def _common(parser: argparse.ArgumentParser) -> None:
    env = os.environ.get
    parser.add_argument(
        "--server-url",
        default=env("XINFERENCE_SERVER_URL", "http://127.0.0.1:9997"),
        help="Xinference server (env XINFERENCE_SERVER_URL)",
    )
    parser.add_argument(
        "--uid", default=env("XINFERENCE_MODEL_UID", ""), help="model UID (env XINFERENCE_MODEL_UID)"
    )
    parser.add_argument(
        "--api-key", default=env("XINFERENCE_API_KEY", ""), help="API key (env XINFERENCE_API_KEY)"
    )
    parser.add_argument(
        "--type", choices=MODEL_TYPES, help="Dify model type (default: detected from the server)"
    )
    parser.add_argument(
        "--credential",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="another credential field, e.g. context_size=8192 (repeatable)",
    )
    parser.add_argument("--insecure", action="store_true", help="do not verify the server's TLS certificate")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for each answer")
    parser.add_argument("--plugin-root", default=str(REPO_ROOT), help="unpacked plugin directory")
    parser.add_argument("--python", default=sys.executable, help="interpreter that runs the plugin")
    parser.add_argument("-v", "--verbose", action="store_true", help="timings and protocol notes on stderr")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tools.console", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, help_text in commands.HELP.items():
        cmd = sub.add_parser(name, help=help_text, description=help_text)
        _common(cmd)
        commands.ARGUMENTS[name](cmd)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    console = Console(args)
    try:
        if args.command != "models" and not args.uid:
            raise ValueError("no model UID: pass --uid or set XINFERENCE_MODEL_UID")
        return commands.RUN[args.command](console)
    except PluginError as err:
        _report(console, err.error_type, err.message)
        return EXIT_PLUGIN_ERROR
    except (ProtocolViolation, TimeoutError, RuntimeError, requests.RequestException) as err:
        _report(console, type(err).__name__, str(err))
        return EXIT_RUNTIME
    except (ValueError, OSError) as err:  # bad flags, unreadable input files
        _report(console, type(err).__name__, str(err))
        return EXIT_USAGE
    finally:
        console.close()


def _report(console: Console, error_type: str, message: str) -> None:
    key = console.args.api_key
    if key:  # belt and braces: the plugin never echoes it, but a server or a proxy might
        message = message.replace(key, "***")
    if console.json:
        console.out(json.dumps({"error": {"error_type": error_type, "message": message}}, ensure_ascii=False))
    else:
        sys.stderr.write(f"error: {error_type}: {message}\n")
