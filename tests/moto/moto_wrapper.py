"""Runs a command (moto_server) as a child and stops it when this wrapper's
standard input closes.

The test harness starts this wrapper with a pipe as its stdin and never writes
to it. When the test process ends for any reason (normal exit, panic, SIGKILL
from a test runner's timeout), the kernel closes the pipe's write end, the read
below sees end-of-file, and the child is terminated: moto never outlives the
tests. On Linux the child also gets PR_SET_PDEATHSIG, so it dies even if this
wrapper is killed with SIGKILL.

If MAINT_MOTO_LOG names a file (the harness sends moto's output there), it
is removed after a normal shutdown and kept when moto exits on its own, so a
failed start can be diagnosed.

Usage: python moto_wrapper.py MOTO_SERVER ARGS...
"""

import os
import signal
import subprocess
import sys
import threading


def _die_with_parent():
    try:
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
    except Exception:  # not Linux: stdin watching still applies
        pass


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: moto_wrapper.py COMMAND [ARGS...]")
    child = subprocess.Popen(
        sys.argv[1:], stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent
    )

    def stop():
        if child.poll() is None:
            child.terminate()
            try:
                child.wait(5)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()

    def on_signal(signum, _frame):
        # No stop() here: the handler runs on the main thread, which may be
        # inside child.wait() holding Popen's wait lock, and waiting again
        # would deadlock. Signal the child and go; PDEATHSIG backs this up.
        try:
            os.kill(child.pid, signal.SIGTERM)
        except OSError:
            pass
        os._exit(128 + signum)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, on_signal)

    def watch_stdin():
        try:
            while sys.stdin.buffer.read(4096):
                pass
        except Exception:
            pass
        # Remove the log first: once the child is gone, the main thread exits.
        log = os.environ.get("MAINT_MOTO_LOG")
        if log:
            try:
                os.remove(log)
            except OSError:
                pass
        stop()
        os._exit(0)

    threading.Thread(target=watch_stdin, daemon=True).start()
    code = child.wait()
    # os._exit: a normal exit would wait for the stdin reader thread.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code if code >= 0 else 128 - code)


if __name__ == "__main__":
    main()
