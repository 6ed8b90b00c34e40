"""What a server process does once its application is loaded, before its first request."""

import gc

from django.urls import get_resolver


def settle_process() -> None:
    """Load the URLconf now, then move everything loaded so far out of the garbage collector's sight.

    - Importing the URLconf imports every view module: on the first request instead, a sampled gunicorn worker
      spent about half a second there, in front of whichever request came first.
    - A loaded process holds about 200,000 long-lived objects (modules, classes, URL patterns, serializers), and
      each full collection walked them all: about 100 ms, one request's whole budget, every few thousand requests.
      `gc.freeze()` leaves them out of every collection (the objects stay alive and correct; cycles among them
      are never collected, and they were never garbage): full collections then take about 10 ms
      (README, "The hot path").
    """
    get_resolver().url_patterns
    gc.freeze()
