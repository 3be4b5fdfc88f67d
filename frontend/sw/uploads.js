// Background Sync for files (tag `uploads`, files/queue.js): the network is back and no page of
// the app is open, so the service worker runs the upload queue itself. The same queue module,
// the same tus uploads, the same IndexedDB; the delivered jobs' file records and messages go
// into the replica's outbox (files/deliver.js) and the caller flushes it (sw.js, syncHere).
//
// Rule 1. Under the Web Lock UPLOAD_LOCK (queue.js, Rule 5): a page that opens meanwhile waits
//         for the lock, then re-reads the queue and sees what was done here.
// Rule 2. Signed out: nothing runs. Hashing here is WebCrypto (a worker cannot start a worker).
// Rule 3. It rejects when a job is still waiting or failed, so the browser fires the event
//         again later (Background Sync's own retry); a page that opens runs the queue anyway.

import { Replica } from '../src/replica/replica.js';
import { UploadQueue, openQueueDB, UPLOAD_LOCK } from '../src/files/queue.js';
import { tusUploader } from '../src/files/tus.js';
import { sha256 } from '../src/files/hashing.js';
import { fileMessageChanges } from '../src/files/deliver.js';

/** @returns {Promise<boolean>} whether any job was delivered (the outbox then has news) */
export async function uploadHere() {
  const run = async () => {
    const replica = await Replica.open();
    const db = await openQueueDB();
    try {
      const meta = await replica.meta();
      if (!meta.session) return false; // Rule 2
      const token = (await self.cookieStore?.get('csrftoken'))?.value ?? meta.csrf ?? null;
      let delivered = 0;
      const queue = await UploadQueue.open({
        db,
        upload: tusUploader({ csrf: () => token }),
        hash: sha256,
        deliver: async (job) => {
          await replica.write(fileMessageChanges(job), Date.now());
          delivered += 1;
        },
        online: () => self.navigator?.onLine !== false, // cut off by the network: waiting, and the browser fires again
      });
      await queue.run();
      if (queue.jobs().some((j) => j.state === 'waiting' || j.state === 'failed')) {
        throw new Error('uploads are left for later'); // Rule 3
      }
      return delivered > 0;
    } finally {
      db.close();
      replica.close();
    }
  };
  const locks = self.navigator?.locks;
  return locks ? locks.request(UPLOAD_LOCK, run) : run();
}
