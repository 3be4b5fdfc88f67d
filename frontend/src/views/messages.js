// A channel's messages: a live log of list items. Sent messages by n, then pending ones
// ("Sending…", aria-busy) and failed ones (the reason, Retry, Discard) after the last sent one.
//
// Windowed: only the rows on screen (plus a margin) are in the DOM, so a channel of 50,000
// messages scrolls smoothly. Row heights are measured once shown and estimated until then;
// the list keeps its place by an anchor (the first visible row and its distance from the top),
// so measuring, new pages of older history and new messages never make it jump. Near the top
// it asks for the next older page (POST /api/history); holes in what the device holds show a
// gap marker until they are filled, and nothing past a hole counts as read.

import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { memo } from 'preact/compat';
import { html } from './html.js';
import { t } from '../lib/i18n.js';
import { MessageBody } from './message.js';

const GROUP_MS = 5 * 60_000;
const BOTTOM_SLACK = 48;
const ESTIMATE = 60;
const OVERSCAN = 400;
const LOAD_OLDER_PX = 1200;

function sameGroup(prev, item) {
  if (!prev || prev.author !== item.author || prev.deleted || item.deleted) return false;
  if (prev.state !== 'sent' || item.state !== 'sent') return prev.state === item.state;
  return typeof prev.at === 'number' && typeof item.at === 'number' && item.at - prev.at < GROUP_MS;
}

/** The first index whose row ends below `y` (binary search over the row offsets). */
function indexAt(offsets, y) {
  let lo = 0;
  let hi = offsets.length - 2;
  if (hi < 0) return 0;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (offsets[mid + 1] <= y) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// Rows re-render only when their own props change (items are stable objects from the store).
const Row = memo(function Row({ app, item, index, size, grouped, firstUnread, gap, seenBy }) {
  return html`<li
    class="row"
    data-state=${item.state}
    data-id=${item.id}
    data-index=${index}
    aria-posinset=${index + 1}
    aria-setsize=${size}
    aria-busy=${item.state === 'pending' ? 'true' : undefined}
  >
    ${gap ? html`<div class="gap-marker" aria-hidden="true"><span>${t('history.gap', { count: gap })}</span></div>` : null}
    ${firstUnread ? html`<div class="unread-divider" aria-hidden="true"><span>${t('message.new')}</span></div>` : null}
    <${MessageBody} app=${app} item=${item} grouped=${grouped && !firstUnread && !gap} seenBy=${seenBy} />
  </li>`;
}, (a, b) => a.item === b.item && a.index === b.index && a.size === b.size && a.grouped === b.grouped
  && a.firstUnread === b.firstUnread && a.gap === b.gap && a.seenBy === b.seenBy);

export function MessageList({ app, channelId, label, readOnly = false }) {
  const q = app.queries;
  const items = q.messages(channelId);
  const { contiguous, gaps } = q.numbers(channelId);
  const channel = q.channel(channelId);
  const isDm = channel?.kind === 'dm' || channel?.kind === 'group';
  const scroller = useRef(null);
  const list = useRef(null);
  const heights = useRef(new Map());
  const [version, setVersion] = useState(0);
  const [, setTick] = useState(0);
  const view = useRef({ top: 0, height: 800, atBottom: true, anchor: null, rendered: [0, 0] });
  const lastCount = useRef(0);

  // Where "New" goes: the read cursor when the channel was opened (later reads do not move it).
  const readAtOpen = useRef(null);
  if (readAtOpen.current === null || readAtOpen.current.channel !== channelId) {
    readAtOpen.current = { channel: channelId, n: q.readCursor(channelId) };
  }
  const me = q.me.value;
  const firstUnreadId = items.find((m) => m.state === 'sent' && m.n > readAtOpen.current.n && m.author !== me)?.id;
  const gapBefore = new Map(gaps.map((g) => [g.before, g.before - g.after - 1]));

  // Row positions depend on the items only; offsets also on measured heights, which change with
  // every newly shown row — so only the cheap array is rebuilt then, not the 50,000-entry map.
  const index = useMemo(() => new Map(items.map((item, i) => [item.id, i])), [items]);
  const offsets = useMemo(() => {
    const offsets = new Float64Array(items.length + 1);
    const h = heights.current;
    for (let i = 0; i < items.length; i++) offsets[i + 1] = offsets[i] + (h.get(items[i].id) ?? ESTIMATE);
    return offsets;
  }, [items, version]);
  const total = offsets[items.length] ?? 0;

  // Where the view is, in list coordinates: bottom, or the anchor row where it was.
  const v = view.current;
  let top;
  if (v.atBottom) top = Math.max(0, total - v.height);
  else if (v.anchor && index.has(v.anchor.id)) top = offsets[index.get(v.anchor.id)] - v.anchor.delta;
  else top = v.top;
  const start = Math.max(0, indexAt(offsets, top - OVERSCAN));
  const end = Math.min(items.length, indexAt(offsets, top + v.height + OVERSCAN) + 1);
  v.rendered = [start, end];
  v.wantTop = top;

  // "Seen by" goes under my latest sent message in a DM.
  let seen = null;
  if (isDm) {
    const mine = [...items].reverse().find((m) => m.state === 'sent' && m.author === me && !m.deleted);
    if (mine) seen = { id: mine.id, who: q.seenBy(channelId, mine.n) };
  }

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
    v.top = el.scrollTop - listTop();
    const i = indexAt(offsets, v.top);
    v.anchor = items[i] ? { id: items[i].id, delta: offsets[i] - v.top } : null;
    const [s, e] = v.rendered;
    const needStart = indexAt(offsets, v.top - OVERSCAN / 2);
    const needEnd = Math.min(items.length, indexAt(offsets, v.top + v.height + OVERSCAN / 2) + 1);
    if (needStart < s || needEnd > e) setTick((x) => x + 1);
    if (el.scrollTop < LOAD_OLDER_PX && app.history?.hasOlder(channelId)) {
      app.history.loadOlder(channelId).catch(() => {});
    }
    markReadIfSeen();
  };

  // A new channel starts at the bottom; leaving it lets "mark as unread" go.
  useEffect(() => {
    v.atBottom = true;
    v.anchor = null;
    lastCount.current = 0;
    if (gaps.length) app.history?.fillGaps(channelId).catch(() => {});
    return () => app.actions.releaseRead(channelId);
  }, [channelId]);

  useEffect(() => {
    const el = scroller.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(() => {
      if (el.clientHeight && el.clientHeight !== v.height) {
        v.height = el.clientHeight;
        setTick((x) => x + 1);
      }
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  // After each render: measure the rows shown, then put the view where it belongs.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    let changed = false;
    for (const row of list.current?.children ?? []) {
      const id = row.dataset.id;
      const h = row.offsetHeight;
      if (id && h && heights.current.get(id) !== h) {
        heights.current.set(id, h);
        changed = true;
      }
    }
    const mineJustSent = items.length > lastCount.current && items[items.length - 1]?.state !== 'sent';
    lastCount.current = items.length;
    if (mineJustSent) v.atBottom = true;
    if (v.atBottom) el.scrollTop = el.scrollHeight;
    else {
      const want = Math.round(listTop() + v.wantTop);
      if (Math.abs(el.scrollTop - want) > 1) el.scrollTop = want;
    }
    if (changed) setVersion((x) => x + 1);
    else markReadIfSeen();
  });

  useEffect(() => {
    const onVisible = () => markReadIfSeen();
    document.addEventListener('visibilitychange', onVisible);
    return () => document.removeEventListener('visibilitychange', onVisible);
  });

  const rows = [];
  for (let i = start; i < end; i++) {
    const item = items[i];
    rows.push(html`<${Row}
      key=${item.id}
      app=${app}
      item=${readOnly ? { ...item, readOnly } : item}
      index=${i}
      size=${items.length}
      grouped=${sameGroup(items[i - 1], item)}
      firstUnread=${item.id === firstUnreadId && i > 0}
      gap=${gapBefore.get(item.n) ?? 0}
      seenBy=${seen?.id === item.id ? seen.who : null}
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
        ${rows}
      </ol>
    </div>
  </div>`;
}
