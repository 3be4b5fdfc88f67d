// A channel's messages: a live log of list items. Sent messages by n, then pending ones
// ("Sending…", aria-busy) and failed ones (the reason, Retry, Discard) after the last sent one.
// Text is rendered as text nodes only: user content never becomes markup.

import { useEffect, useRef } from 'preact/hooks';
import { html } from './html.js';
import { t, formatTime, formatDateTime } from '../lib/i18n.js';
import { Avatar } from './avatar.js';

const GROUP_MS = 5 * 60_000;
const BOTTOM_SLACK = 48;

function sameGroup(prev, item) {
  if (!prev || prev.author !== item.author) return false;
  if (prev.state !== 'sent' || item.state !== 'sent') return prev.state === item.state;
  return typeof prev.at === 'number' && typeof item.at === 'number' && item.at - prev.at < GROUP_MS;
}

function Message({ app, item, grouped, firstUnread }) {
  const name = app.queries.userName(item.author) || t('message.someone');
  const busy = item.state === 'pending';
  if (firstUnread) grouped = false;
  return html`${firstUnread
      ? html`<li class="unread-divider" aria-hidden="true"><span>${t('message.new')}</span></li>`
      : null}<li
    class=${`msg msg--${item.state}${grouped ? ' msg--grouped' : ''}`}
    data-state=${item.state}
    data-id=${item.id}
    aria-busy=${busy ? 'true' : undefined}
  >
    ${grouped ? html`<span class="msg__gutter" aria-hidden="true"></span>` : html`<${Avatar} id=${item.author} name=${name} />`}
    <div class="msg__body">
      ${grouped
        ? null
        : html`<div class="msg__meta">
            <span class="msg__author">${name}</span>
            ${typeof item.at === 'number'
              ? html`<time class="msg__time" datetime=${new Date(item.at).toISOString()} title=${formatDateTime(item.at)}>
                  ${formatTime(item.at)}
                </time>`
              : null}
          </div>`}
      <p class="msg__text">${item.text}</p>
      ${item.state === 'pending' ? html`<span class="msg__state">${t('message.sending')}</span>` : null}
      ${item.state === 'failed'
        ? html`<div class="msg__failed">
            <span class="msg__error">${t('message.failed', { reason: item.reason || item.code })}</span>
            <button type="button" class="button button--small" onClick=${() => app.actions.retry(item.mid)}>
              ${t('message.retry')}
            </button>
            <button type="button" class="button button--small button--ghost" onClick=${() => app.actions.discard(item.mid)}>
              ${t('message.discard')}
            </button>
          </div>`
        : null}
    </div>
  </li>`;
}

export function MessageList({ app, channelId, label }) {
  const items = app.queries.messages(channelId);
  const { contiguous } = app.queries.numbers(channelId);
  const scroller = useRef(null);
  // Where "New" goes: the read cursor when the channel was opened (later reads do not move it).
  const readAtOpen = useRef(null);
  if (readAtOpen.current === null || readAtOpen.current.channel !== channelId) {
    readAtOpen.current = { channel: channelId, n: app.queries.readCursor(channelId) };
  }
  const firstUnreadId = items.find(
    (m) => m.state === 'sent' && m.n > readAtOpen.current.n && m.author !== app.queries.me.value,
  )?.id;
  const atBottom = useRef(true);
  const lastCount = useRef(0);

  const markReadIfSeen = () => {
    const el = scroller.current;
    if (!el || document.visibilityState !== 'visible') return;
    const bottom = el.scrollHeight - el.scrollTop - el.clientHeight <= BOTTOM_SLACK;
    atBottom.current = bottom;
    if (bottom && contiguous > 0) app.actions.markRead(channelId, contiguous).catch(() => {});
  };

  // New channel: start at the bottom.
  useEffect(() => {
    atBottom.current = true;
    lastCount.current = 0;
  }, [channelId]);

  // New messages: stay pinned to the bottom if we were there, then count them as read.
  useEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const mineJustSent = items.length > lastCount.current && items[items.length - 1]?.state !== 'sent';
    if (atBottom.current || mineJustSent) el.scrollTop = el.scrollHeight;
    lastCount.current = items.length;
    markReadIfSeen();
  });

  useEffect(() => {
    const onVisible = () => markReadIfSeen();
    document.addEventListener('visibilitychange', onVisible);
    return () => document.removeEventListener('visibilitychange', onVisible);
  });

  return html`<div class="messages" ref=${scroller} onScroll=${markReadIfSeen}>
    ${items.length === 0 ? html`<p class="messages__empty">${t('channel.empty')}</p>` : null}
    <div role="log" aria-label=${label} aria-live="polite" aria-relevant="additions">
      <ol class="messages__list">
        ${items.map(
          (item, i) => html`<${Message}
            key=${item.id}
            app=${app}
            item=${item}
            grouped=${sameGroup(items[i - 1], item)}
            firstUnread=${item.id === firstUnreadId && i > 0}
          />`,
        )}
      </ol>
    </div>
  </div>`;
}
