"""An open contract page says when live updates stop, and stops saying it when they are back
(SECURITY.md catalogue 39, the part only a browser proves: the notice's `sse:direct-etat`
trigger is wired inside the page's stream). Redis really failing is
tests/security/test_redis_down.py; here the bus's state is switched in the test's own server."""

import pytest
from playwright.sync_api import expect

from app.live.bus import STATE_EVENT, EventBus, LiveEvent
from tests.e2e.conftest import screenshot

BUYER = "claire.martin@grandlyon.example"
NOTICE = "Mises à jour en direct indisponibles : rechargez la page pour voir les changements"


@pytest.fixture
def bus(app):
    return app.extensions["live"].bus


def test_an_open_page_shows_then_drops_the_live_notice(page_as, draft_plan, bus, monkeypatch):
    page = page_as(BUYER)
    page.goto(draft_plan)
    status = page.locator("#etat-direct")
    expect(status).to_have_attribute("role", "status")
    expect(status).to_have_text("")
    expect(page.locator("#presence")).to_contain_text("Claire Martin")  # the stream is open

    monkeypatch.setattr(EventBus, "healthy", property(lambda self: False))
    bus._deliver_everywhere(LiveEvent(STATE_EVENT, {"ok": False}))
    expect(status).to_contain_text(NOTICE)
    screenshot(page, "live-bus-down-notice")

    monkeypatch.undo()
    bus._deliver_everywhere(LiveEvent(STATE_EVENT, {"ok": True}))
    expect(status).to_have_text("")
