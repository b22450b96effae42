// End-to-end: the model registry on a real `citrate-node --dev`, driven by polkadot.js.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Keyring } from '@polkadot/keyring';
import { u8aToString } from '@polkadot/util';
import { startDevNode } from './lib/node.mjs';
import { findEvent, submit } from '../../scripts/lib/tx.mjs';

const NAME = 'all-MiniLM-L6-v2';
// A CIDv0, the CIDv1 text of the same content, and a different (raw-leaves) CIDv1.
const CID_V0 = 'QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o';
const CID_V1_SAME_CONTENT = 'bafybeicg2rebjoofv4kbyovkw7af3rpiitvnl6i7ckcywaq6xjcxnc2mby';
const CID_V2 = 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku';

let node;
let api;
let keys;
let firstId;

before(async () => {
  node = await startDevNode();
  api = node.api;
  const keyring = new Keyring({ type: 'sr25519' });
  keys = Object.fromEntries(
    ['Alice', 'Bob', 'Charlie', 'Dave', 'Eve', 'Ferdie'].map((n) => [n.toLowerCase(), keyring.addFromUri(`//${n}`)]),
  );
});

after(async () => {
  await node?.stop();
});

const text = (bytes) => u8aToString(bytes.toU8a(true));

test('(a) Alice registers a model: event and storage agree', async () => {
  const tx = api.tx.modelRegistry.registerModel(
    NAME, CID_V0, 'Embedding', 'Onnx', 90_868_000, 'OpenSource', 'Apache-2.0',
  );
  const { events, error } = await submit(api, tx, keys.alice);
  assert.equal(error, null);

  const event = findEvent(events, 'modelRegistry', 'ModelRegistered');
  assert.ok(event, 'ModelRegistered emitted');
  const { modelId, name, owner, cid } = event.data;
  firstId = modelId.toNumber();
  assert.equal(text(name), NAME);
  assert.equal(owner.toString(), keys.alice.address);
  assert.equal(text(cid), CID_V0);

  const stored = (await api.query.modelRegistry.models(firstId)).unwrap();
  assert.equal(text(stored.name), NAME);
  assert.equal(text(stored.cid), CID_V0);
  assert.equal(stored.owner.toString(), keys.alice.address);
  assert.equal(stored.version.toNumber(), 1);
  assert.equal(stored.modelType.toString(), 'Embedding');
  assert.equal(stored.framework.toString(), 'Onnx');
  assert.equal(stored.sizeBytes.toNumber(), 90_868_000);
  assert.equal(stored.license.kind.toString(), 'OpenSource');
  assert.equal(text(stored.license.identifier), 'Apache-2.0');
  assert.equal(stored.status.toString(), 'Active');

  // The deposit is held from Alice under the registry's hold reason.
  const deposit = stored.deposit.amount.toBigInt();
  assert.ok(deposit > 0n);
  const holds = await api.query.balances.holds(keys.alice.address);
  const hold = holds.find((h) => h.id.toString().includes('ModelDeposit'));
  assert.ok(hold, `a ModelDeposit hold exists: ${holds.toString()}`);
  assert.equal(hold.amount.toBigInt(), deposit);

  const owned = await api.query.modelRegistry.modelsByOwner(keys.alice.address);
  assert.deepEqual(owned.map((id) => id.toNumber()), [firstId]);
});

test('(b) Alice publishes version 2 and the history links both versions', async () => {
  const tx = api.tx.modelRegistry.publishVersion(NAME, CID_V2, 'Safetensors', 45_000_000);
  const { events, error } = await submit(api, tx, keys.alice);
  assert.equal(error, null);
  const event = findEvent(events, 'modelRegistry', 'VersionPublished');
  assert.ok(event);
  const { modelId: secondId, version, previous } = event.data;
  assert.equal(version.toNumber(), 2);
  assert.equal(previous.toNumber(), firstId);

  const history = (await api.query.modelRegistry.modelVersions(NAME)).unwrap();
  assert.equal(history.latestVersion.toNumber(), 2);
  assert.deepEqual(history.versions.map((id) => id.toNumber()), [firstId, secondId.toNumber()]);

  const versions = await Promise.all(
    history.versions.map(async (id) => (await api.query.modelRegistry.models(id)).unwrap()),
  );
  assert.deepEqual(versions.map((m) => m.version.toNumber()), [1, 2]);
  assert.deepEqual(versions.map((m) => text(m.cid)), [CID_V0, CID_V2]);
  assert.deepEqual(versions.map((m) => m.framework.toString()), ['Onnx', 'Safetensors']);
  assert.ok(versions.every((m) => m.owner.toString() === keys.alice.address));
});

test('(c) bad input returns the pallet error and stores nothing', async () => {
  const before = {
    nextId: (await api.query.modelRegistry.nextModelId()).toNumber(),
    models: (await api.query.modelRegistry.models.keys()).length,
    history: (await api.query.modelRegistry.modelVersions(NAME)).toHex(),
    firstModel: (await api.query.modelRegistry.models(firstId)).toHex(),
  };

  // Each from a different account so they land in the same block.
  const attempts = [
    ['NameTooLong', keys.bob, api.tx.modelRegistry.registerModel('n'.repeat(65), CID_V2, 'Vision', 'Onnx', 1, 'Commercial', 'LicenseRef-x')],
    ['InvalidCid', keys.charlie, api.tx.modelRegistry.registerModel('resnet', 'QmNotAValidCid', 'Vision', 'Onnx', 1, 'OpenSource', 'MIT')],
    ['NotOwner', keys.dave, api.tx.modelRegistry.publishVersion(NAME, 'bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e', 'Onnx', 1)],
    ['NotOwner', keys.eve, api.tx.modelRegistry.deprecate(firstId)],
    ['CidAlreadyRegistered', keys.ferdie, api.tx.modelRegistry.registerModel('copy', CID_V1_SAME_CONTENT, 'Language', 'Gguf', 1, 'OpenSource', 'MIT')],
  ];
  const results = await Promise.all(attempts.map(([, signer, tx]) => submit(api, tx, signer)));
  results.forEach(({ error }, i) => {
    assert.ok(error, `attempt ${i} failed`);
    assert.equal(`${error.section}.${error.name}`, `modelRegistry.${attempts[i][0]}`);
    assert.ok(error.docs.length > 0, 'the error carries its documentation');
  });

  assert.equal((await api.query.modelRegistry.nextModelId()).toNumber(), before.nextId);
  assert.equal((await api.query.modelRegistry.models.keys()).length, before.models);
  assert.equal((await api.query.modelRegistry.modelVersions(NAME)).toHex(), before.history);
  assert.equal((await api.query.modelRegistry.models(firstId)).toHex(), before.firstModel);
  for (const who of ['bob', 'charlie', 'ferdie']) {
    assert.equal((await api.query.modelRegistry.modelsByOwner(keys[who].address)).length, 0);
    assert.equal((await api.query.balances.holds(keys[who].address)).length, 0);
  }
  assert.ok((await api.query.modelRegistry.modelVersions('resnet')).isNone);
});
