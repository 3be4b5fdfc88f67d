// A thread beside its channel: the parent message, its replies by thread number (pending ones
// after them), follow / unfollow, and a composer for replies. Opening a thread fetches its
// replies (a snapshot carries only the newest); replies written offline show at once as pending.
// Reading it moves my read mark for the thread. Opened at a reply (`at`, its tn: a search result
// or a mention), it scrolls that reply into view, highlights it and focuses it once it is here.

import { useEffect, useRef } from 'preact/hooks';
import { html } from './html.js';
import { t } from '../lib/i18n.js';
import { href } from './router.js';
import { MessageBody } from './message.js';
import { Composer } from './composer.js';

export function ThreadPane({ app, channelId, parentId, canPost, at = null }) {
  const q = app.queries;
  const parent = q.message(parentId);
  const replies = q.replies(channelId, parentId);
  const following = q.following(parentId) || replies.some((r) => r.author === q.me.value);
  const explicit = q.record('follows', `${q.me.value}:${parentId}`);
  const isFollowing = explicit ? Boolean(explicit.fields.on) : following;

  useEffect(() => {
    if (app.store.status.value !== 'Offline') app.history?.loadThread(channelId, parentId).catch(() => {});
  }, [parentId]);

  const target = at === null ? null : (replies.find((r) => r.tn === at)?.id ?? null);
  const list = useRef(null);
  useEffect(() => {
    const row = [...(list.current?.children ?? [])].find((li) => li.dataset.id === target);
    row?.scrollIntoView({ block: 'center' });
    row?.focus({ preventScroll: true });
  }, [target]);

  // An open thread is read up to its newest sent reply (mentions in it stop counting as unread).
  const lastTn = replies.reduce((top, r) => (r.state === 'sent' && r.tn > top ? r.tn : top), 0);
  useEffect(() => {
    const markRead = () => {
      if (lastTn > 0 && document.visibilityState === 'visible') {
        app.actions.markThreadRead(channelId, parentId, lastTn).catch(() => {});
      }
    };
    markRead();
    document.addEventListener('visibilitychange', markRead);
    return () => document.removeEventListener('visibilitychange', markRead);
  }, [parentId, lastTn]);

  return html`<aside class="thread" aria-labelledby="thread-title">
    <header class="thread__header">
      <h2 id="thread-title" class="thread__title">${t('thread.title')}</h2>
      <button type="button" class="button button--small button--ghost" aria-pressed=${isFollowing ? 'true' : 'false'}
        onClick=${() => app.actions.setFollowing(channelId, parentId, !isFollowing)}>
        ${isFollowing ? t('thread.unfollow') : t('thread.follow')}
      </button>
      <a class="icon-button" href=${href('channel', channelId)} title=${t('thread.close')}>
        <span aria-hidden="true">×</span><span class="visually-hidden">${t('thread.close')}</span>
      </a>
    </header>
    <div class="thread__scroll">
      ${parent ? html`<div class="thread__parent"><${MessageBody} app=${app} item=${parent} inThread=${true} /></div>` : html`<p class="empty">${t('thread.missing')}</p>`}
      <p class="thread__count">${t('thread.replies', { count: replies.length })}</p>
      <ol class="thread__replies" aria-label=${t('thread.repliesLabel')} ref=${list}>
        ${replies.map(
          (item) => html`<li key=${item.id} class=${item.id === target ? 'row row--target' : 'row'}
            tabindex=${item.id === target ? '-1' : undefined} data-state=${item.state} data-id=${item.id}
            aria-busy=${item.state === 'pending' ? 'true' : undefined}>
            <${MessageBody} app=${app} item=${canPost ? item : { ...item, readOnly: true }} inThread=${true} />
          </li>`,
        )}
      </ol>
    </div>
    ${canPost && parent && !parent.deleted
      ? html`<${Composer} key=${`t:${parentId}`} app=${app} channelId=${channelId} thread=${parentId}
          placeholder=${t('thread.placeholder')} />`
      : null}
  </aside>`;
}
