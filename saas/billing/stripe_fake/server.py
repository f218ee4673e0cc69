"""Running the fake: in a thread (tests) or as a process (`chamyeo up` without a Stripe key)."""

from __future__ import annotations

import argparse
import threading
from dataclasses import dataclass

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from saas.billing.stripe_fake.app import FakeStripe, create_app


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


def main() -> None:
    parser = argparse.ArgumentParser(description="The fake Stripe API (not Stripe) for the offline demo.")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--webhook-url", required=True)
    parser.add_argument("--webhook-secret", required=True)
    args = parser.parse_args()
    fake = FakeStripe(webhook_secret=args.webhook_secret, webhook_url=args.webhook_url)
    make_server("127.0.0.1", args.port, create_app(fake), threaded=True).serve_forever()


if __name__ == "__main__":
    main()
