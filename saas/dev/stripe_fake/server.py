"""Running the fake: in a thread (tests) or as a process (`chamyeo up` without a Stripe key)."""

from __future__ import annotations

import argparse
import json
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from saas.dev.stripe_fake.app import FakeStripe, create_app


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: object, **kwargs: object) -> None:
        pass  # one line per request would drown the test output


@dataclass
class RunningFake:
    fake: FakeStripe
    server: BaseWSGIServer
    thread: threading.Thread

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def start_in_thread(fake: FakeStripe, port: int = 0) -> RunningFake:
    """Serve `fake` on 127.0.0.1 (a free port when `port` is 0) from a daemon thread."""
    server = make_server("127.0.0.1", port, create_app(fake), threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="stripe-fake", daemon=True)
    thread.start()
    return RunningFake(fake, server, thread)


def start_process(
    *, webhook_url: str, webhook_secret: str, state: Path, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """Run the fake as a child process on a free port of 127.0.0.1 (for `chamyeo up`); returns
    the process and its URL once it answers. Its objects are kept in `state` across restarts."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "saas.dev.stripe_fake.server", "--port", str(port),
         "--webhook-url", webhook_url, "--webhook-secret", webhook_secret, "--state", str(state)],
        env=env,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process, url
        except OSError:
            time.sleep(0.1)
    process.terminate()
    raise RuntimeError(f"the fake Stripe did not start on {url}")


def main() -> None:
    parser = argparse.ArgumentParser(description="The fake Stripe API (not Stripe) for the offline demo.")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--webhook-url", required=True)
    parser.add_argument("--webhook-secret", required=True)
    parser.add_argument("--state", type=Path, help="JSON file the objects are loaded from and saved to.")
    args = parser.parse_args()
    fake = FakeStripe(webhook_secret=args.webhook_secret, webhook_url=args.webhook_url)
    if args.state and args.state.exists():
        fake.load(json.loads(args.state.read_text()))
    server = make_server(
        "127.0.0.1", args.port, create_app(fake), threaded=True, request_handler=_QuietHandler
    )
    # SIGTERM (how `chamyeo up` stops its children) ends serve_forever like Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        if args.state:
            args.state.parent.mkdir(parents=True, exist_ok=True)
            args.state.write_text(json.dumps(fake.dump()))


if __name__ == "__main__":
    main()
