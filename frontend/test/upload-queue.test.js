// The upload queue's states and their persistence across reloads (files/queue.js), over
// fake-indexeddb; the upload itself is the test's own function, which pauses where told.
import 'fake-indexeddb/auto';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UploadQueue, openQueueDB } from '../src/files/queue.js';

let counter = 0;
const dbName = () => `files-test-${++counter}`;

function world({ failTimes = 0 } = {}) {
  const delivered = [];
  const uploads = [];
  let failures = failTimes;
  let gate = null;
  return {
    delivered,
    uploads,
    hold() {
      let open;
      gate = new Promise((resolve) => (open = resolve));
      return () => ((gate = null), open());
    },
    options: (db, online = () => true) => ({
      db,
      online,
      hash: async (blob) => `sha-of-${blob.size}`,
      deliver: async (job) => delivered.push(job.message),
      upload: async (file, blob, { onProgress, onLocation, signal }) => {
        uploads.push(file.id);
        onLocation(`/api/files/uploads/${file.id}`);
        onProgress(Math.floor(file.size / 2));
        if (gate) await Promise.race([gate, new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))))]);
        if (failures > 0) {
          failures -= 1;
          throw new Error('network down');
        }
        onProgress(file.size);
      },
    }),
  };
}

const photo = (id, size = 10) => ({ id, blob: new Blob([new Uint8Array(size)]), name: `${id}.jpg`, type: 'image/jpeg' });

test('a job waits, uploads its files, delivers its message and leaves the queue with its bytes', async () => {
  const w = world();
  const db = await openQueueDB(dbName());
  const queue = await UploadQueue.open(w.options(db));
  const seen = [];
  queue.subscribe(() => seen.push(queue.jobs()[0]?.state ?? 'gone'));
  const job = await queue.add({ id: 'j1', channel: 'c1', text: 'the site', message: 'm1', files: [photo('f1'), photo('f2', 20)] });
  assert.equal(job.state, 'waiting');
  assert.equal((await queue.blob('f1')).size, 10);
  await queue.run();
  assert.deepEqual(w.delivered, ['m1']);
  assert.deepEqual(w.uploads, ['f1', 'f2']);
  assert.ok(seen.includes('uploading') && seen.includes('done'));
  assert.deepEqual(queue.jobs(), []);
  assert.equal(await queue.blob('f1'), null);
  assert.deepEqual(await db.getAll('jobs'), []);
});

test('offline, a job stays waiting; it survives a reload and goes when online', async () => {
  const w = world();
  const name = dbName();
  let online = false;
  const first = await UploadQueue.open(w.options(await openQueueDB(name), () => online));
  await first.add({ id: 'j1', channel: 'c1', text: 'from the field', message: 'm1', files: [photo('f1')] });
  await first.run();
  assert.equal(first.job('j1').state, 'waiting');
  // A reload: a new queue over the same database.
  const second = await UploadQueue.open(w.options(await openQueueDB(name), () => online));
  assert.equal(second.job('j1').state, 'waiting');
  assert.equal((await second.blob('f1')).size, 10);
  online = true;
  await second.run();
  assert.deepEqual(w.delivered, ['m1']);
});

test('a job cut by a reload mid-upload is waiting again and goes on from its location', async () => {
  const w = world();
  const name = dbName();
  const first = await UploadQueue.open(w.options(await openQueueDB(name)));
  w.hold(); // never opened: the "page" goes away mid-upload
  await first.add({ id: 'j1', channel: 'c1', text: '', message: 'm1', files: [photo('f1')] });
  first.run();
  await new Promise((resolve) => first.subscribe(() => first.job('j1')?.files[0].location && resolve()));
  const stored = await (await openQueueDB(name)).get('jobs', 'j1');
  assert.equal(stored.state, 'uploading');
  const w2 = world();
  const second = await UploadQueue.open(w2.options(await openQueueDB(name)));
  assert.equal(second.job('j1').state, 'waiting');
  assert.equal(second.job('j1').files[0].location, '/api/files/uploads/f1');
  assert.equal(second.job('j1').files[0].digest, 'sha-of-10');
  await second.run();
  assert.deepEqual(w2.delivered, ['m1']);
});

test('pause stops the upload, resume goes on; a failure can be retried', async () => {
  const w = world({ failTimes: 1 });
  const queue = await UploadQueue.open(w.options(await openQueueDB(dbName())));
  const open = w.hold();
  await queue.add({ id: 'j1', channel: 'c1', text: '', message: 'm1', files: [photo('f1')] });
  const running = queue.run();
  await new Promise((resolve) => queue.subscribe(() => queue.job('j1')?.state === 'uploading' && resolve()));
  await queue.pause('j1');
  await running;
  assert.equal(queue.job('j1').state, 'paused');
  open();
  await queue.resume('j1');
  await queue.run();
  assert.equal(queue.job('j1').state, 'failed');
  assert.equal(queue.job('j1').error, 'network down');
  await queue.retry('j1');
  await queue.run();
  assert.deepEqual(w.delivered, ['m1']);
  assert.equal(queue.job('j1'), null);
});

test('a paused or failed state survives a reload; cancel removes the job and its bytes', async () => {
  const w = world({ failTimes: 1 });
  const name = dbName();
  const queue = await UploadQueue.open(w.options(await openQueueDB(name)));
  await queue.add({ id: 'j1', channel: 'c1', text: '', message: 'm1', files: [photo('f1')] });
  await queue.add({ id: 'j2', channel: 'c2', text: '', message: 'm2', files: [photo('f2')], now: Date.now() + 1 });
  await queue.pause('j2');
  await queue.run();
  const again = await UploadQueue.open(w.options(await openQueueDB(name)));
  assert.deepEqual(again.jobs().map((j) => [j.id, j.state]), [['j1', 'failed'], ['j2', 'paused']]);
  assert.deepEqual(again.jobs('c2').map((j) => j.id), ['j2']);
  await again.cancel('j2');
  assert.equal(await again.blob('f2'), null);
  const last = await UploadQueue.open(w.options(await openQueueDB(name)));
  assert.deepEqual(last.jobs().map((j) => j.id), ['j1']);
});

test('a queue that takes over re-reads what another (the service worker) did meanwhile', async () => {
  const name = dbName();
  const page = await UploadQueue.open(world().options(await openQueueDB(name), () => false));
  await page.add({ id: 'j1', channel: 'c1', text: 'one', message: 'm1', mentions: '@u1', files: [photo('f1')] });
  await page.add({ id: 'j2', channel: 'c1', text: 'two', message: 'm2', files: [photo('f2')] });
  assert.equal(page.jobs()[0].mentions, '@u1');
  await page.run(); // offline: nothing moves
  assert.deepEqual(page.jobs().map((j) => j.state), ['waiting', 'waiting']);

  const w = world();
  const worker = await UploadQueue.open(w.options(await openQueueDB(name)));
  await worker.pause('j2');
  await worker.run();
  assert.deepEqual(w.delivered, ['m1']);

  await page.reload();
  assert.deepEqual(page.jobs().map((j) => [j.id, j.state]), [['j2', 'paused']]);
  assert.equal(await page.blob('f1'), null);
});

test('a file over the server limit is found before anything is queued', async () => {
  const { oversized } = await import('../src/files/compose.js');
  const files = [{ name: 'a.jpg', size: 10 }, { name: 'video.mp4', size: 2000 }];
  assert.equal(oversized(files, 1000)?.name, 'video.mp4');
  assert.equal(oversized(files, 2000), null);
});

test('a job cut off by going offline waits for the network instead of failing', async () => {
  let online = true;
  const w = world({ failTimes: 1 });
  const queue = await UploadQueue.open(w.options(await openQueueDB(dbName()), () => online));
  await queue.add({ id: 'j1', channel: 'c1', text: 'x', message: 'm1', files: [photo('f1')] });
  const release = w.hold();
  const running = queue.run();
  while (queue.jobs()[0].state !== 'uploading') await new Promise((r) => setTimeout(r, 1));
  online = false; // the network goes; the upload's request then fails
  release();
  await running;
  assert.equal(queue.jobs()[0].state, 'waiting');
  assert.equal(queue.jobs()[0].error, undefined);
  online = true;
  await queue.run();
  assert.deepEqual(w.delivered, ['m1']);
});
