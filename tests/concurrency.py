"""Real concurrency in tests: callables run in their own threads (own database connections), released together."""

import threading

from django.db import connection


def run_threads(targets: list) -> tuple[list, list[Exception]]:
    """Run each callable in its own thread, all released at once; return their results and exceptions."""
    barrier = threading.Barrier(len(targets))
    results, errors, lock = [], [], threading.Lock()

    def run(target):
        try:
            barrier.wait()
            value = target()
            with lock:
                results.append(value)
        except Exception as exc:  # noqa: BLE001 - asserted by the caller
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(target,)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results, errors
