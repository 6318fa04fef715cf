"""scripts/wheel --check: the portable wheel installed where no Rust
toolchain exists, then used for real against moto: a full maintenance cycle
through `import maint`, and the AWS Lambda example's zip built from it with
its handler invoked as Lambda would.

Run with the project's .venv python (it has moto and boto3 to seed);
the wheel goes into a fresh virtualenv of the system's python3.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "moto"))
import seed  # noqa: E402

REGION = "us-east-1"

CYCLE = r"""
import json, sys
import maint
assert "site-packages" in maint.__file__ and sys.prefix in maint.__file__, maint.__file__
names = sys.argv[1:]
client = maint.Client(region="us-east-1")
entered = client.enter(*names, allow=["203.0.113.0/24"], reason="wheel check")
status = client.status(*names)
exited = client.exit(*names)
print(json.dumps({
    "maint": maint.__file__,
    "entered": [r.changed for r in entered],
    "status": [s.state for s in status],
    "exited": [r.changed for r in exited],
    "after": [s.state for s in client.status(*names)],
}))
"""

LAMBDA = r"""
import json, sys
package = sys.argv[1]
sys.path.insert(0, package)
import handler, maint
assert maint.__file__.startswith(package), maint.__file__
entered = handler.handler({"action": "enter", "service": "shop", "reason": "lambda check"})
exited = handler.handler({"action": "exit", "service": "shop"})
print(json.dumps({"maint": maint.__file__, "entered": entered["ok"], "exited": exited["ok"],
                  "changed": [r["changed"] for r in entered["results"] + exited["results"]]}))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def no_rust_path() -> str:
    """PATH without any directory that has cargo or rustc."""
    dirs = [d for d in os.environ.get("PATH", "").split(os.pathsep)
            if d and not (Path(d, "cargo").exists() or Path(d, "rustc").exists())]
    return os.pathsep.join(dirs)


def main() -> int:
    wheel = Path(sys.argv[1]).resolve()
    work = Path(tempfile.mkdtemp(prefix="maint-wheel-"))
    moto = None
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CARGO", "RUSTUP", "VIRTUAL_ENV"))}
        env["PATH"] = no_rust_path()
        found = shutil.which("cargo", path=env["PATH"]) or shutil.which("rustc", path=env["PATH"])
        assert found is None, f"a Rust toolchain is still on PATH: {found}"
        venv = work / "venv"
        subprocess.run(["python3", "-m", "venv", str(venv)], check=True, env=env)
        py = str(venv / "bin" / "python")
        subprocess.run([py, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        "--no-index", "--no-deps", str(wheel)], check=True, env=env)
        print(f"installed {wheel.name} into {venv} (PATH without cargo and rustc)", file=sys.stderr)

        port = free_port()
        log = open(work / "moto.log", "wb")
        moto = subprocess.Popen([os.environ.get("MAINT_MOTO_SERVER", "moto_server"),
                                 "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=subprocess.STDOUT)
        endpoint = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                urllib.request.urlopen(endpoint + "/moto-api/", timeout=1)
                break
            except Exception:  # noqa: BLE001
                time.sleep(0.1)
        names = [f"wheel-check-{i}" for i in range(2)]
        seed.create_load_balancers(endpoint, names, region=REGION)
        env.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_REGION=REGION,
                   AWS_ENDPOINT_URL=endpoint, AWS_EC2_METADATA_DISABLED="true",
                   AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull,
                   MAINT_WAF_QUOTA_PERCENT="0")
        env.pop("AWS_PROFILE", None)
        out = subprocess.run([py, "-c", CYCLE, *names], check=True, env=env, capture_output=True,
                             text=True, cwd=work).stdout
        cycle = json.loads(out)
        print(f"cycle with the wheel: {cycle}", file=sys.stderr)
        assert cycle["entered"] == [True, True] and cycle["status"] == ["maintenance"] * 2, cycle
        assert cycle["exited"] == [True, True] and cycle["after"] == ["normal"] * 2, cycle

        # The Lambda example, packaged from the wheel, with a config naming
        # the load balancers seeded here.
        zip_path = work / "maint-lambda.zip"
        subprocess.run([str(ROOT / "examples" / "lambda" / "package.sh"), str(wheel), str(zip_path)],
                       check=True, env={**env, "PYTHON": py})
        package = work / "package"
        with zipfile.ZipFile(zip_path) as z:
            z.extractall(package)
        quoted = ", ".join(f'"{n}"' for n in names)
        (package / "maint.toml").write_text(f"[services.shop]\nload_balancers = [{quoted}]\n")
        out = subprocess.run([py, "-c", LAMBDA, str(package)], check=True, env=env,
                             capture_output=True, text=True, cwd=work).stdout
        result = json.loads(out)
        print(f"Lambda handler from {zip_path.name} ({zip_path.stat().st_size // 1024} KiB): {result}",
              file=sys.stderr)
        assert result["entered"] and result["exited"] and all(result["changed"]), result
        print("wheel check: ok", file=sys.stderr)
        return 0
    finally:
        if moto is not None:
            moto.terminate()
            moto.wait(10)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
