"""A local HTTP server standing in for a client's webhook receiver: tests never reach the network."""

import threading
from contextlib import contextmanager
from http.server import HTTPServer


@contextmanager
def serving(handler_class):
    """Serve `handler_class` on 127.0.0.1 on a free port, in a thread, for the duration of the block."""
    server = HTTPServer(("127.0.0.1", 0), handler_class)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
