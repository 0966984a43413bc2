"""Loaded automatically by Python when this folder is on PYTHONPATH: installs the offline guard
in a plugin process started by the reliability suite."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    import offline_guard
finally:
    sys.path.pop(0)

offline_guard.install()
