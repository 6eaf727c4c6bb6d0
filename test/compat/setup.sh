#!/usr/bin/env bash
# The compatibility layer's Python environment: a venv in the git-ignored .cache/compat-py with the
# pinned test/compat/requirements.txt. Idempotent: a venv made from the same requirements file is
# left as it is (a few milliseconds).
#
# Index: PIP_INDEX_URL when set; else, when pip's configuration names local (file://) indexes (a
# package mirror on disk), those, so that pip does not wait on an unreachable default index; else
# pip's configured index. An index that does not answer fails fast (one retry, 15 s timeout).
#
# Exit status: 0 ready; 3 the environment cannot be made (no python3 with venv, or pip cannot
# install the pins), with one line on stderr saying why: the layer reports it as a skip.
set -uo pipefail
cd "$(dirname "$0")/../.."
VENV=${FINETUNE_COMPAT_VENV:-.cache/compat-py}   # another place: e.g. a venv shared by several checkouts
REQ=test/compat/requirements.txt
STAMP=$VENV/.requirements
if [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && cmp -s "$STAMP" "$REQ"; then exit 0; fi
mkdir -p .cache
if ! command -v python3 >/dev/null 2>&1; then
  echo "no python3 on PATH" >&2
  exit 3
fi
if [ -z "${PIP_INDEX_URL:-}" ]; then
  local_indexes=$(python3 -m pip config get global.extra-index-url 2>/dev/null | tr ' ' '\n' | grep '^file://' || true)
  if [ -n "$local_indexes" ]; then
    PIP_INDEX_URL=$(echo "$local_indexes" | head -n 1)
    export PIP_INDEX_URL
    PIP_EXTRA_INDEX_URL=$(echo "$local_indexes" | tail -n +2 | tr '\n' ' ')
    export PIP_EXTRA_INDEX_URL
  fi
fi
if [ ! -x "$VENV/bin/python" ]; then
  if ! python3 -m venv "$VENV" >/dev/null 2>.cache/compat-venv.err; then
    echo "python3 -m venv failed: $(tail -n 1 .cache/compat-venv.err)" >&2
    rm -rf "$VENV"
    exit 3
  fi
  rm -f .cache/compat-venv.err
fi
rm -f "$STAMP"
LOG=$VENV/pip.log
if ! "$VENV/bin/pip" install --disable-pip-version-check --no-input --progress-bar off --retries 1 --timeout 15 -r "$REQ" >"$LOG" 2>&1; then
  echo "pip could not install $REQ from ${PIP_INDEX_URL:-the configured index}: $(grep -E '^ERROR' "$LOG" | tail -n 1) (log: $LOG)" >&2
  exit 3
fi
cp "$REQ" "$STAMP"
