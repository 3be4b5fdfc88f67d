// The composer: Enter sends, Shift+Enter makes a new line. The draft stays if saving fails.

import { useRef, useState, useEffect } from 'preact/hooks';
import { html } from './html.js';
import { t } from '../lib/i18n.js';

const MAX_TEXT = 10_000;
const TYPING_EVERY = 3000;
const DRAFT_SAVE_MS = 300;

export function Composer({ app, channelId, placeholder, autofocus }) {
  const [text, setText] = useState(() => app.actions.draft(channelId));
  const draftTimer = useRef(null);
  const [error, setError] = useState(null);
  const box = useRef(null);
  const lastTyping = useRef(0);

  // One composer per channel (the parent keys it by channel): it starts from the saved draft;
  // nothing here may clear text typed after the first render. Leaving saves the draft now.
  const latest = useRef(text);
  latest.current = text;
  useEffect(() => {
    if (autofocus && matchMedia('(min-width: 48rem)').matches) box.current?.focus();
    return () => {
      if (draftTimer.current === null) return;
      clearTimeout(draftTimer.current);
      app.actions.saveDraft(channelId, latest.current).catch(() => {});
    };
  }, []);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = `${Math.min(el.scrollHeight, 240)}px`;
  }, [text]);

  async function send() {
    // Take the words and empty the box *before* the asynchronous write: whatever is typed while
    // the write runs belongs to the next message and must never be cleared or merged into this one.
    const value = (box.current?.value ?? text).replace(/\s+$/, '');
    if (!value.trim()) return;
    if (value.length > MAX_TEXT) {
      setError(t('composer.tooLong', { max: MAX_TEXT }));
      return;
    }
    clearTimeout(draftTimer.current);
    draftTimer.current = null;
    latest.current = '';
    setText('');
    try {
      await app.actions.sendMessage(channelId, value);
      setError(null);
      if (!latest.current) app.actions.saveDraft(channelId, '').catch(() => {});
    } catch (err) {
      // Nothing was saved: give the words back (ahead of anything typed since) and say why.
      setText((typed) => (typed ? `${value}\n${typed}` : value));
      setError(err?.kind === 'quota' ? t('storage.quota') : t('composer.failed'));
    }
    box.current?.focus();
  }

  function onKeyDown(event) {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      send();
    }
  }

  function onInput(event) {
    const value = event.currentTarget.value;
    setText(value);
    clearTimeout(draftTimer.current);
    draftTimer.current = setTimeout(() => {
      draftTimer.current = null;
      app.actions.saveDraft(channelId, value).catch(() => {});
    }, DRAFT_SAVE_MS);
    const now = Date.now();
    if (now - lastTyping.current > TYPING_EVERY) {
      lastTyping.current = now;
      app.typing(`c:${channelId}`);
    }
  }

  return html`<form class="composer" onSubmit=${(e) => (e.preventDefault(), send())}>
    <label class="visually-hidden" for="composer-text">${t('composer.label')}</label>
    <textarea
      id="composer-text"
      ref=${box}
      rows="1"
      placeholder=${placeholder}
      value=${text}
      onInput=${onInput}
      onKeyDown=${onKeyDown}
      aria-describedby="composer-hint"
      aria-invalid=${error ? 'true' : undefined}
    ></textarea>
    <button type="submit" class="button button--primary composer__send">${t('composer.send')}</button>
    <p id="composer-hint" class=${error ? 'composer__hint composer__hint--error' : 'composer__hint'} role=${error ? 'alert' : undefined}>
      ${error || t('composer.hint')}
    </p>
  </form>`;
}
