"""The console's app object: the parsed options and the (lazily started) plugin process that every
command (commands.py, images.py) works with. cli.py parses the command line and builds it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import requests

from tools.console.credentials import build, detect_model_type
from tools.console.runtime import PluginProcess


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
