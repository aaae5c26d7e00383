"""The start-up heap, set aside from Python's cyclic garbage collector.

A full collection walks every tracked object of the oldest generation. After start-up that is
some 110,000 objects (modules, SQLAlchemy's mappers and statement caches, templates) that will
never be garbage, and a full collection costs about 90 ms of CPU, paid by whichever request
happens to cross the collector's threshold: the national dashboard roll-up's p95 was 4× its
median because about one call in six paid for one (measured: `bench/rollup_bench.py`, see
docs/benchmarks.md). `settle` collects once and freezes what survives (`gc.freeze`), so later
collections walk only what requests make; nothing else changes (reference counting frees as
before, and garbage made after start-up is still collected).
"""
import gc


def settle() -> None:
    """Call once, when start-up is done (the app's lifespan; benchmarks measuring in-process)."""
    gc.collect()
    gc.freeze()
