"""The scripts bench/browser_hotpath.py runs in its pages: watching B's replica and list, frame
times, clicks, offline sends through the composer's action, and coming back online."""

DOM_CLICK = "() => [...document.querySelectorAll('button')].find((b) => b.textContent.trim() === 'Send').click()"

# B: note when its replica and its screen first hold each message (by text).
WATCH = r"""
() => {
  const now = () => performance.timeOrigin + performance.now();
  const app = teamtalk.app;
  window.__replica = new Map();
  window.__arrived = new Map();
  // Each draw of the app waits for an animation frame (main.js): frames asked = draws, a count
  // that does not move with the machine's load (a second render per message shows as 2).
  window.__framesAsked = 0;
  const raf = window.requestAnimationFrame.bind(window);
  window.requestAnimationFrame = (callback) => {
    window.__framesAsked += 1;
    return raf(callback);
  };
  window.__screen = new Map();
  // Who waits for a message to be shown (SHOWN): told by the observer, no polling.
  window.__shown = new Map();
  const wrap = (name) => {
    const original = app.replica[name].bind(app.replica);
    app.replica[name] = async (...args) => {
      const t0 = now();
      const result = await original(...args);
      const t = now();
      const changes = args[0].changes ?? [];
      for (const c of changes) {
        if (c.collection !== 'messages' || !c.fields?.text || window.__replica.has(c.fields.text)) continue;
        window.__arrived.set(c.fields.text, t0);
        window.__replica.set(c.fields.text, t);
      }
      return result;
    };
  };
  wrap('applyLive');
  wrap('applyResponse');
  window.__patched = new Map();
  const patch = app.store.patch.bind(app.store);
  app.store.patch = (records, ...rest) => {
    const result = patch(records, ...rest);
    const t = now();
    for (const [, record] of records) {
      const text = record?.fields?.text;
      if (typeof text === 'string' && !window.__patched.has(text)) window.__patched.set(text, t);
    }
    return result;
  };
  // The pixels: Element Timing reports the paint of an element that carries `elementtiming`
  // (the attribute is set here, before the frame that paints the row).
  window.__painted = new Map();
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const at = performance.timeOrigin + (entry.renderTime || entry.startTime);
      if (!window.__painted.has(entry.identifier)) window.__painted.set(entry.identifier, at);
    }
  }).observe({type: 'element', buffered: true});
  new MutationObserver(() => {
    const t = now();
    for (const li of document.querySelectorAll('[role=log] li')) {
      const text = li.textContent ?? '';
      const m = /hotpath-\d+/.exec(text);
      if (m && !window.__screen.has(m[0])) {
        window.__screen.set(m[0], t);
        window.__shown.get(m[0])?.();
        li.setAttribute('elementtiming', m[0]);
        const walker = document.createTreeWalker(li, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
          if (node.data.includes(m[0])) node.parentElement?.setAttribute('elementtiming', m[0]);
        }
      }
    }
  }).observe(document.body, {childList: true, subtree: true, characterData: true});
}
"""

# B: resolves once the list shows the message `label` (the observer of WATCH tells it), so the bench
# waits for B without calling into its page every few ms while the message is on its way.
SHOWN = r"""
(label) => window.__screen.has(label) || new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error(`not shown: ${label}`)), 30000);
  window.__shown.set(label, () => { clearTimeout(timer); window.__shown.delete(label); resolve(true); });
})
"""

# B, before the app loads: note when each live frame reaches the page (its socket's message event).
FRAMES = r"""
(() => {
  window.__frames = new Map();
  const Native = window.WebSocket;
  const decoder = new TextDecoder('latin1');
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (event) => {
        const t = performance.timeOrigin + performance.now();
        const text = typeof event.data === 'string' ? event.data : decoder.decode(event.data);
        for (const m of text.matchAll(/hotpath-\d+/g)) if (!window.__frames.has(m[0])) window.__frames.set(m[0], t);
      });
    }
  };
})();
"""

# A: note the time of every click on Send.
CLICKS = r"""
() => {
  window.__sent = [];
  window.__posted = [];
  window.__marks = [];
  const app = teamtalk.app;
  // A send that leaves at once writes through writeToSend (which also reads its request).
  for (const name of ['write', 'writeToSend', 'outgoing']) {
    if (!app.replica[name]) continue; // an older build (a baseline run) has no `outgoing`
    const original = app.replica[name].bind(app.replica);
    app.replica[name] = async (...args) => {
      const t0 = performance.timeOrigin + performance.now();
      const result = await original(...args);
      window.__marks.push([name, t0, performance.timeOrigin + performance.now()]);
      return result;
    };
  }
  const fetch = window.fetch;
  window.fetch = (...args) => {
    if (String(args[0]).includes('/api/sync')) window.__posted.push(performance.timeOrigin + performance.now());
    return fetch(...args);
  };
  // A send that leaves from the send worker (sync/sender.js): the worker says when it posted.
  // ... and when the page asked it, and when the write had committed there (the POST's steps on A).
  window.__worker = [];
  window.__socketSyncs = 0; // the send worker's requests over its sync socket (not POSTs)
  if (app.sender) app.sender.onPosted = (at, steps) => {
    window.__posted.push(at);
    if (steps?.via === 'socket') window.__socketSyncs += 1;
    if (steps?.wrote) window.__worker.push([steps.asked, steps.wrote, at]);
  };
  document.addEventListener('click', (event) => {
    const button = event.target.closest?.('button');
    if (button && button.textContent.trim() === 'Send') window.__sent.push(performance.timeOrigin + performance.now());
  }, true);
}
"""

OFFLINE_SENDS = r"""
async ({channel, count, ab, groups, tag, spaced}) => {
  const times = [];
  const channelToSelf = new MessageChannel();
  const task = () => new Promise((resolve) => {
    channelToSelf.port1.onmessage = resolve;
    channelToSelf.port2.postMessage(null);
  });
  const start = performance.now();
  const app = teamtalk.app;
  const sender = app.sender;
  const before = await app.replica.pendingCount();
  for (let i = 0; i < count; i++) {
    if (ab && sender) sender.paused = i % 2 === 1; // odd sends written by the page
    // Grouped writes on and off in blocks of 250 (an A/B of replica/outbox-writer.js in one run).
    if (groups) app.actions.grouped = Math.floor(i / 250) % 2 === 1;
    if (spaced) await task();
    const t0 = performance.now();
    await app.actions.sendMessage(channel, `offline-${tag}${i}`);
    times.push(performance.now() - t0);
  }
  const loop = performance.now() - start;
  // A grouped send resolves once queued: the run ends when every send is durable in IndexedDB.
  const t0 = performance.now();
  while ((await app.replica.pendingCount()) < before + count) await new Promise((r) => setTimeout(r, 2));
  return {times, settle: performance.now() - t0, loop, stats: app.replica.writeStats ?? null};
}
"""

# Where the time goes while coming back online: each /api/sync (request to response), each reply
# applied (Replica#applyResponse) and each store refresh, as [name, start, end] from `online`.
ONLINE_TRACE_JS = r"""
() => {
  const app = teamtalk.app;
  window.__trace = [];
  const mark = (name, t0) => window.__trace.push([name, t0, performance.now()]);
  const fetch = window.fetch;
  window.fetch = async (...args) => {
    const t0 = performance.now();
    const response = await fetch(...args);
    if (String(args[0]).includes('/api/sync')) {
      const body = await response.clone().arrayBuffer();
      mark(`sync ${args[1]?.body?.byteLength ?? args[1]?.body?.length ?? '?'} B -> ${body.byteLength} B`, t0);
    }
    return response;
  };
  for (const name of ['trigger', 'later']) {
    const original = app.engine[name].bind(app.engine);
    app.engine[name] = (...args) => {
      mark(name, performance.now());
      return original(...args);
    };
  }
  for (const [object, name] of [[app.replica, 'applyResponse'], [app.store, 'refresh'], [app.replica, 'outgoing']]) {
    const original = object[name].bind(object);
    object[name] = async (...args) => {
      const t0 = performance.now();
      try {
        return await original(...args);
      } finally {
        mark(name, t0);
      }
    };
  }
}
"""

BACK_ONLINE = r"""
async ({channel, count, tag}) => {
  const app = teamtalk.app;
  const t0 = performance.now();
  window.__online = t0;
  const prefix = `offline-${tag}`;
  app.online();
  for (;;) {
    const items = app.queries.messages(channel);
    let confirmed = 0;
    for (const m of items) if (m.state === 'sent' && m.text.startsWith(prefix)) confirmed += 1;
    const pending = app.store.outboxSize?.value ?? app.store.outbox.value.length; // older builds: an array
    if (pending === 0 && confirmed >= count) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  return performance.now() - t0;
}
"""
