"""gunicorn settings read from the working directory (``scripts/run`` starts it here).

Each worker builds the district routing index when it starts, not on the first
report it receives (building it takes about two seconds).
"""

import logging


def post_worker_init(worker):
    from server.services.districts import current_index

    app = worker.wsgi
    try:
        with app.app_context():
            current_index()
    except Exception:  # e.g. migrations not applied yet: the first report builds it
        logging.getLogger("gunicorn.error").exception("routing index not built at start")
