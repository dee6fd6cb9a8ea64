#!/usr/bin/env bash
# Build the documentation site, warnings as errors, from scratch (a clean build, because an
# incremental one does not repeat the warnings of pages it does not re-read).
# Installs nothing: run it where the docs extra is installed (pip install -e ".[docs]").
# PYTHON picks the interpreter: .venv/bin/python when the repository has a .venv, else python3.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -z "${PYTHON:-}" ]]; then
    if [[ -x .venv/bin/python ]]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi
rm -rf docs/_build docs/_generated docs/api docs/gallery docs/sg_execution_times.rst
start=$(date +%s)
"$PYTHON" -m sphinx -W --keep-going -b html docs docs/_build/html "$@"
echo "docs/build.sh: built docs/_build/html/index.html in $(( $(date +%s) - start )) s"
