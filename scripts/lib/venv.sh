# Sourced by the scripts: makes sure .venv exists with the Python tools the
# tests and the demo need (moto's server for a local AWS API, boto3 to seed
# it). Pinned to the moto version whose behaviour docs/aws-facts was measured
# on.
MAINT_VENV="${MAINT_VENV:-$(pwd)/.venv}"
# maturin, pytest and mypy build and test the Python package (maint-py);
# playwright drives the system's Chromium in its browser tests (see
# ensure_browser).
MAINT_PY_REQUIREMENTS=("moto[server]==5.2.5" "boto3" "maturin>=1.9,<2" "pytest>=8" "mypy>=1.10" "playwright>=1.50")

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

# Headless Chromium for the browser tests (maint-py/tests/test_browser.py):
# Debian's chromium package (apt-get, with sudo unless root) and the Python
# playwright package in .venv, which drives that Chromium through
# executable_path. Never `playwright install`: it downloads a browser build
# from the internet, which CI cannot reach. Call after ensure_venv.
MAINT_CHROMIUM="${MAINT_CHROMIUM:-/usr/bin/chromium}"

ensure_browser() {
  if [ ! -x "$MAINT_CHROMIUM" ]; then
    local sudo=() log
    if [ "$(id -u)" -ne 0 ]; then
      sudo=(sudo)
    fi
    log="$(mktemp)"
    echo "installing Debian's chromium (for the browser tests; $MAINT_CHROMIUM is missing)" >&2
    if ! { "${sudo[@]}" apt-get update -q &&
      "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; } >"$log" 2>&1; then
      cat "$log" >&2
      rm -f "$log"
      echo "could not install chromium with apt-get" >&2
      return 1
    fi
    rm -f "$log"
    if [ ! -x "$MAINT_CHROMIUM" ]; then
      echo "chromium was installed but $MAINT_CHROMIUM is still missing" >&2
      return 1
    fi
  fi
  if ! "$MAINT_VENV/bin/python" -c 'import playwright.sync_api' 2>/dev/null; then
    echo "installing playwright into $MAINT_VENV (it drives $MAINT_CHROMIUM)" >&2
    "$MAINT_VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${MAINT_PY_REQUIREMENTS[@]}"
  fi
  export MAINT_CHROMIUM
}
