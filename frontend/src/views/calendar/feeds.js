// Subscribing from a phone: my private feed addresses (webcal:// and https://), made and revoked
// here; which calendars go in the feed is my calendar_prefs' `in_feed` (a replica write).

import { useEffect, useState } from 'preact/hooks';
import { html } from '../html.js';
import { Dialog } from '../dialog.js';
import { ct } from './strings.js';
import { derivedId } from '../../sync/registry.js';
import { formatDateTime } from '../../lib/i18n.js';
import { localZone } from '../../lib/calendar-model.js';

export function FeedPanel({ app, calendars, onClose }) {
  const [feeds, setFeeds] = useState([]);
  const [made, setMade] = useState(null);
  const [tasks, setTasks] = useState(false);
  const [error, setError] = useState(null);
  const [target, setTarget] = useState(calendars[0]?.id);
  const [imported, setImported] = useState(null);
  const fail = (e) => setError(e?.offline || e?.status === 0 ? ct('offline') : e?.message || String(e));
  const load = () => app.actions.calendarFeeds().then(setFeeds, fail);
  useEffect(() => void load(), []);

  async function make() {
    try {
      setMade(await app.actions.createCalendarFeed({ tasks }));
      load();
    } catch (e) {
      fail(e);
    }
  }

  async function importFile(event) {
    const file = event.currentTarget.files?.[0];
    if (!file) return;
    try {
      const done = await app.actions.importCalendar(target, await file.text(), localZone());
      setImported(ct('importDone', { created: done.created, updated: done.updated }));
    } catch (e) {
      fail(e);
    }
  }

  function inFeed(calendar, on) {
    const me = app.queries.me.value;
    const base = { user: me, calendar };
    const id = derivedId('calendar_prefs', base);
    const fields = app.queries.record('calendar_prefs', id) ? { in_feed: on } : { ...base, in_feed: on };
    app.actions.writeChanges([{ collection: 'calendar_prefs', id, fields }]);
  }

  return html`<${Dialog} id="feeds" title=${ct('subscribe')} onClose=${onClose}>
    <div class="cal-feeds">
      <p class="lead">${ct('subscribeLead')}</p>
      <fieldset class="choices"><legend>${ct('calendars')}</legend>
        ${calendars.map((c) => html`<label class="choice" key=${c.id}>
          <input type="checkbox" checked=${c.inFeed} onChange=${(e) => inFeed(c.id, e.currentTarget.checked)} /><span>${c.name}</span></label>`)}
        <label class="choice"><input type="checkbox" checked=${tasks} onChange=${(e) => setTasks(e.currentTarget.checked)} /><span>${ct('withTasks')}</span></label>
      </fieldset>
      <button type="button" class="button button--primary" onClick=${make}>${ct('makeFeed')}</button>
      ${made
        ? html`<p class="cal-feeds__url"><a href=${made.webcal}>${made.webcal}</a></p>
            <p class="cal-feeds__url"><input readonly aria-label="https" value=${made.https} onFocus=${(e) => e.currentTarget.select()} /></p>`
        : null}
      ${error ? html`<p class="form-error" role="alert">${error}</p>` : null}
      <fieldset class="choices"><legend>${ct('importTitle')}</legend>
        <div class="field"><label for="ics-calendar">${ct('calendar')}</label>
          <select id="ics-calendar" value=${target} onChange=${(e) => setTarget(e.currentTarget.value)}>
            ${calendars.map((c) => html`<option value=${c.id}>${c.name}</option>`)}
          </select></div>
        <div class="field"><label for="ics-file">${ct('importFile')}</label>
          <input id="ics-file" type="file" accept=".ics,text/calendar" onChange=${importFile} /></div>
        ${imported ? html`<p aria-live="polite">${imported}</p>` : null}
      </fieldset>
      <ul class="card-list">
        ${feeds.map((f) => html`<li key=${f.id} class="card-list__item">
          <span class="card-list__text">${formatDateTime(f.created)}${f.tasks ? ` · ${ct('task')}` : ''}</span>
          ${f.revoked
            ? html`<span class="pill">${ct('revoked')}</span>`
            : html`<button type="button" class="button button--small button--danger"
                onClick=${() => app.actions.revokeCalendarFeed(f.id).then(load, fail)}>${ct('revoke')}</button>`}
        </li>`)}
      </ul>
    </div>
  <//>`;
}
