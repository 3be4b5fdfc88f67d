// Reading many records at once, with few IndexedDB requests.
//
// In Chromium each request costs ~70 µs whatever it returns, so a sync reply of 500 changes read
// with one `get` each spent ~35 ms on requests alone (coming back online: ten such replies). The
// records a reply touches are mostly of one collection with ids close together (a device's own
// messages: ULIDs made in one sitting), so they come from one `getAll` over their span. The span
// is read with a bound: when it holds more than SPREAD times the records asked for (other
// people's records between them), what was read is dropped and each is read by key, as before.

/** Fewer keys of a collection than this are read one by one. */
export const MIN_SPAN = 16;
/** A span may hold this many records per record asked for before it is read key by key. */
export const SPREAD = 4;

/**
 * @param {any} store the `records` object store (key path [collection, id]) of an open transaction
 * @param {[string, string][]} keys [collection, id] pairs
 * @returns {Promise<any[]>} the record at each key, in order (undefined where absent)
 */
export async function readMany(store, keys) {
  /** @type {Map<string, {id: string, at: number}[]>} */
  const byCollection = new Map();
  keys.forEach(([collection, id], at) => {
    const items = byCollection.get(collection) ?? [];
    items.push({ id, at });
    byCollection.set(collection, items);
  });
  /** @type {any[]} */
  const out = new Array(keys.length);
  await Promise.all(
    [...byCollection].map(async ([collection, items]) => {
      if (items.length >= MIN_SPAN) {
        let low = items[0].id;
        let high = low;
        for (const { id } of items) {
          if (id < low) low = id;
          if (id > high) high = id;
        }
        const limit = items.length * SPREAD;
        const found = await store.getAll(IDBKeyRange.bound([collection, low], [collection, high]), limit);
        if (found.length < limit) {
          const byId = new Map(found.map((record) => [record.id, record]));
          for (const { id, at } of items) out[at] = byId.get(id);
          return;
        }
      }
      const found = await Promise.all(items.map(({ id }) => store.get([collection, id])));
      items.forEach(({ at }, i) => (out[at] = found[i]));
    }),
  );
  return out;
}
