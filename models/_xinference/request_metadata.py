"""Per-app attribution headers, opt-in (credential `enable_request_metadata`, as in the official
Dify plugins): a gateway in front of Xinference can then count load per Dify app.

Best effort by design: no session or no app id means no headers, and nothing here may fail a request.
"""

from __future__ import annotations

import logging

from dify_plugin.core.session_context import get_current_session

logger = logging.getLogger(__name__)

APP_ID_HEADER = "X-Dify-App-Id"
SOURCE_HEADER = "X-Dify-Source"
MAX_APP_ID = 128  # Dify app ids are 36-character UUIDs; anything much longer is not one


def attribution_headers() -> dict[str, str]:
    """The headers for the Dify app of the current invocation, or {} when there is none."""
    try:
        app_id = getattr(get_current_session(), "app_id", None)  # no session: None
        if app_id is None:
            return {}
        # Visible ASCII only: a header value cannot carry line breaks or non-Latin-1 text, and the
        # app id is not worth a broken request.
        visible = "".join(ch for ch in str(app_id) if "!" <= ch <= "~")[:MAX_APP_ID]
    except Exception:  # attribution must never break an invocation
        logger.debug("no app id for the attribution headers", exc_info=True)
        return {}
    return {APP_ID_HEADER: visible, SOURCE_HEADER: "dify"} if visible else {}
