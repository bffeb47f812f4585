"""gunicorn settings for Progrès in production: `gunicorn -c gunicorn.conf.py wsgi:app`.

Every open plan page holds one live stream, and a stream holds one thread: a gthread worker
with THREADS threads serves about THREADS - 8 viewers while keeping threads for ordinary
requests. Several workers (or hosts) need LIVE_BUS_URL=redis://… so that an edit served by one
reaches the pages held by the others (README, « En production »)."""

import os
import signal

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "64"))
timeout = 60  # a stream writes a keepalive every 10 s, so a live worker is never silent
keepalive = 5
graceful_timeout = 5
accesslog = "-"


def _close_live_streams(worker):
    app = getattr(worker, "wsgi", None)
    live = getattr(app, "extensions", {}).get("live") if app is not None else None
    if live is not None:
        live.bus.close()  # every stream returns within a second instead of holding shutdown


def _warm_up_documents(worker):
    """WeasyPrint's first document in a process loads fonts and styles (≈ 1 s more): render
    the sample amendment once at start, so the first buyer to generate one waits < 1 s."""
    app = getattr(worker, "wsgi", None)
    if app is None or os.environ.get("PDF_WARM_UP", "1") != "1":
        return
    if os.environ.get("PROGRES_CONFIG") != "production":
        return
    from app.changes.documents import render, samples

    try:
        with app.app_context(), app.test_request_context():
            render.amendment_pdf(samples.demo_amendment())
    except Exception:  # the worker still serves; documents will just start cold
        worker.log.exception("Préchauffage des documents PDF impossible")


def post_worker_init(worker):
    """Once the worker has started: its garbage collector settled (app/process.py); on a
    graceful stop, end the live streams first (else shutdown waits for them)."""
    from app.process import settle_garbage_collector

    _warm_up_documents(worker)
    settle_garbage_collector()
    stop = worker.handle_exit

    def handle_exit(sig, frame):
        _close_live_streams(worker)
        stop(sig, frame)

    signal.signal(signal.SIGTERM, handle_exit)


def worker_int(worker):
    _close_live_streams(worker)
