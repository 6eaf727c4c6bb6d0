#!/usr/bin/env bash
# A Python environment for the PyTorch reference scripts (scripts/step_losses_reference.py), in the
# git-ignored .cache/py, from the pinned scripts/requirements-reference.txt. Only for regenerating
# fixtures: the tests read the committed fixtures and never need Python.
#
# pip uses its configured index; to use a local mirror, pass it, e.g.
#   PIP_INDEX_URL=file:///opt/pypi/simple scripts/setup_reference_venv.sh
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.cache/py
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install --disable-pip-version-check -r scripts/requirements-reference.txt
"$VENV/bin/python" -c 'import torch, transformers; print("torch", torch.__version__, "transformers", transformers.__version__)'
