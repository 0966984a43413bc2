#!/usr/bin/env bash
# Prints the path of a working Python 3.12 interpreter, or explains how to get one and exits 1.
# The Dify daemon always runs plugins on 3.12, so we develop and test on exactly that version.
set -u

works() { [ -x "$1" ] && "$1" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 12) else 1)' 2>/dev/null; }

candidates=()
[ -n "${PYTHON312:-}" ] && candidates+=("$PYTHON312")
for name in python3.12 python3 python; do
  p=$(command -v "$name" 2>/dev/null) && candidates+=("$p")
done
# pyenv: its shim fails unless a 3.12 is selected, so look at the installed versions directly
for root in "${PYENV_ROOT:-}" "$HOME/.pyenv"; do
  [ -n "$root" ] || continue
  for p in "$root"/versions/3.12*/bin/python3.12; do [ -e "$p" ] && candidates+=("$p"); done
done
if command -v uv >/dev/null 2>&1; then
  p=$(uv python find 3.12 2>/dev/null) && candidates+=("$p")
fi
candidates+=(/usr/bin/python3.12 /usr/local/bin/python3.12 /opt/homebrew/bin/python3.12)

for p in "${candidates[@]}"; do
  if works "$p"; then echo "$p"; exit 0; fi
done
echo "No Python 3.12 found. Install it (python.org, your package manager, 'pyenv install 3.12', or 'uv python install 3.12'), or set PYTHON312=/path/to/python3.12." >&2
exit 1
