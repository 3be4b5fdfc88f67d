// The send worker's sync socket: what goes over it and what is left to a POST.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode, encode } from '@msgpack/msgpack';
import { MAX_FRAME, SyncSocket } from '../src/sync/sync-socket.js';

/** A WebSocket that is open at once and records what is sent on it. */
function openSocket() {
  const made = [];
  const make = (url) => {
    const socket = { url, readyState: 1, sent: [], send(body) { this.sent.push(body); }, close() { this.readyState = 3; } };
    made.push(socket);
    return socket;
  };
  return { made, make };
}

const message = (text) => ({ collection: 'messages', id: 'M1', mid: 1, hlc: '1-00000-d', fields: { channel: 'C1', text } });

test('a request goes over the open socket and its answer resolves it', async () => {
  const { made, make } = openSocket();
  const sync = new SyncSocket('ws://h/api/sync/socket', make);
  sync.open('d1');
  const answer = sync.sync({ changes: [message('hi')], cursors: {} }, 'd1');
  assert.ok(answer, 'sent over the socket');
  assert.equal(made[0].sent.length, 1);
  assert.equal(/** @type {any} */ (decode(made[0].sent[0])).changes[0].fields.text, 'hi');
  made[0].onmessage({ data: encode({ status: 200, body: { acks: [1] } }) });
  assert.deepEqual(await answer, { acks: [1] });
});

test('a request larger than one frame is left to a POST, and the socket stays open for the next', () => {
  const { made, make } = openSocket();
  const sync = new SyncSocket('ws://h/api/sync/socket', make);
  sync.open('d1');
  assert.equal(sync.sync({ changes: [message('x'.repeat(MAX_FRAME))], cursors: {} }, 'd1'), null);
  assert.equal(made[0].sent.length, 0, 'nothing sent: the server would close the socket (1009)');
  assert.equal(made[0].readyState, 1);
  assert.ok(sync.sync({ changes: [message('small')], cursors: {} }, 'd1'), 'the next request still goes over it');
});
