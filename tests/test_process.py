"""A gunicorn worker settles its garbage collector once started (app/process.py)."""

import gc
import importlib.util
import signal
from pathlib import Path
from types import SimpleNamespace

import pytest

from app.process import GC_THRESHOLDS, settle_garbage_collector

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def collector_restored():
    thresholds, handler = gc.get_threshold(), signal.getsignal(signal.SIGTERM)
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)
    signal.signal(signal.SIGTERM, handler)


def test_what_a_settled_process_started_with_is_never_scanned_again(collector_restored):
    settle_garbage_collector()
    assert gc.get_threshold() == GC_THRESHOLDS
    assert gc.get_freeze_count() > 10_000  # the test process: pytest, Flask, SQLAlchemy, the app
    assert gc.get_count()[0] < 1_000  # what is allocated afterwards is young again


def test_each_gunicorn_worker_settles_its_collector_once_started(collector_restored):
    spec = importlib.util.spec_from_file_location("gunicorn_settings", ROOT / "gunicorn.conf.py")
    settings = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(settings)
    worker = SimpleNamespace(wsgi=None, handle_exit=lambda sig, frame: None, log=None)
    settings.post_worker_init(worker)
    assert gc.get_threshold() == GC_THRESHOLDS
    assert gc.get_freeze_count() > 10_000
