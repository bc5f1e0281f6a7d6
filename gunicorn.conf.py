"""gunicorn settings, read from the working directory (``scripts/run`` starts it there).

This file is the one place the server's process options live: ``scripts/run`` passes
only ``--bind``, and so do the tests that start the server the way it does
(``tests/test_slow_clients.py``); other tests and benchmarks that start gunicorn in the
repository read it too. Anything given on the command line overrides it.

Slow clients (README, "Slow clients and floods"). A phone on 2G sends a photo at a few
KB/s, and a hostile client may send one byte every few seconds. With threaded workers
each such body held one of the 8 threads (2 workers x 4) for as long as it took, so 8
trickling uploads stopped the server. gevent workers serve each connection in a
greenlet: a body that is waiting for bytes costs a socket and a little memory, not a
thread, and up to ``worker_connections`` of them per worker wait side by side while
other requests are answered. Work that holds the CPU (hashing a photo, SQLite) still
runs one at a time per worker; a database transaction is never held while a body is
read (``server.auth.device_required``, ``server.services.uploads.patch``).

* A request head must arrive within ``keepalive`` seconds of the connection (or of the
  previous answer on a kept-alive connection), else the connection is closed: gevent
  workers time the head with this setting (slowloris).
* An upload body that stalls, or trickles slower than a floor, is ended by
  ``server.request_body`` (``BODY_IDLE_TIMEOUT_SECONDS``, ``BODY_MIN_BYTES_PER_SECOND``).
* In production nginx in front buffers whole bodies (``deploy/nginx/roadwatch.conf``).

Each worker builds the district routing index when it starts, not on the first
report it receives (building it takes about two seconds).
"""

import logging
import os

# gevent's monkey-patching happens in each worker before the app is imported (the master
# imports no application code), so sockets, sleeps and locks in the app are cooperative;
# psycopg notices the patched ``select`` and waits cooperatively too.
worker_class = "gevent"
workers = int(os.environ.get("WORKERS", "2"))
# Connections one worker serves at once (open uploads included); past it a connection
# waits in the listen backlog until one ends.
worker_connections = 1000
# Seconds a request head may take to arrive (see above); also how long an idle
# kept-alive connection stays open. 10 s leaves a 2G phone several round trips.
keepalive = 10
# A worker that answers nothing to the master for this long is restarted (a hung
# worker; a long upload is not one: its greenlet waits and the worker goes on).
timeout = 600
accesslog = "-"
# gunicorn never believes X-Forwarded-Proto (or X-Forwarded-*) itself: by default it
# trusted them from 127.0.0.1, so a local client could claim HTTPS even with
# TRUSTED_PROXY_HOPS=0. The app decides, with ProxyFix, through exactly
# TRUSTED_PROXY_HOPS proxies (server/__init__.py).
forwarded_allow_ips = ""
secure_scheme_headers: dict[str, str] = {}


def post_worker_init(worker):
    from server.services.districts import current_index
    from server.services.upload_expiry import sweep_spool

    app = worker.wsgi
    try:
        with app.app_context():
            current_index()
    except Exception:  # e.g. migrations not applied yet: the first report builds it
        logging.getLogger("gunicorn.error").exception("routing index not built at start")
    # Spool files of requests that died with a killed worker or node: each node cleans
    # its own when a worker starts, not only when `uploads expire` runs there.
    try:
        with app.app_context():
            sweep_spool()
    except Exception:
        logging.getLogger("gunicorn.error").exception("spool not swept at start")
