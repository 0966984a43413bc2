"""Command line of the plugin console: `python -m tools.console <command> …`.

Every command except `models` starts the plugin exactly as the Dify daemon does (tools/console/runtime.py)
and sends it the request Dify would send, so what you see is what Dify would get.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import requests

from tools.console import commands
from tools.console.app import Console
from tools.console.credentials import MODEL_TYPES
from tools.console.runtime import REPO_ROOT
from tools.console.session import PluginError, ProtocolViolation

EXIT_PLUGIN_ERROR = 1
EXIT_USAGE = 2
EXIT_RUNTIME = 3


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
