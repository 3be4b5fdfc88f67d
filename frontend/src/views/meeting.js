// A channel's meeting (#/c/<id>/meet): a preview with device choice, then the call — a grid of
// tiles with names, the active speaker highlighted, mute / camera / screen / hand / chat / leave,
// and the channel itself as the chat panel. The call (platform/meeting-call.js) is this tab's
// own: any tab can be in a meeting, leader or not.
//
// Keyboard: M mutes and unmutes, V turns the camera off and on, H raises a hand (not while typing).

import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { html } from './html.js';
import { t } from '../lib/i18n.js';
import { href, navigate } from './router.js';
import { MainHeader } from './header.js';
import { MessageList } from './messages.js';
import { Composer } from './composer.js';
import { MeetingCall, meetingUrl } from '../platform/meeting-call.js';

function Video({ stream, muted = false, sink = '' }) {
  const ref = useRef(/** @type {HTMLVideoElement | null} */ (null));
  useEffect(() => {
    const video = ref.current;
    if (video && video.srcObject !== stream) video.srcObject = stream;
  });
  useEffect(() => {
    const video = /** @type {any} */ (ref.current);
    if (sink && video?.setSinkId) video.setSinkId(sink).catch(() => {});
  }, [sink]);
  return html`<video ref=${ref} class="tile__video" autoplay playsinline muted=${muted}></video>`;
}

function Tile({ id, name, stream, state, speaking, self = false, sink = '' }) {
  const marks = [
    state.muted ? t('meeting.muted') : null,
    state.hand ? t('meeting.handRaised') : null,
    speaking ? t('meeting.speaking') : null,
  ].filter(Boolean);
  return html`<li class=${`tile${speaking ? ' tile--speaking' : ''}${state.camera === false ? ' tile--no-camera' : ''}`}
    data-peer=${id} data-muted=${state.muted ? 'true' : 'false'} aria-label=${[name, ...marks].join(', ')}>
    ${stream ? html`<${Video} stream=${stream} muted=${self} sink=${sink} />` : null}
    <span class="tile__name">${state.hand ? html`<span aria-hidden="true">✋ </span>` : null}${name}${state.muted ? html`<span aria-hidden="true"> 🔇</span>` : null}</span>
  </li>`;
}

function DevicePicker({ kind, label, value, onChange }) {
  const [devices, setDevices] = useState(/** @type {MediaDeviceInfo[]} */ ([]));
  useEffect(() => {
    navigator.mediaDevices?.enumerateDevices().then((all) => setDevices(all.filter((d) => d.kind === kind)));
  }, []);
  return html`<label class="field meeting__device">
    <span class="field__label">${label}</span>
    <select class="field__input" value=${value} onChange=${(e) => onChange(e.currentTarget.value)}>
      <option value="">${t('meeting.default')}</option>
      ${devices.map((d, i) => html`<option key=${d.deviceId} value=${d.deviceId}>${d.label || `${label} ${i + 1}`}</option>`)}
    </select>
  </label>`;
}

function Preview({ call, state, onJoin }) {
  const [mic, setMic] = useState('');
  const [cam, setCam] = useState('');
  const [problem, setProblem] = useState('');
  useEffect(() => {
    call
      .preview({ audio: mic ? { deviceId: { exact: mic } } : true, video: cam ? { deviceId: { exact: cam } } : true })
      .then(() => setProblem(''))
      .catch((error) => setProblem(String(error?.message ?? error)));
  }, [mic, cam]);
  const count = state.peers.size;
  return html`<div class="meeting__preview">
    <h2 class="meeting__lead">${t('meeting.preview')}</h2>
    <ul class="meeting__grid meeting__grid--preview">
      <${Tile} id="self" name=${t('meeting.you')} stream=${call.local} state=${state} self />
    </ul>
    ${problem ? html`<p class="meeting__problem" role="alert">${t('meeting.noDevices', { reason: problem })}</p>` : null}
    <div class="meeting__devices">
      <${DevicePicker} kind="audioinput" label=${t('meeting.microphone')} value=${mic} onChange=${setMic} />
      <${DevicePicker} kind="videoinput" label=${t('meeting.camera')} value=${cam} onChange=${setCam} />
      ${'setSinkId' in HTMLMediaElement.prototype
        ? html`<${DevicePicker} kind="audiooutput" label=${t('meeting.speaker')} value=${state.sink} onChange=${(id) => call.setSink(id)} />`
        : null}
    </div>
    <p class="meeting__who">${count ? t('meeting.inProgress', { count }) : t('meeting.nobody')}</p>
    <button type="button" class="button button--primary meeting__join" onClick=${onJoin}>
      ${count ? t('meeting.joinMeeting') : t('meeting.start')}
    </button>
  </div>`;
}

function Controls({ call, state, chat, onChat }) {
  const toggle = (label, pressed, onClick, keys = undefined) => html`<button type="button"
    class=${`button meeting__control${pressed ? ' meeting__control--on' : ''}`} aria-pressed=${pressed ? 'true' : 'false'}
    aria-keyshortcuts=${keys} onClick=${onClick}>${label}</button>`;
  return html`<div class="meeting__controls" role="toolbar" aria-label=${t('meeting.controls')}>
    ${toggle(t('meeting.mute'), state.muted, () => call.setMuted(!state.muted), 'M')}
    ${toggle(t('meeting.cameraToggle'), !state.camera, () => call.setCamera(!state.camera), 'V')}
    ${navigator.mediaDevices?.getDisplayMedia ? toggle(t('meeting.screen'), state.screen, () => call.setScreen(!state.screen).catch(() => {})) : null}
    ${toggle(t('meeting.hand'), state.hand, () => call.setHand(!state.hand), 'H')}
    ${toggle(t('meeting.chat'), chat, onChat)}
    <button type="button" class="button button--danger meeting__control" onClick=${() => call.leave()}>${t('meeting.leave')}</button>
  </div>`;
}

function useShortcuts(call, active) {
  useEffect(() => {
    if (!active) return undefined;
    const onKey = (event) => {
      const target = /** @type {Element} */ (event.target);
      if (event.ctrlKey || event.metaKey || event.altKey || target.closest?.('input, textarea, select, [contenteditable]')) return;
      const s = call.state.value;
      const key = event.key.toLowerCase();
      if (key === 'm') call.setMuted(!s.muted);
      else if (key === 'v') call.setCamera(!s.camera);
      else if (key === 'h') call.setHand(!s.hand);
      else return;
      event.preventDefault();
    };
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  }, [active]);
}

export function MeetingView({ app, channelId }) {
  const q = app.queries;
  const channel = q.channel(channelId);
  const offline = app.store.status.value === 'Offline';
  const call = useMemo(() => (offline ? null : new MeetingCall(meetingUrl(location, channelId))), [channelId, offline]);
  const [chat, setChat] = useState(false);
  useEffect(() => {
    if (!call) return undefined;
    call.connect();
    globalThis.teamtalk = { ...globalThis.teamtalk, meeting: call };
    return () => call.close();
  }, [call]);
  const state = call?.state.value;
  useShortcuts(call, state?.phase === 'in');
  const name = channel?.name ?? '';
  let body;
  if (!call || !state) body = html`<p class="meeting__notice" role="alert">${t('meeting.offline')}</p>`;
  else if (state.phase === 'refused') body = html`<p class="meeting__notice" role="alert">${t('meeting.refused', { reason: state.error })}</p>`;
  else if (state.phase === 'closed') body = html`<p class="meeting__notice" role="alert">${t('meeting.closed')}</p>`;
  else if (state.phase === 'left') {
    body = html`<div class="meeting__notice"><p>${t('meeting.left')}</p>
      <button type="button" class="button button--primary" onClick=${() => call.join()}>${t('meeting.rejoin')}</button></div>`;
  } else if (state.phase === 'in' || state.phase === 'joining') {
    const peers = [...state.peers.values()].filter((p) => p.id !== state.me);
    body = html`<div class=${`meeting__call${chat ? ' meeting__call--chat' : ''}`}>
      <div class="meeting__stage">
        <ul class="meeting__grid" aria-label=${t('meeting.grid')} data-count=${peers.length + 1}>
          <${Tile} id=${state.me} name=${t('meeting.you')} stream=${call.local} state=${state} self />
          ${peers.map((peer) => html`<${Tile} key=${peer.id} id=${peer.id} name=${peer.name || q.userName(peer.user)}
            stream=${call.peerStream(peer.id)} state=${peer} speaking=${state.speaker === peer.id} sink=${state.sink} />`)}
        </ul>
        <${Controls} call=${call} state=${state} chat=${chat} onChat=${() => setChat(!chat)} />
      </div>
      ${chat
        ? html`<aside class="meeting__chat panel" aria-label=${t('meeting.chat')}>
            <${MessageList} app=${app} channelId=${channelId} label=${t('channel.messagesLabel', { name })} readOnly=${false} />
            <${Composer} app=${app} channelId=${channelId} placeholder=${t('composer.placeholder', { name })} autofocus=${false} />
          </aside>`
        : null}
    </div>`;
  } else if (state.phase === 'preview') body = html`<${Preview} call=${call} state=${state} onJoin=${() => call.join()} />`;
  else body = html`<p class="meeting__notice" aria-busy="true">${t('loading')}</p>`;
  return html`<section class="main meeting" aria-labelledby="main-title">
    <${MainHeader} app=${app} title=${t('meeting.title', { name })} back=${false}
      more=${[{ key: 'back', label: t('meeting.back'), onSelect: () => navigate('channel', channelId) }]}>
      <a class="button button--small button--ghost" href=${href('channel', channelId)}>${t('meeting.back')}</a>
    <//>
    <div class="meeting__body page">${body}</div>
  </section>`;
}
