// A meeting from this tab: its own WebSocket to /api/meet/<channel> (PROTOCOL.md, "Meetings")
// and one RTCPeerConnection per other participant (a full mesh, at most 8). No DOM: the view
// (views/meeting.js) reads `state` and attaches `local` / each peer's `stream` to video tiles.
//
// Rules:
// 1. The newcomer offers to everyone already in the meeting (listed in `joined`); the others
//    only answer. Offers never cross, so there is no glare to resolve.
// 2. Remote candidates that arrive before the remote description are queued, then added.
// 3. Every video sender is capped (maxBitrate) by the size of the call, so a phone on 4G keeps up.
// 4. Mute and camera-off disable the track (the peers receive silence / black, the connection
//    stays) and tell the others through `state`. Screen sharing replaces the video track.
// 5. Network change: the signaling socket reconnects with `?resume=<my id>` and keeps the seat
//    (the server holds it while the old socket dies), and every connection this side offered
//    restarts ICE (also when one goes `disconnected`/`failed`); the other side answers. The
//    peers see a frozen tile meanwhile, not a departure.

import { signal } from '@preact/signals';

/** Video bitrate per sender, by how many others I send to (kbit/s): ~1.5 Mbit/s upload in total. */
const CAPS = [1_500, 1_200, 700, 500, 380, 300, 250, 220];
const SPEAKING_LEVEL = 0.02;

export function meetingUrl(location, channelId) {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/api/meet/${encodeURIComponent(channelId)}`;
}

export class MeetingCall {
  /** What the view shows; a new object on every change. */
  state = signal({
    phase: 'connecting', // connecting | preview | joining | in | left | refused | closed
    me: '',
    meeting: /** @type {string | null} */ (null),
    peers: /** @type {Map<string, any>} */ (new Map()),
    muted: false,
    camera: true,
    screen: false,
    hand: false,
    speaker: '',
    /** The chosen speaker (audio output device id; '' = the default). */
    sink: '',
    error: '',
  });
  /** @type {MediaStream | null} */
  local = null;
  #socket = null;
  #url;
  /** @type {Map<string, {pc: RTCPeerConnection, stream: MediaStream, queued: any[], offerer: boolean}>} */
  #links = new Map();
  #ice = [];
  #beat = null;
  #levels = null;
  #screenTrack = null;
  #onNetwork = () => this.reconnect();
  #retries = 0;
  #chain = Promise.resolve();

  /** @param {string} url @param {{relayOnly?: boolean}} [options] */
  constructor(url, { relayOnly = false } = {}) {
    this.#url = url;
    this.relayOnly = relayOnly;
  }

  #set(patch) {
    this.state.value = { ...this.state.value, ...patch };
  }

  /** Open the socket: `room` says who is in the meeting (the preview screen shows it). With
   * `resume` (my connection id), take my seat back on a new socket: the others keep their
   * connections to me (PROTOCOL.md, "Meetings": resume). */
  connect(resume = '') {
    const socket = new WebSocket(resume ? `${this.#url}?resume=${encodeURIComponent(resume)}` : this.#url);
    this.#socket = socket;
    // One frame at a time, in order: a candidate must not overtake the offer it belongs to.
    socket.onmessage = (event) => {
      const frame = JSON.parse(event.data);
      this.#chain = this.#chain.then(() => this.#frame(frame)).catch((error) => this.#set({ error: String(error) }));
    };
    socket.onclose = (event) => {
      if (this.#socket !== socket) return; // replaced by a newer socket
      const refused = event.code === 4403 || event.code === 4401;
      if (!refused && this.state.value.phase === 'in' && this.#retries < 5) {
        // The network changed under us: come back on a new socket and keep the seat.
        this.#retries += 1;
        setTimeout(() => this.#socket === socket && this.connect(this.state.value.me), 300 * this.#retries);
        return;
      }
      this.#closeLinks();
      this.#set({ phase: refused ? 'refused' : 'closed', error: event.reason || '' });
    };
  }

  /** The network changed (or a test says so): resume on a new socket, restart ICE. */
  reconnect() {
    if (this.state.value.phase !== 'in') return;
    const old = this.#socket;
    this.connect(this.state.value.me);
    old?.close();
  }

  /** Ask for the camera and microphone (or the devices chosen in the preview). */
  async preview({ audio = true, video = true } = {}) {
    this.local?.getTracks().forEach((track) => track.stop());
    this.local = await navigator.mediaDevices.getUserMedia({ audio, video });
    this.#set({});
    return this.local;
  }

  async join() {
    if (!this.local) await this.preview();
    this.#set({ phase: 'joining' });
    this.#send({ t: 'join', muted: this.state.value.muted, camera: this.state.value.camera });
  }

  leave() {
    this.#send({ t: 'leave' });
    this.#closeLinks();
    this.#set({ phase: 'left', peers: new Map() });
  }

  /** Leave and let go of everything: socket, devices, timers. */
  close() {
    if (this.state.value.phase === 'in') this.#send({ t: 'leave' });
    this.#closeLinks();
    this.local?.getTracks().forEach((track) => track.stop());
    this.#screenTrack?.stop();
    const socket = this.#socket;
    this.#socket = null;
    socket?.close();
  }

  setMuted(muted) {
    this.local?.getAudioTracks().forEach((track) => (track.enabled = !muted));
    this.#set({ muted });
    this.#sendState();
  }

  setCamera(camera) {
    this.local?.getVideoTracks().forEach((track) => (track.enabled = camera));
    this.#set({ camera });
    this.#sendState();
  }

  setSink(sink) {
    this.#set({ sink });
  }

  setHand(hand) {
    this.#set({ hand });
    this.#sendState();
  }

  async setScreen(on) {
    const camera = this.local?.getVideoTracks()[0] ?? null;
    if (on) {
      const display = await navigator.mediaDevices.getDisplayMedia({ video: true });
      this.#screenTrack = display.getVideoTracks()[0];
      this.#screenTrack.onended = () => this.setScreen(false);
    } else {
      this.#screenTrack?.stop();
      this.#screenTrack = null;
    }
    const track = this.#screenTrack ?? camera;
    for (const { pc } of this.#links.values()) {
      for (const sender of pc.getSenders()) if (sender.track?.kind === 'video') await sender.replaceTrack(track);
    }
    this.#set({ screen: on });
    this.#sendState();
  }

  /** For each remote participant: their connection's stats (tests and the debug console read it). */
  async stats() {
    const out = {};
    for (const [id, { pc }] of this.#links) {
      const report = await pc.getStats();
      out[id] = { state: pc.connectionState, reports: [...report.values()] };
    }
    return out;
  }

  peerConnection(id) {
    return this.#links.get(id)?.pc ?? null;
  }

  peerStream(id) {
    return this.#links.get(id)?.stream ?? null;
  }

  get connections() {
    return [...this.#links.values()].map(({ pc }) => pc);
  }

  // --- signaling ------------------------------------------------------------------------------

  #send(frame) {
    if (this.#socket?.readyState === 1) this.#socket.send(JSON.stringify(frame));
  }

  #sendState() {
    const { muted, camera, screen, hand } = this.state.value;
    if (this.state.value.phase === 'in') this.#send({ t: 'state', muted, camera, screen, hand });
  }

  async #frame(frame) {
    const s = this.state.value;
    switch (frame.t) {
      case 'room':
        if (this.state.value.phase === 'in') {
          // A resume came too late (the seat expired): join again as a newcomer.
          this.#closeLinks();
          this.#set({ phase: 'preview', me: frame.me, meeting: frame.meeting, peers: byId(frame.peers) });
          await this.join();
          break;
        }
        this.#set({ phase: 'preview', me: frame.me, meeting: frame.meeting, peers: byId(frame.peers) });
        break;
      case 'joined':
        this.#ice = frame.ice_servers ?? [];
        this.#retries = 0;
        this.#set({ phase: 'in', me: frame.me, meeting: frame.meeting, peers: byId(frame.peers) });
        clearInterval(this.#beat);
        clearInterval(this.#levels);
        this.#beat = setInterval(() => this.#send({ t: 'heartbeat' }), frame.heartbeat_ms ?? 3000);
        this.#levels = setInterval(() => this.#activeSpeaker(), 500);
        if (frame.resumed) {
          // Same seat: drop links to people who left meanwhile, restart ICE on those I offered.
          for (const id of [...this.#links.keys()]) if (!this.state.value.peers.has(id)) this.#drop(id);
          this.#restartAll();
          this.#sendState();
          break;
        }
        addEventListener('online', this.#onNetwork);
        /** @type {any} */ (navigator).connection?.addEventListener?.('change', this.#onNetwork);
        for (const peer of frame.peers) await this.#offer(peer.id, false);
        break;
      case 'peer_joined':
        this.#set({ peers: new Map(s.peers).set(frame.peer.id, frame.peer), meeting: s.meeting });
        break;
      case 'peer_state':
        if (s.peers.has(frame.peer.id)) this.#set({ peers: new Map(s.peers).set(frame.peer.id, frame.peer) });
        break;
      case 'peer_left': {
        this.#drop(frame.id);
        const peers = new Map(s.peers);
        peers.delete(frame.id);
        this.#set({ peers });
        break;
      }
      case 'ended':
        this.#set({ meeting: null, peers: new Map() });
        break;
      case 'offer':
        await this.#answer(frame);
        break;
      case 'answer': {
        const link = this.#links.get(frame.from);
        if (link) {
          await link.pc.setRemoteDescription({ type: 'answer', sdp: frame.sdp });
          await this.#flush(link);
        }
        break;
      }
      case 'candidate': {
        const link = this.#links.get(frame.from);
        const candidate = frame.candidate
          ? { candidate: frame.candidate, sdpMid: frame.sdp_mid, sdpMLineIndex: frame.sdp_mline_index }
          : null;
        if (!link || !candidate) break;
        if (link.pc.remoteDescription) await link.pc.addIceCandidate(candidate).catch(() => {});
        else link.queued.push(candidate);
        break;
      }
      case 'error':
        this.#set({ error: `${frame.code}: ${frame.detail}` });
        break;
    }
  }

  // --- peer connections -----------------------------------------------------------------------

  #link(id, offerer) {
    let link = this.#links.get(id);
    if (link) return link;
    const pc = new RTCPeerConnection({ iceServers: this.#ice, iceTransportPolicy: this.relayOnly ? 'relay' : 'all' });
    link = { pc, stream: new MediaStream(), queued: [], offerer };
    this.#links.set(id, link);
    const video = this.#screenTrack ?? this.local?.getVideoTracks()[0];
    for (const track of this.local?.getAudioTracks() ?? []) pc.addTrack(track, this.local);
    if (video) pc.addTrack(video, this.local);
    pc.ontrack = (event) => {
      link.stream.addTrack(event.track);
      this.#set({});
    };
    pc.onicecandidate = (event) => {
      const c = event.candidate;
      this.#send({ t: 'candidate', to: id, candidate: c ? c.candidate : '', sdp_mid: c?.sdpMid ?? null, sdp_mline_index: c?.sdpMLineIndex ?? null });
    };
    pc.oniceconnectionstatechange = () => {
      if (link.offerer && (pc.iceConnectionState === 'failed' || pc.iceConnectionState === 'disconnected')) {
        this.#offer(id, true);
      }
      this.#set({});
    };
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === 'connected') this.#capBitrates();
      this.#set({});
    };
    return link;
  }

  async #offer(id, restart) {
    const link = this.#link(id, true);
    const offer = await link.pc.createOffer(restart ? { iceRestart: true } : {});
    await link.pc.setLocalDescription(offer);
    this.#send({ t: 'offer', to: id, sdp: link.pc.localDescription.sdp });
  }

  async #answer(frame) {
    const link = this.#link(frame.from, false);
    await link.pc.setRemoteDescription({ type: 'offer', sdp: frame.sdp });
    await this.#flush(link);
    const answer = await link.pc.createAnswer();
    await link.pc.setLocalDescription(answer);
    this.#send({ t: 'answer', to: frame.from, sdp: link.pc.localDescription.sdp });
  }

  async #flush(link) {
    const queued = link.queued.splice(0);
    for (const candidate of queued) await link.pc.addIceCandidate(candidate).catch(() => {});
  }

  #restartAll() {
    for (const [id, link] of this.#links) if (link.offerer) this.#offer(id, true);
  }

  /** Rule 3: the more people, the less each video stream may take. */
  #capBitrates() {
    const cap = CAPS[Math.min(CAPS.length - 1, Math.max(0, this.#links.size - 1))] * 1000;
    for (const { pc } of this.#links.values()) {
      for (const sender of pc.getSenders()) {
        if (sender.track?.kind !== 'video') continue;
        const params = sender.getParameters();
        if (!params.encodings?.length) continue;
        params.encodings[0].maxBitrate = cap;
        sender.setParameters(params).catch(() => {});
      }
    }
  }

  /** The loudest remote participant above a threshold is the active speaker. */
  async #activeSpeaker() {
    let loudest = '';
    let level = SPEAKING_LEVEL;
    for (const [id, { pc }] of this.#links) {
      const report = await pc.getStats();
      for (const r of report.values()) {
        if (r.type === 'inbound-rtp' && r.kind === 'audio' && (r.audioLevel ?? 0) > level) {
          level = r.audioLevel;
          loudest = id;
        }
      }
    }
    if (loudest !== this.state.value.speaker) this.#set({ speaker: loudest });
  }

  #drop(id) {
    const link = this.#links.get(id);
    if (!link) return;
    link.pc.close();
    this.#links.delete(id);
  }

  #closeLinks() {
    for (const id of [...this.#links.keys()]) this.#drop(id);
    clearInterval(this.#beat);
    clearInterval(this.#levels);
    removeEventListener('online', this.#onNetwork);
    /** @type {any} */ (navigator).connection?.removeEventListener?.('change', this.#onNetwork);
  }
}

function byId(peers) {
  return new Map((peers ?? []).map((peer) => [peer.id, peer]));
}
