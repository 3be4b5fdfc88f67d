// Notifications on the devices page: turn them on (a click, never on load), the devices that
// receive them (each can be turned off), private previews, pause and a do-not-disturb schedule.

import { useEffect, useState } from 'preact/hooks';
import { html } from './html.js';
import { t } from '../lib/i18n.js';

const HOUR_MS = 3_600_000;

function minutes(text) {
  const [h, m] = text.split(':').map(Number);
  return h * 60 + m;
}

function clock(value) {
  return typeof value === 'number' ? `${String(Math.floor(value / 60)).padStart(2, '0')}:${String(value % 60).padStart(2, '0')}` : '';
}

function tomorrowMorning(now = new Date()) {
  const next = new Date(now);
  next.setDate(next.getDate() + 1);
  next.setHours(8, 0, 0, 0);
  return next.getTime();
}

export function NotificationSettings({ app }) {
  const push = app.push;
  const [subs, setSubs] = useState(null);
  const [error, setError] = useState(null);
  const notices = app.queries.record('notices', app.queries.me.value) ?? {};
  const state = push?.state.value ?? 'unsupported';

  async function load() {
    try {
      setSubs(await app.actions.pushSubscriptions());
      setError(null);
    } catch (err) {
      setError(err.offline ? t('devices.offline') : err.message);
    }
  }

  useEffect(() => {
    load();
  }, [state]);

  async function revoke(sub) {
    try {
      await app.actions.revokePushSubscription(sub.id);
      if (sub.this_device) await push?.forget();
      await load();
    } catch (err) {
      setError(err.offline ? t('devices.offline') : err.message);
    }
  }

  const paused = typeof notices.paused_until === 'number' && notices.paused_until > Date.now();
  const status = state === 'failed' ? t(`push.why.${push.reason.value ?? 'unsupported'}`) : t(`push.state.${state}`);
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;

  function saveQuiet(event) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const from = String(form.get('from') || '');
    const to = String(form.get('to') || '');
    app.actions.setNotices(from && to ? { dnd_from: minutes(from), dnd_to: minutes(to), tz: zone } : { dnd_from: 0, dnd_to: 0 });
  }

  return html`<section class="page-section" aria-labelledby="notifications-title">
    <h2 id="notifications-title" class="page-section__title">${t('push.title')}</h2>
    <p class="lead" aria-live="polite">${status}</p>
    ${state !== 'on' && state !== 'unsupported' && state !== 'working'
      ? html`<button type="button" class="button" onClick=${() => push.enable()}>${t('push.enable')}</button>`
      : null}
    ${error ? html`<p class="form-error" role="alert">${error}</p>` : null}
    ${subs?.length
      ? html`<ul class="card-list" aria-label=${t('push.devices')}>
          ${subs.map(
            (s) => html`<li key=${s.id} class="card-list__item">
              <div class="card-list__text">
                <span class="card-list__title">${s.device_name || t('devices.unnamed')}</span>
                <p class="card-list__sub">${s.service}</p>
              </div>
              ${s.this_device ? html`<span class="pill pill--accent">${t('devices.current')}</span>` : null}
              <button type="button" class="button button--small" onClick=${() => revoke(s)}
                aria-label=${t('push.turnOffNamed', { name: s.device_name || t('devices.unnamed') })}>${t('push.turnOff')}</button>
            </li>`,
          )}
        </ul>`
      : null}
    <label class="choice">
      <input type="checkbox" checked=${notices.preview === 'private'}
        onChange=${(e) => app.actions.setNotices({ preview: e.currentTarget.checked ? 'private' : 'full' })} />
      ${t('push.private')}
    </label>
    <div class="button-row">
      ${paused
        ? html`<button type="button" class="button button--small" onClick=${() => app.actions.setNotices({ paused_until: 0 })}>${t('push.resume')}</button>`
        : html`<button type="button" class="button button--small" onClick=${() => app.actions.setNotices({ paused_until: Date.now() + HOUR_MS })}>${t('push.pauseHour')}</button>
            <button type="button" class="button button--small" onClick=${() => app.actions.setNotices({ paused_until: tomorrowMorning() })}>${t('push.pauseTomorrow')}</button>`}
    </div>
    <form class="inline-form" onSubmit=${saveQuiet} aria-label=${t('push.quiet')}>
      <label class="field">${t('push.quietFrom')} <input type="time" name="from" value=${clock(notices.dnd_from)} /></label>
      <label class="field">${t('push.quietTo')} <input type="time" name="to" value=${clock(notices.dnd_to)} /></label>
      <button type="submit" class="button button--small">${t('push.quietSave')}</button>
    </form>
  </section>`;
}
