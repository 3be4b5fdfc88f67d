// The messages between the app's browsing contexts, defined once.
//
// Tabs of one browser share one replica (coordinator.js): the leader tab talks to the network,
// the others tell it what they wrote and hear what changed, over the BroadcastChannel
// `teamtalk`. The service worker and the pages exchange a second, smaller set over
// postMessage. Every sender builds its message with a constructor below and every receiver
// switches on `t`, so this file is the whole protocol.
//
// Rule 1. A message is a plain object tagged by `t` (structured clone carries nothing else).
// Rule 2. Receivers ignore a message they do not know: a tab still running an older version
//         may share the channel with a newer one, so never reuse a tag with another meaning.
// Rule 3. Messages carry hints, never state: a receiver re-reads IndexedDB (the one source of
//         truth) instead of trusting record contents sent across.

/**
 * A frame of the live channel that is never stored (typing, presence, the server's hello).
 * @typedef {{t: string, [key: string]: unknown}} LiveFrame
 */

/**
 * A follower wrote to the outbox: the leader syncs now, or with `lazy` (a read cursor) with the
 * next sync (SyncEngine#later). An older leader ignores `lazy` and syncs now: still correct.
 * @typedef {{t: 'wrote', lazy?: boolean}} Wrote
 */
/**
 * Records or the outbox changed in IndexedDB: re-read `keys` (the outbox and meta always);
 * with `full`, re-read everything (a scope was dropped).
 * @typedef {{t: 'changed', keys: string[], full?: boolean}} Changed
 */
/**
 * The leader's backfill stored held chunks (replica/held.js): re-read them, `[scope, bucket]` each.
 * @typedef {{t: 'held', chunks: [string, number][]}} Held
 */
/**
 * The leader's connection state ('Online' | 'Offline' | 'Syncing'), for the status pill.
 * @typedef {{t: 'status', status: string}} StatusMessage
 */
/**
 * The leader relays a typing / presence / hello frame it received on the live channel.
 * @typedef {{t: 'ephemeral', frame: LiveFrame}} Ephemeral
 */
/**
 * A follower asks the leader to send a typing frame on the live channel.
 * @typedef {{t: 'typing', frame: LiveFrame}} Typing
 */
/**
 * A follower asks the leader to send any other live frame (presence).
 * @typedef {{t: 'live', frame: LiveFrame}} Live
 */
/**
 * A new tab asks the leader to repeat its state (it answers with `status`).
 * @typedef {{t: 'hello'}} Hello
 */
/**
 * This browser signed out: every tab stops syncing and shows the sign-in form.
 * @typedef {{t: 'signed-out'}} SignedOut
 */
/**
 * Everything a tab may post on the BroadcastChannel.
 * @typedef {Wrote | Changed | Held | StatusMessage | Ephemeral | Typing | Live | Hello | SignedOut} TabMessage
 */

/** @returns {Wrote} */
export const wrote = (lazy = false) => ({ t: 'wrote', lazy });

/**
 * @param {string[]} keys
 * @param {boolean} [full]
 * @returns {Changed}
 */
export const changed = (keys, full = false) => ({ t: 'changed', keys, full });

/**
 * @param {[string, number][]} chunks
 * @returns {Held}
 */
export const held = (chunks) => ({ t: 'held', chunks });

/**
 * @param {string} status
 * @returns {StatusMessage}
 */
export const status = (status) => ({ t: 'status', status });

/**
 * @param {LiveFrame} frame
 * @returns {Ephemeral}
 */
export const ephemeral = (frame) => ({ t: 'ephemeral', frame });

/**
 * @param {LiveFrame} frame
 * @returns {Typing}
 */
export const typing = (frame) => ({ t: 'typing', frame });

/**
 * @param {LiveFrame} frame
 * @returns {Live}
 */
export const live = (frame) => ({ t: 'live', frame });

/** @returns {Hello} */
export const hello = () => ({ t: 'hello' });

/** @returns {SignedOut} */
export const signedOut = () => ({ t: 'signed-out' });

/** @type {Set<unknown>} */
const TAB_TAGS = new Set(['wrote', 'changed', 'status', 'ephemeral', 'typing', 'live', 'hello', 'signed-out']);

/**
 * True for a message this version understands (Rule 2: anything else is dropped).
 * @param {unknown} data
 * @returns {data is TabMessage}
 */
export function isTabMessage(data) {
  return typeof data === 'object' && data !== null && TAB_TAGS.has(/** @type {{t?: unknown}} */ (data).t);
}

// --- page <-> service worker (postMessage) ------------------------------------------------------
// These are tagged by `type`, not `t`, and must stay so: a page still running the old version
// posts SKIP_WAITING to the new worker it is about to hand over to.

/**
 * Page to worker: the user chose to reload into the waiting version.
 * @typedef {{type: 'SKIP_WAITING'}} SkipWaiting
 */
/**
 * Worker to page: Background Sync fired; the page's engine pushes the outbox now.
 * @typedef {{type: 'FLUSH'}} Flush
 */
/**
 * Worker to page: Background Sync fired for the upload queue (files/queue.js); the page runs it.
 * @typedef {{type: 'UPLOAD'}} Upload
 */
/** @typedef {SkipWaiting | Flush | Upload} WorkerMessage */

/** @returns {SkipWaiting} */
export const skipWaiting = () => ({ type: 'SKIP_WAITING' });

/** @returns {Flush} */
export const flush = () => ({ type: 'FLUSH' });

/** @returns {Upload} */
export const uploadNow = () => ({ type: 'UPLOAD' });
