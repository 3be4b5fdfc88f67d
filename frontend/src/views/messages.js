// A channel's messages: a live log of list items. Sent messages by n, then pending ones
// ("Sending…", aria-busy) and failed ones (the reason, Retry, Discard) after the last sent one.
//
// Windowed: only the rows on screen (plus a margin) are in the DOM, so a channel of 50,000
// messages scrolls smoothly. Row heights are measured once shown and estimated until then
// (lib/row-heights.js); the list keeps its place by an anchor (a row and its distance from the
// top of the view), so measuring, new pages of older history and new messages never make it
// jump. Near the top it asks for the next older page (POST /api/history); holes in what the
// device holds show a gap marker until they are filled, and nothing past a hole counts as read.
//
// A frame of a fast scroll: a render that mounts the rows that came into view, one read of
// every shown row's height (one layout) before any write, and a cheap re-render that moves the
// padding to the measured heights, only when they change the plan (lib/list-window.js, Rule 2:
// a live message at the bottom is drawn once). Nothing in it walks all 50,000 rows but a
// typed-array sum.
//
// Opened at a message (`at`, its n: a search result or a mention), the list centres that row
// once its height is known, highlights it and moves focus to it, so a screen reader reads it.
// A message older than the device holds is fetched first, with the page around it.

import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { memo } from 'preact/compat';
import { html } from './html.js';
import { t } from '../lib/i18n.js';
import { RowHeights } from '../lib/row-heights.js';
import { MessageBody } from './message.js';
import { MeetingRow } from './meeting-bar.js';
import { channelMeetings, withMeetings } from '../lib/meeting-timeline.js';
import { locate, planWindow, stillPlanned } from '../lib/list-window.js';

const GROUP_MS = 5 * 60_000;
const BOTTOM_SLACK = 48;
const ESTIMATE = 40;
// Rows kept beyond each edge of the view, so a wheel notch or an arrow key mounts nothing most
// frames. A fling that moves more than a screen per frame outruns any margin (every frame is
// rows never shown), so then there is none: the margin would only add rows to mount and lay out.
const OVERSCAN = 240;
const LOAD_OLDER_PX = 1200;

function sameGroup(prev, item) {
  if (!prev || prev.author !== item.author || prev.deleted || item.deleted) return false;
  if (prev.state !== 'sent' || item.state !== 'sent') return prev.state === item.state;
  return typeof prev.at === 'number' && typeof item.at === 'number' && item.at - prev.at < GROUP_MS;
}

/** Where "New" goes: the first sent message past the read cursor that someone else wrote. */
function firstUnread(items, readN, me) {
  let found;
  for (let i = items.length - 1; i >= 0; i--) {
    const m = items[i];
    if (m.state !== 'sent') continue;
    if (m.n <= readN) break;
    if (m.author !== me) found = m.id;
  }
  return found;
}

/** My latest sent message (where "Seen by" goes in a DM). */
function latestMine(items, me) {
  for (let i = items.length - 1; i >= 0; i--) {
    const m = items[i];
    if (m.state === 'sent' && m.author === me && !m.deleted) return m;
  }
  return null;
}

/** The index of the sent message numbered n, or -1 (sent messages come first, by n). */
function indexOfN(items, n) {
  let lo = 0;
  let hi = items.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const m = items[mid].n ?? Infinity;
    if (m === n) return mid;
    if (m < n) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}


// A row's body re-renders only when its message, grouping or "seen by" changes.
const Body = memo(MessageBody);

// Rows re-render only when their own props change (items are stable objects from the store). The
// size of the set (aria-setsize) is not one: every new message changes it on every row, and as a
// prop it re-rendered every shown row on every message (~25 rows, a new body to compare in each).
// MessageList writes it after each render instead (its layout effect).
/** @type {import('preact').FunctionComponent<Record<string, any>>} */
const Row = memo(function Row({ app, item, index, grouped, firstUnread, gap, seenBy, readOnly, target }) {
  return html`<li
    class=${target ? 'row row--target' : 'row'}
    tabindex=${target ? '-1' : undefined}
    data-state=${item.state}
    data-id=${item.id}
    data-index=${index}
    aria-posinset=${index + 1}
    aria-busy=${item.state === 'pending' ? 'true' : undefined}
  >
    ${gap ? html`<div class="gap-marker" aria-hidden="true"><span>${t('history.gap', { count: gap })}</span></div>` : null}
    ${firstUnread ? html`<div class="unread-divider" aria-hidden="true"><span>${t('message.new')}</span></div>` : null}
    ${item.kind === 'meeting'
      ? html`<${MeetingRow} app=${app} channelId=${item.channel} meetingId=${item.meeting} canJoin=${!readOnly} />`
      : html`<${Body} app=${app} item=${readOnly ? { ...item, readOnly } : item} grouped=${grouped && !firstUnread && !gap}
      seenBy=${seenBy} />`}
  </li>`;
}, (a, b) => a.item === b.item && a.index === b.index && a.grouped === b.grouped
  && a.firstUnread === b.firstUnread && a.gap === b.gap && a.seenBy === b.seenBy && a.readOnly === b.readOnly
  && a.target === b.target);

export function MessageList({ app, channelId, label, readOnly = false, at = null }) {
  const q = app.queries;
  // The channel's meetings are rows too, placed by when they started (lib/meeting-timeline.js).
  const messages = q.messages(channelId);
  const meetings = q.collection('meetings').value;
  const hasOlder = app.history?.hasOlder(channelId) ?? false;
  const items = useMemo(() => withMeetings(messages, channelMeetings(meetings, channelId), hasOlder), [messages, meetings, hasOlder, channelId]);
  const { contiguous, gaps } = q.numbers(channelId);
  const channel = q.channel(channelId);
  const isDm = channel?.kind === 'dm' || channel?.kind === 'group';
  const scroller = useRef(null);
  const list = useRef(null);
  const sizes = useRef(null);
  sizes.current ??= new RowHeights(ESTIMATE);
  const [, setTick] = useState(0);
  const rerender = () => setTick((x) => x + 1);
  /** Scroll state kept across renders (not state: changing it must not re-render). @type {import('preact').RefObject<Record<string, any>>} */
  const view = useRef({ top: 0, height: 800, atBottom: true, anchor: null, rendered: [0, 0], jump: null });
  const lastCount = useRef(0);
  // The message jumped to, highlighted and focusable while it stays in the DOM.
  const [target, setTarget] = useState(null);
  const v = view.current;

  // What the list was opened at: a new channel starts at the bottom (also while a message asked
  // for is on its way), then goes to that message.
  const opened = useRef(null);
  if (opened.current?.channel !== channelId || opened.current.at !== at) {
    if (opened.current?.channel !== channelId) {
      v.atBottom = true;
      v.anchor = null;
      lastCount.current = 0;
    }
    opened.current = { channel: channelId, at };
    v.jump = at === null ? null : { n: at, focus: false };
  }

  // Where "New" goes: the read cursor when the channel was opened (later reads do not move it).
  const readAtOpen = useRef(null);
  if (readAtOpen.current === null || readAtOpen.current.channel !== channelId) {
    readAtOpen.current = { channel: channelId, n: q.readCursor(channelId) };
  }
  const me = q.me.value;
  const firstUnreadId = useMemo(() => firstUnread(items, readAtOpen.current.n, me), [items, readAtOpen.current, me]);
  const gapBefore = new Map(gaps.map((g) => [g.before, g.before - g.after - 1]));

  const rows = sizes.current;
  rows.setRows(items);
  const offsets = rows.offsets;
  const total = rows.total;

  // A jump whose message is held: anchor it centred (again on every render until it settles, as
  // its measured height replaces the estimate).
  if (v.jump) {
    const i = indexOfN(items, v.jump.n);
    if (i >= 0) {
      v.jump.id = items[i].id;
      v.atBottom = false;
      v.anchor = { id: v.jump.id, index: i, delta: Math.max(0, (v.height - (offsets[i + 1] - offsets[i])) / 2) };
    }
  }

  // Where the view is, in list coordinates: bottom, or the anchor row where it was.
  const plan = planWindow(rows, items, v, v.flinging ? 0 : OVERSCAN);
  const { top, start, end } = plan;
  v.rendered = [start, end];
  v.drawn = plan;
  v.wantTop = top;

  // "Seen by" goes under my latest sent message in a DM.
  const mine = useMemo(() => (isDm ? latestMine(items, me) : null), [items, me, isDm]);
  const seen = mine ? { id: mine.id, who: q.seenBy(channelId, mine.n) } : null;

  const listTop = () => list.current?.offsetTop ?? 0;

  const markReadIfSeen = () => {
    const el = scroller.current;
    if (!el || document.visibilityState !== 'visible') return;
    if (v.atBottom && contiguous > 0) app.actions.markRead(channelId, contiguous).catch(() => {});
  };

  const onScroll = () => {
    const el = scroller.current;
    if (!el) return;
    v.height = el.clientHeight || v.height;
    v.atBottom = el.scrollHeight - el.scrollTop - el.clientHeight <= BOTTOM_SLACK;
    const top = el.scrollTop - listTop();
    v.flinging = Math.abs(top - v.top) > v.height;
    v.top = top;
    const i = rows.indexAt(v.top);
    v.anchor = items[i] ? { id: items[i].id, index: i, delta: offsets[i] - v.top } : null;
    const [s, e] = v.rendered;
    const needStart = rows.indexAt(v.top - OVERSCAN / 2);
    const needEnd = Math.min(items.length, rows.indexAt(v.top + v.height + OVERSCAN / 2) + 1);
    if (needStart < s || needEnd > e) rerender();
    if (el.scrollTop < LOAD_OLDER_PX && app.history?.hasOlder(channelId)) {
      app.history.loadOlder(channelId).catch(() => {});
    }
    markReadIfSeen();
  };

  // Opening a channel fills its holes; leaving it lets "mark as unread" go.
  useEffect(() => {
    if (gaps.length) app.history?.fillGaps(channelId).catch(() => {});
    return () => app.actions.releaseRead(channelId);
  }, [channelId]);

  // A jump to a message older than the device holds fetches the page around it (then the hole
  // between that page and the rest is a gap like any other). One newer than what is held, or
  // in a hole, arrives with the next sync or gap fill.
  useEffect(() => {
    if (at === null || indexOfN(items, at) >= 0) return;
    const { low } = q.numbers(channelId);
    if (low && at > low) return;
    app.history?.loadAround(channelId, at)
      .then(() => app.history.fillGaps(channelId))
      .catch(() => {});
  }, [channelId, at]);

  // The highlight goes with the row: once scrolled out of the DOM it is forgotten.
  if (target !== null) v.targetIndex = locate(items, target, v.targetIndex);
  useEffect(() => {
    if (target !== null && (v.targetIndex < start || v.targetIndex >= end)) setTarget(null);
  });

  useEffect(() => {
    const el = scroller.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(() => {
      if (el.clientHeight && el.clientHeight !== v.height) {
        v.height = el.clientHeight;
        rerender();
      }
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  // After each render: read every shown row's height (one layout), then write the scroll
  // position — reads before writes, so the browser lays out once here and not again at paint.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    let changed = false;
    for (const row of list.current?.children ?? []) {
      if (rows.measure(Number(row.dataset.index), row.offsetHeight)) changed = true;
    }
    const height = el.scrollHeight;
    const offset = listTop();
    // Writes from here on. The set's size goes on each row here, not through its props (Row).
    const size = String(items.length);
    for (const row of list.current?.children ?? []) {
      if (row.getAttribute('aria-setsize') !== size) row.setAttribute('aria-setsize', size);
    }
    const want = Math.round(offset + v.wantTop);
    // (Not on the first render of a channel: a message of mine still pending there is not news.)
    const mineJustSent = lastCount.current > 0 && items.length > lastCount.current && !['sent', 'meeting'].includes(items[items.length - 1]?.state);
    lastCount.current = items.length;
    if (mineJustSent) {
      v.jump = null;
      v.atBottom = true;
    }
    if (v.atBottom) el.scrollTop = height;
    else if (Math.abs(el.scrollTop - want) > 1) el.scrollTop = want;
    v.top = el.scrollTop - offset;
    // Drawn again only when the measured heights change the plan (lib/list-window.js, Rule 2); a
    // jump settling is always drawn again (its row is centred by its measured height).
    const redraw = changed && (v.jump || !stillPlanned(v.drawn, planWindow(rows, items, v, v.flinging ? 0 : OVERSCAN), v.atBottom));
    if (redraw) rerender();
    else if (v.jump?.id) {
      // The jump has settled: highlight the row (a render), then focus it (below, once it is
      // focusable). From here on the anchor is whatever the reader scrolls to.
      v.jump.focus = true;
      setTarget(v.jump.id);
    } else v.readAfterPaint = true;
    if (v.jump?.focus && target === v.jump.id) {
      v.jump = null;
      for (const row of list.current?.children ?? []) if (row.dataset.id === target) row.focus({ preventScroll: true });
    }
  });

  // Marking read is a write (a read cursor through the send worker): after the frame that shows
  // the rows, not inside it, so a new message is painted without waiting for it.
  useEffect(() => {
    if (!v.readAfterPaint) return;
    v.readAfterPaint = false;
    markReadIfSeen();
  });

  useEffect(() => {
    const onVisible = () => markReadIfSeen();
    document.addEventListener('visibilitychange', onVisible);
    return () => document.removeEventListener('visibilitychange', onVisible);
  });

  const shown = [];
  for (let i = start; i < end; i++) {
    const item = items[i];
    shown.push(html`<${Row}
      key=${item.id}
      app=${app}
      item=${item}
      readOnly=${readOnly}
      index=${i}
      grouped=${sameGroup(items[i - 1], item)}
      firstUnread=${item.id === firstUnreadId && i > 0}
      gap=${gapBefore.get(item.n) ?? 0}
      seenBy=${seen?.id === item.id ? seen.who : null}
      target=${item.id === target}
    />`);
  }
  const loading = app.history?.loading.value.has(channelId);
  const older = app.history?.hasOlder(channelId);

  return html`<div class="messages" ref=${scroller} onScroll=${onScroll}>
    ${items.length === 0 ? html`<p class="messages__empty">${t('channel.empty')}</p>` : null}
    ${items.length && (loading || older)
      ? html`<p class="messages__top">${loading ? t('history.loading') : t('history.more')}</p>`
      : null}
    <div role="log" aria-label=${label} aria-live="polite" aria-relevant="additions">
      <ol class="messages__list" ref=${list} style=${{ paddingTop: `${offsets[start]}px`, paddingBottom: `${total - offsets[end]}px` }}>
        ${shown}
      </ol>
    </div>
  </div>`;
}
