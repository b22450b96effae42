// Submits extrinsics and reports their outcome the way a dapp would see it.

/**
 * Signs and submits `tx`, waits until it is in a block and returns
 * `{ events, blockHash, error }`. `error` is `null` on success, else the decoded dispatch
 * error as `{ section, name, docs }` (e.g. `modelRegistry.NameTooLong`).
 */
export function submit(api, tx, signer) {
  return new Promise((resolve, reject) => {
    let unsubscribe;
    tx.signAndSend(signer, ({ status, events, dispatchError }) => {
      if (!status.isInBlock) return;
      unsubscribe?.();
      let error = null;
      if (dispatchError) {
        if (dispatchError.isModule) {
          const { section, name, docs } = api.registry.findMetaError(dispatchError.asModule);
          error = { section, name, docs: docs.join(' ') };
        } else {
          error = { section: 'dispatch', name: dispatchError.toString(), docs: '' };
        }
      }
      resolve({ events, blockHash: status.asInBlock, error });
    })
      .then((u) => { unsubscribe = u; })
      .catch(reject);
  });
}

/** The first event `section.method` among `events`, or undefined. */
export function findEvent(events, section, method) {
  return events.find(({ event }) => event.section === section && event.method === method)?.event;
}

/** Resolves with the first event from now on that matches `predicate`; rejects after
 * `timeoutMs`, naming the events seen meanwhile. */
export function waitForEvent(api, predicate, timeoutMs) {
  return new Promise((resolve, reject) => {
    let unsubscribe;
    const seen = [];
    const timer = setTimeout(() => {
      unsubscribe?.();
      reject(new Error(`no matching event in ${timeoutMs} ms; saw ${seen.join(', ')}`));
    }, timeoutMs);
    api.query.system.events((records) => {
      for (const { event } of records) {
        seen.push(`${event.section}.${event.method}`);
        if (predicate(event)) {
          clearTimeout(timer);
          unsubscribe?.();
          resolve(event);
          return;
        }
      }
    }).then((u) => { unsubscribe = u; });
  });
}
