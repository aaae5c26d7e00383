"""The start-up heap is frozen out of the garbage collector's walks (app.core.heap)."""
import gc

from fastapi.testclient import TestClient

from app.core import heap


def test_settle_freezes_what_survives_start_up():
    try:
        heap.settle()
        assert gc.get_freeze_count() > 10_000  # the app's modules, mappers, templates…
        assert gc.isenabled()  # garbage made later is still collected
    finally:
        gc.unfreeze()


def test_the_app_settles_its_heap_when_start_up_is_done(engine, monkeypatch):
    from app import main

    calls: list[str] = []
    monkeypatch.setattr(main.heap, "settle", lambda: calls.append("settle"))
    with TestClient(main.create_app()):
        assert calls == ["settle"]
