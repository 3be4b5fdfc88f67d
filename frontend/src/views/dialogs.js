// The app's dialogs: new channel, new direct message, invite people.

import { useState } from 'preact/hooks';
import { html } from './html.js';
import { t } from '../lib/i18n.js';
import { Dialog } from './dialog.js';
import { Avatar } from './avatar.js';
import { navigate } from './router.js';

export function NewChannelDialog({ app, onClose }) {
  const [name, setName] = useState('');
  const [topic, setTopic] = useState('');
  const [kind, setKind] = useState('public');
  const [error, setError] = useState(null);

  async function submit(event) {
    event.preventDefault();
    const clean = name.trim().replace(/^#/, '');
    if (!clean) return setError(t('channel.nameRequired'));
    const taken = app.queries.channels.value.some((c) => c.kind === 'public' && c.name === clean);
    if (taken) return setError(t('channel.nameTaken', { name: clean }));
    try {
      const id = await app.actions.createChannel({ name: clean, kind, topic: topic.trim() });
      onClose();
      navigate('channel', id);
    } catch (err) {
      setError(err?.kind === 'quota' ? t('storage.quota') : t('composer.failed'));
    }
  }

  return html`<${Dialog} id="new-channel" title=${t('channel.new')} onClose=${onClose}>
    <form class="dialog__form" onSubmit=${submit}>
      <div class="field">
        <label for="channel-name">${t('channel.name')}</label>
        <input id="channel-name" required maxlength="80" autocomplete="off" value=${name}
          onInput=${(e) => setName(e.currentTarget.value)} />
      </div>
      <div class="field">
        <label for="channel-topic">${t('channel.topic')}</label>
        <input id="channel-topic" maxlength="250" autocomplete="off" value=${topic}
          onInput=${(e) => setTopic(e.currentTarget.value)} />
      </div>
      <fieldset class="choices">
        <legend>${t('channel.visibility')}</legend>
        <label class="choice">
          <input type="radio" name="kind" value="public" checked=${kind === 'public'} onChange=${() => setKind('public')} />
          <span><strong>${t('channel.public')}</strong><span class="choice__hint">${t('channel.publicHint')}</span></span>
        </label>
        <label class="choice">
          <input type="radio" name="kind" value="private" checked=${kind === 'private'} onChange=${() => setKind('private')} />
          <span><strong>${t('channel.private')}</strong><span class="choice__hint">${t('channel.privateHint')}</span></span>
        </label>
      </fieldset>
      ${error ? html`<p class="form-error" role="alert">${error}</p>` : null}
      <div class="dialog__actions">
        <button type="button" class="button button--ghost" onClick=${onClose}>${t('dialog.cancel')}</button>
        <button type="submit" class="button button--primary">${t('channel.create')}</button>
      </div>
    </form>
  <//>`;
}

/** People who pass `keep` and whose name or email contains the filter text. */
function matchingPeople(app, filter, keep) {
  const needle = filter.trim().toLowerCase();
  return app.queries.people.value.filter(
    (p) => keep(p) && (!needle || p.name.toLowerCase().includes(needle) || p.email.toLowerCase().includes(needle)),
  );
}

/** A list of people to pick from, with presence dots. */
function PeopleList({ app, people, empty, onPick }) {
  if (people.length === 0) return html`<p class="empty">${empty}</p>`;
  return html`<ul class="people">
    ${people.map(
      (p) => html`<li key=${p.id}>
        <button type="button" class="person" onClick=${() => onPick(p)}>
          <${Avatar} id=${p.id} name=${p.name} size="sm" presence=${app.queries.presence(p.id)} />
          <span class="person__name">${p.name}</span>
          ${p.email ? html`<span class="person__email">${p.email}</span>` : null}
        </button>
      </li>`,
    )}
  </ul>`;
}

export function NewMessageDialog({ app, onClose }) {
  const [filter, setFilter] = useState('');
  const me = app.queries.me.value;
  const people = matchingPeople(app, filter, (p) => p.id !== me);

  async function open(person) {
    const id = await app.actions.startDirectMessage(person.id);
    onClose();
    navigate('channel', id);
  }

  return html`<${Dialog} id="new-message" title=${t('dm.new')} onClose=${onClose}>
    <div class="dialog__form">
      <div class="field">
        <label for="people-filter">${t('dm.find')}</label>
        <input id="people-filter" type="search" autocomplete="off" value=${filter}
          onInput=${(e) => setFilter(e.currentTarget.value)} />
      </div>
      <${PeopleList} app=${app} people=${people} empty=${t('dm.nobody')} onPick=${open} />
    </div>
  <//>`;
}

export function InviteDialog({ app, onClose }) {
  const [invite, setInvite] = useState(null);
  const [error, setError] = useState(null);
  const [copied, setCopied] = useState(false);

  async function create() {
    setError(null);
    try {
      const made = await app.actions.createInvite();
      setInvite({ ...made, url: new URL(made.url, location.origin).href });
    } catch (err) {
      setError(err.offline ? t('invite.offline') : err.message);
    }
  }

  async function copy() {
    try {
      await navigator.clipboard.writeText(invite.url);
      setCopied(true);
    } catch {
      /** @type {HTMLInputElement | null} */ (document.getElementById('invite-url'))?.select();
    }
  }

  return html`<${Dialog} id="invite" title=${t('invite.title')} onClose=${onClose}>
    <div class="dialog__form">
      <p class="lead">${t('invite.lead')}</p>
      ${invite
        ? html`<div class="field">
              <label for="invite-url">${t('invite.link')}</label>
              <div class="copy-row">
                <input id="invite-url" readonly value=${invite.url} onFocus=${(e) => e.currentTarget.select()} />
                <button type="button" class="button" onClick=${copy}>${copied ? t('invite.copied') : t('invite.copy')}</button>
              </div>
            </div>`
        : html`<button type="button" class="button button--primary" onClick=${create}>${t('invite.create')}</button>`}
      ${error ? html`<p class="form-error" role="alert">${error}</p>` : null}
    </div>
  <//>`;
}

export function AddPeopleDialog({ app, channelId, onClose }) {
  const [filter, setFilter] = useState('');
  const [added, setAdded] = useState([]);
  const inChannel = new Set(app.queries.membersOf(channelId));
  const people = matchingPeople(app, filter, (p) => !inChannel.has(p.id));
  const channel = app.queries.channel(channelId);

  async function add(person) {
    await app.actions.addMember(channelId, person.id);
    setAdded([...added, person.name]);
  }

  return html`<${Dialog} id="add-people" title=${t('members.addTitle', { name: channel?.name ?? '' })} onClose=${onClose}>
    <div class="dialog__form">
      <div class="field">
        <label for="add-filter">${t('dm.find')}</label>
        <input id="add-filter" type="search" autocomplete="off" value=${filter} onInput=${(e) => setFilter(e.currentTarget.value)} />
      </div>
      ${added.length ? html`<p class="notice" role="status">${t('members.added', { names: added.join(', ') })}</p>` : null}
      <${PeopleList} app=${app} people=${people} empty=${t('members.everyone')} onPick=${add} />
    </div>
  <//>`;
}
