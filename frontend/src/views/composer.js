// The composer: Enter sends, Shift+Enter makes a new line. The draft stays if saving fails.

import { useRef, useState, useEffect } from 'preact/hooks';
import { html } from './html.js';
import { t } from '../lib/i18n.js';
import { mentionAt } from '../lib/mentions.js';
import { phone, touch } from './viewport.js';
import { AttachControls, ChosenFiles, displayName, formatBytes } from './attachments.js';
import { queueWithFiles } from '../files/compose.js';
import { rememberedDownscale } from '../files/images.js';

const MAX_TEXT = 10_000;
const TYPING_EVERY = 3000;
const DRAFT_SAVE_MS = 300;

/** People (and @channel) matching the `@partial` being typed. */
function suggestions(app, channelId, query) {
  const lower = query.toLowerCase();
  const me = app.queries.me.value;
  const people = app.queries
    .membersOf(channelId)
    .filter((id) => id !== me)
    .map((id) => ({ id, name: app.queries.userName(id) }))
    .filter((p) => p.name && p.name.toLowerCase().startsWith(lower) || p.name.toLowerCase().split(/\s+/).some((w) => w.startsWith(lower)));
  const list = people.slice(0, 6).map((p) => ({ key: p.id, insert: p.name, label: p.name }));
  if ('channel'.startsWith(lower)) list.push({ key: 'channel', insert: 'channel', label: t('mentions.channel') });
  return list;
}

export function Composer({ app, channelId, placeholder, autofocus, thread = null }) {
  const draftKey = thread ? `${channelId}:t:${thread}` : channelId;
  const inputId = thread ? 'thread-composer-text' : 'composer-text';
  const [text, setText] = useState(() => app.actions.draft(draftKey));
  const [mention, setMention] = useState(null); // {start, query, active}
  const draftTimer = useRef(null);
  const [error, setError] = useState(null);
  // Files chosen for the next message (picked, pasted or dropped), and "smaller photos".
  const [files, setFiles] = useState([]);
  const [downscale, setDownscale] = useState(rememberedDownscale);
  const box = useRef(null);
  const lastTyping = useRef(0);

  // One composer per channel (the parent keys it by channel): it starts from the saved draft;
  // nothing here may clear text typed after the first render. Leaving saves the draft now.
  const latest = useRef(text);
  latest.current = text;
  useEffect(() => {
    if (autofocus && !phone.value && !touch.value) box.current?.focus(); // an on-screen keyboard would cover the channel
    return () => {
      if (draftTimer.current === null) return;
      clearTimeout(draftTimer.current);
      app.actions.saveDraft(draftKey, latest.current).catch(() => {});
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
    if (files.length && app.files?.queue) return sendWithFiles(value);
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
      await app.actions.sendMessage(channelId, value, { thread, draftKey });
      setError(null);
    } catch (err) {
      // Nothing was saved: give the words back (ahead of anything typed since) and say why.
      setText((typed) => (typed ? `${value}\n${typed}` : value));
      setError(err?.kind === 'quota' ? t('storage.quota') : t('composer.failed'));
    }
    box.current?.focus();
  }

  /** The message waits in the upload queue (bytes in IndexedDB) and goes out once its files are stored. */
  async function sendWithFiles(value) {
    const chosen = files;
    setFiles([]);
    setText('');
    latest.current = '';
    try {
      await queueWithFiles(app, { channel: channelId, text: value, thread, files: chosen, downscale });
      await app.actions.saveDraft(draftKey, '').catch(() => {});
      setError(null);
    } catch (err) {
      setFiles(chosen);
      setText(value);
      if (err?.name === 'FileTooLarge') setError(t('files.tooLarge', { name: displayName(err.file), max: formatBytes(err.max) }));
      else setError(err?.name === 'QuotaExceededError' ? t('storage.quota') : t('composer.failed'));
    }
  }

  const addFiles = (more) => setFiles((held) => [...held, ...more]);
  function onPaste(event) {
    const pasted = [...(event.clipboardData?.files ?? [])];
    if (pasted.length) {
      event.preventDefault();
      addFiles(pasted);
    }
  }
  function onDrop(event) {
    const dropped = [...(event.dataTransfer?.files ?? [])];
    if (dropped.length) {
      event.preventDefault();
      addFiles(dropped);
    }
  }

  const options = mention ? suggestions(app, channelId, mention.query) : [];

  function pick(option) {
    const el = box.current;
    const value = el?.value ?? text;
    const caret = el?.selectionStart ?? value.length;
    const next = `${value.slice(0, mention.start)}@${option.insert} ${value.slice(caret)}`;
    setText(next);
    latest.current = next;
    setMention(null);
    requestAnimationFrame(() => {
      const at = mention.start + option.insert.length + 2;
      el?.focus();
      el?.setSelectionRange(at, at);
    });
  }

  function onKeyDown(event) {
    if (options.length && !event.isComposing) {
      const active = mention.active ?? 0;
      if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
        event.preventDefault();
        const step = event.key === 'ArrowDown' ? 1 : -1;
        setMention({ ...mention, active: (active + step + options.length) % options.length });
        return;
      }
      if (event.key === 'Enter' || event.key === 'Tab') {
        event.preventDefault();
        pick(options[active] ?? options[0]);
        return;
      }
      if (event.key === 'Escape') {
        event.preventDefault();
        setMention(null);
        return;
      }
    }
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      send();
    }
  }

  function onInput(event) {
    const value = event.currentTarget.value;
    setText(value);
    const at = mentionAt(value, event.currentTarget.selectionStart ?? value.length);
    setMention(at ? { ...at, active: 0 } : null);
    clearTimeout(draftTimer.current);
    draftTimer.current = setTimeout(() => {
      draftTimer.current = null;
      app.actions.saveDraft(draftKey, value).catch(() => {});
    }, DRAFT_SAVE_MS);
    const now = Date.now();
    if (now - lastTyping.current > TYPING_EVERY) {
      lastTyping.current = now;
      app.typing(`c:${channelId}`);
    }
  }

  const listId = `${inputId}-mentions`;
  return html`<form class=${`composer${thread ? ' composer--thread' : ''}`} onSubmit=${(e) => (e.preventDefault(), send())}
    onDragOver=${(e) => e.dataTransfer?.types?.includes('Files') && e.preventDefault()} onDrop=${onDrop}>
    <${ChosenFiles} files=${files} downscale=${downscale} onDownscale=${setDownscale}
      onRemove=${(i) => setFiles((held) => held.filter((_, j) => j !== i))} />
    ${options.length
      ? html`<ul class="mentions-popup" id=${listId} role="listbox" aria-label=${t('mentions.suggestions')}>
          ${options.map(
            (option, i) => html`<li key=${option.key} id=${`${listId}-${i}`} role="option"
              aria-selected=${i === (mention.active ?? 0) ? 'true' : 'false'}
              class=${i === (mention.active ?? 0) ? 'mentions-popup__item mentions-popup__item--active' : 'mentions-popup__item'}
              onMouseDown=${(e) => (e.preventDefault(), pick(option))}>@${option.label}</li>`,
          )}
        </ul>`
      : null}
    <label class="visually-hidden" for=${inputId}>${thread ? t('thread.composerLabel') : t('composer.label')}</label>
    <textarea
      id=${inputId}
      aria-activedescendant=${options.length ? `${listId}-${mention.active ?? 0}` : undefined}
      ref=${box}
      rows="1"
      placeholder=${placeholder}
      value=${text}
      onInput=${onInput}
      onKeyDown=${onKeyDown}
      onPaste=${onPaste}
      aria-describedby=${`${inputId}-hint`}
      aria-invalid=${error ? 'true' : undefined}
    ></textarea>
    ${app.files ? html`<${AttachControls} onFiles=${addFiles} />` : null}
    <button type="submit" class="button button--primary composer__send">${thread ? t('thread.send') : t('composer.send')}</button>
    <p id=${`${inputId}-hint`} class=${error ? 'composer__hint composer__hint--error' : 'composer__hint'} role=${error ? 'alert' : undefined}>
      ${error || t('composer.hint')}
    </p>
  </form>`;
}

