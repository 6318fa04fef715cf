#!/usr/bin/env bash
# Builds the Lambda deployment zip from a maint wheel: the wheel's files,
# handler.py and maint.toml, at the zip's root (Lambda's python3.x runtime
# imports `handler.handler`). The wheel must match the function's
# architecture (x86_64: scripts/wheel builds a manylinux2014 x86_64 abi3
# wheel, for Python 3.9 and later).
#   examples/lambda/package.sh WHEEL [OUT.zip]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
wheel="${1:?usage: package.sh WHEEL [OUT.zip]}"
out="${2:-$here/maint-lambda.zip}"
python="${PYTHON:-python3}"
build="$(mktemp -d)"
trap 'rm -rf "$build"' EXIT
# maint has no Python dependencies: the wheel is all there is to install.
"$python" -m pip install --quiet --disable-pip-version-check --no-deps --target "$build" "$wheel"
cp "$here/handler.py" "$here/maint.toml" "$build/"
rm -f "$out"
(cd "$build" && "$python" -c 'import sys, zipfile, os
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
    for root, _, files in os.walk("."):
        for f in files:
            p = os.path.join(root, f)
            if "__pycache__" not in p:
                z.write(p, os.path.relpath(p, "."))' "$out")
echo "$out"
