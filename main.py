"""Entry point the Dify plugin daemon runs as `python -m main`."""

from run_modes import prepare_run_mode

prepare_run_mode()

from dify_plugin import DifyPluginEnv, Plugin  # noqa: E402  (after the run-mode check on purpose)

plugin = Plugin(DifyPluginEnv(MAX_REQUEST_TIMEOUT=600))

if __name__ == "__main__":
    plugin.run()
