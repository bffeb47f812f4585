"""What a long-lived server process sets once it has started (gunicorn.conf.py, for each
worker; bench/pages.py for its in-memory renderings, so both sides are measured alike)."""

import gc

# A young collection every 10,000 new containers instead of Python's 700: a page builds
# thousands of ORM rows, dicts and template contexts that mostly die with the request.
GC_THRESHOLDS = (10_000, 10, 10)


def settle_garbage_collector() -> None:
    """Collect what starting left, freeze the rest (the application, its templates, the
    libraries: 170,000 objects that are never garbage), then collect young objects less often.
    Measured on the large plan's pages (bench/RESULTS.md): with Python's defaults, 2.3 ms a
    request in the collector and full collections of up to 100 ms over the whole heap; frozen,
    0.65 ms and 10 ms at most; with these thresholds too, 0.2 ms and 10 ms at most."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
