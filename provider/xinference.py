"""Provider class: Xinference models are customizable, so credentials are checked per model."""

from collections.abc import Mapping

from dify_plugin import ModelProvider


class XinferenceProvider(ModelProvider):
    def validate_provider_credentials(self, credentials: Mapping) -> None:
        # A customizable-model provider has no provider-level credentials: every model
        # (server URL + model UID) is validated on its own when an admin adds it.
        del credentials
