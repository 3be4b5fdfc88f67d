// My signed-in devices, with revoke (that device is signed out and its live socket closed).

import { useEffect, useState } from 'preact/hooks';
import { html } from './html.js';
import { t, formatDateTime } from '../lib/i18n.js';
import { MainHeader } from './header.js';
import { NotificationSettings } from './notifications.js';
import { OfflineSettings } from './offline.js';
import { FilesSpace } from './files-space.js';

export function DevicesView({ app }) {
  const [devices, setDevices] = useState(null);
  const [error, setError] = useState(null);

  async function load() {
    try {
      setDevices(await app.actions.devices());
      setError(null);
    } catch (err) {
      setError(err.offline ? t('devices.offline') : err.message);
    }
  }

  useEffect(() => {
    load();
  }, []);

  async function revoke(device) {
    if (!globalThis.confirm(t('devices.confirm', { name: device.name }))) return;
    try {
      await app.actions.revokeDevice(device.id);
      await load();
    } catch (err) {
      setError(err.offline ? t('devices.offline') : err.message);
    }
  }

  return html`<section class="main" aria-labelledby="main-title">
    <${MainHeader} app=${app} title=${t('devices.title')} />
    <div class="page">
      <p class="lead">${t('devices.lead')}</p>
      ${error ? html`<p class="form-error" role="alert">${error}</p>` : null}
      ${devices === null && !error ? html`<p class="empty">${t('devices.loading')}</p>` : null}
      ${devices
        ? html`<ul class="card-list">
            ${devices.map(
              (d) => html`<li key=${d.id} class="card-list__item">
                <div class="card-list__text">
                  <span class="card-list__title">${d.name || t('devices.unnamed')}</span>
                  <p class="card-list__sub">
                    ${t('devices.signedIn', { when: formatDateTime(d.created) })}
                    ${d.last_seen ? html` · ${t('devices.lastSeen', { when: formatDateTime(d.last_seen) })}` : null}
                  </p>
                </div>
                ${d.current
                  ? html`<span class="pill pill--accent">${t('devices.current')}</span>`
                  : html`<button type="button" class="button button--small button--danger" onClick=${() => revoke(d)}
                      aria-label=${t('devices.revokeNamed', { name: d.name || t('devices.unnamed') })}>
                      ${t('devices.revoke')}
                    </button>`}
              </li>`,
            )}
          </ul>`
        : null}
      <${NotificationSettings} app=${app} />
      <${OfflineSettings} app=${app} />
      <${FilesSpace} app=${app} />
    </div>
  </section>`;
}
