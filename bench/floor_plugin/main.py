"""The floor: the same dify_plugin stdio runtime as the product, with model classes that return
constants and make no HTTP request. What this process costs per call no plugin can go below."""

from dify_plugin import DifyPluginEnv, Plugin

plugin = Plugin(DifyPluginEnv(MAX_REQUEST_TIMEOUT=600))

if __name__ == "__main__":
    plugin.run()
