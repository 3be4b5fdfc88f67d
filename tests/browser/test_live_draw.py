"""A message heard on the live channel is drawn as soon as it is applied (issue 17, B's screen)."""

from __future__ import annotations

import pytest

from tests.browser.conftest import Team, open_channel, send_message, until

pytestmark = pytest.mark.browser

# On Bob's page: note whether the row holding `text` first reached the DOM inside an animation
# frame's callback (the draw waited for the frame) or outside any (drawn when applied). Every
# callback of requestAnimationFrame is marked while it runs and until the microtasks it queued,
# which include the MutationObserver's, have run.
WATCH = r"""
(text) => {
  let inFrame = false;
  const raf = window.requestAnimationFrame.bind(window);
  window.requestAnimationFrame = (callback) => raf((time) => {
    inFrame = true;
    try {
      callback(time);
    } finally {
      queueMicrotask(() => { inFrame = false; });
    }
  });
  new MutationObserver(() => {
    if (window.__drawn !== undefined) return;
    const rows = [...document.querySelectorAll('[role=log] li')];
    if (!rows.some((li) => (li.textContent ?? '').includes(text))) return;
    window.__drawn = inFrame ? 'in a frame' : 'when applied';
  }).observe(document.body, { childList: true, subtree: true, characterData: true });
}
"""


def test_a_live_message_is_drawn_when_applied_not_at_the_next_frame(team: Team) -> None:
    ada, bob = team
    open_channel(ada.page, "general")
    open_channel(bob.page, "general")
    bob.page.evaluate(WATCH, "Drawn at once")

    send_message(ada.page, "Drawn at once")

    until(bob.page, "window.__drawn !== undefined")
    assert bob.page.evaluate("window.__drawn") == "when applied"
    assert bob.errors == []
