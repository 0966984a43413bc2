"""`python -m tools.console …`: drive the plugin exactly as the Dify daemon does."""

import sys

from tools.console.cli import main

sys.exit(main())
