# Sourced by the scripts: makes sure .venv exists with the Python tools the
# tests and the demo need (moto's server for a local AWS API, boto3 to seed
# it). Pinned to the moto version whose behaviour docs/aws-facts was measured
# on.
MAINT_VENV="${MAINT_VENV:-$(pwd)/.venv}"
# maturin, pytest and mypy build and test the Python package (maint-py).
MAINT_PY_REQUIREMENTS=("moto[server]==5.2.5" "boto3" "maturin>=1.9,<2" "pytest>=8" "mypy>=1.10")

ensure_venv() {
  if [ ! -x "$MAINT_VENV/bin/python" ]; then
    echo "creating virtualenv $MAINT_VENV" >&2
    python3 -m venv "$MAINT_VENV"
  fi
  if ! "$MAINT_VENV/bin/python" -c 'import moto, boto3, maturin, pytest, mypy, importlib.metadata as m; assert m.version("moto") == "5.2.5"' 2>/dev/null; then
    echo "installing ${MAINT_PY_REQUIREMENTS[*]} into $MAINT_VENV" >&2
    "$MAINT_VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${MAINT_PY_REQUIREMENTS[@]}"
  fi
  export MAINT_MOTO_SERVER="$MAINT_VENV/bin/moto_server"
  export MAINT_PYTHON="$MAINT_VENV/bin/python"
}
