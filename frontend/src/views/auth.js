// Sign-up and sign-in. The first visitor of an empty server creates the workspace; later
// people sign up with an invite link (/?invite=TOKEN) or sign in.

import { useState } from 'preact/hooks';
import { html } from './html.js';
import { t } from '../lib/i18n.js';
import { Logo } from './logo.js';

function errorText(error) {
  if (error?.offline) return t('auth.offline');
  if (error?.status === 429) return t('auth.rateLimited');
  if (error?.status === 401 || error?.code === 'signed_out') return t('auth.wrongPassword');
  return error?.body?.detail || error?.message || t('auth.failed');
}

function Field({ id, label, type = 'text', autocomplete, value, onInput, hint, minlength }) {
  return html`<div class="field">
    <label for=${id}>${label}</label>
    <input
      id=${id}
      name=${id}
      type=${type}
      autocomplete=${autocomplete}
      required
      minlength=${minlength}
      aria-describedby=${hint ? `${id}-hint` : undefined}
      value=${value}
      onInput=${(e) => onInput(e.currentTarget.value)}
    />
    ${hint ? html`<p class="hint" id=${`${id}-hint`}>${hint}</p>` : null}
  </div>`;
}

export function AuthScreen({ app, invite }) {
  const workspace = app.workspace.value;
  const needsOwner = Boolean(workspace?.needs_owner);
  const [mode, setMode] = useState(needsOwner || invite ? 'signup' : 'signin');
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const signingUp = needsOwner || mode === 'signup';

  async function submit(event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (signingUp) {
        const form = { name: name.trim(), email: email.trim(), password };
        if (invite && !needsOwner) form.invite = invite;
        await app.signUp(form);
        if (invite) history.replaceState(null, '', '/');
      } else {
        await app.signIn({ email: email.trim(), password });
      }
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  const wsName = workspace?.name || 'TeamTalk';
  const title = needsOwner
    ? t('auth.createWorkspace')
    : signingUp
      ? t('auth.joinTitle', { workspace: wsName })
      : t('auth.signInTitle', { workspace: wsName });
  const lead = needsOwner ? t('auth.ownerLead') : signingUp ? t('auth.inviteLead') : t('auth.signInLead');

  return html`<main class="auth" id="main">
    <div class="auth__card">
      <${Logo} />
      <h1 class="auth__title">${title}</h1>
      <p class="auth__lead">${lead}</p>
      ${app.offlineAtStart.value ? html`<p class="notice notice--warn">${t('auth.offline')}</p>` : null}
      ${!needsOwner && signingUp && !invite
        ? html`<p class="notice">${t('auth.needInvite')}</p>`
        : null}
      <form class="auth__form" onSubmit=${submit} novalidate=${false}>
        ${signingUp
          ? html`<${Field} id="name" label=${t('auth.name')} autocomplete="name" value=${name} onInput=${setName} />`
          : null}
        <${Field} id="email" label=${t('auth.email')} type="email" autocomplete="email" value=${email} onInput=${setEmail} />
        <${Field}
          id="password"
          label=${t('auth.password')}
          type="password"
          autocomplete=${signingUp ? 'new-password' : 'current-password'}
          minlength=${signingUp ? 8 : undefined}
          hint=${signingUp ? t('auth.passwordHint') : null}
          value=${password}
          onInput=${setPassword}
        />
        ${error ? html`<p class="form-error" role="alert">${error}</p>` : null}
        <button class="button button--primary button--block" type="submit" disabled=${busy}>
          ${signingUp ? t('auth.createAccount') : t('auth.signIn')}
        </button>
      </form>
      ${needsOwner
        ? null
        : html`<p class="auth__switch">
            ${signingUp ? t('auth.haveAccount') : t('auth.noAccount')}${' '}
            <button type="button" class="link-button" onClick=${() => {
              setError(null);
              setMode(signingUp ? 'signin' : 'signup');
            }}>
              ${signingUp ? t('auth.signInInstead') : t('auth.signUpInstead')}
            </button>
          </p>`}
    </div>
  </main>`;
}
