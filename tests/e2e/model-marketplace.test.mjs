// End-to-end: the IModelRegistry and IModelAccess precompiles used from Solidity on a real
// `citrate-node --dev`. ModelMarketplace (npm solc) registers a model and sells a tier; Bob
// buys access from the precompile sending value; the 90/10 split is checked to the planck
// against balances read with polkadot.js; access is read both from storage and through the
// precompile; a user without access gets the contract's revert reason.
import assert from 'node:assert/strict';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { Keyring } from '@polkadot/keyring';
import { hexToU8a, u8aConcat, u8aToHex } from '@polkadot/util';
import { Interface, getAddress } from 'ethers';
import { compileFile } from '../../scripts/lib/solc.mjs';
import { startDevNode } from './lib/node.mjs';
import { callTx, limitsFor, logsOf, revertReason, view } from './lib/revive.mjs';
import { findEvent, submit } from '../../scripts/lib/tx.mjs';

const contractsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../contracts');
const REGISTRY_ADDRESS = '0x000000000000000000000000000000000C010000';
const ACCESS_ADDRESS = '0x000000000000000000000000000000000c020000';
const UNITS = 10n ** 18n;
// An odd price, so the 90 % share has a remainder: owner gets floor(0.9 × price).
const PRICE = 2n * UNITS + 7n;
const OWNER_SHARE = (PRICE * 9n) / 10n;
const TREASURY_SHARE = PRICE - OWNER_SHARE;
const DURATION = 1_000n;
const MAX_USES = 3;
/** A CIDv1 (raw, sha2-256) in base16 text for `content`. */
const cidOf = (content) => `f01551220${createHash('sha256').update(content).digest('hex')}`;
const CID = cidOf('e2e-minilm weights');

let node;
let api;
let alice;
let bob;
let charlie;
let marketplace;
let registryIface;
let accessIface;

/** The substrate account pallet-revive uses for an unmapped EVM address (contracts). */
const fallbackAccount = (address) => u8aConcat(hexToU8a(address), new Uint8Array(12).fill(0xee));
const free = async (account) => (await api.query.system.account(account)).data.free.toBigInt();
/** The fee `who` paid for the extrinsic whose events these are. */
const feePaid = (events) => {
  const paid = findEvent(events, 'transactionPayment', 'TransactionFeePaid');
  return paid.data.actualFee.toBigInt() + paid.data.tip.toBigInt();
};

before(async () => {
  node = await startDevNode();
  api = node.api;
  const keyring = new Keyring({ type: 'sr25519' });
  [alice, bob, charlie] = ['//Alice', '//Bob', '//Charlie'].map((uri) => keyring.addFromUri(uri));
  const compiled = compileFile(path.join(contractsDir, 'ModelMarketplace.sol'));
  marketplace = compiled.ModelMarketplace;
  registryIface = new Interface(compileFile(path.join(contractsDir, 'interfaces/IModelRegistry.sol')).IModelRegistry.abi);
  accessIface = new Interface(compileFile(path.join(contractsDir, 'interfaces/IModelAccess.sol')).IModelAccess.abi);
});

after(async () => {
  await node?.stop();
});

test('(e) a Solidity marketplace sells model access through the precompiles, split 90/10', async () => {
  const iface = new Interface(marketplace.abi);
  const evmOf = async (pair) => getAddress((await api.call.reviveApi.address(pair.address)).toHex());
  const [bobEvm, charlieEvm] = [await evmOf(bob), await evmOf(charlie)];

  // Alice deploys the marketplace with 1 CTR for the deposits it will hold as model owner.
  const deployDry = await api.call.reviveApi.instantiate(
    alice.address, UNITS, null, null, { Upload: marketplace.bytecode }, '0x', null,
  );
  const deployLimits = limitsFor(deployDry);
  const deploy = await submit(
    api,
    api.tx.revive.instantiateWithCode(UNITS, deployLimits.weight, deployLimits.deposit, marketplace.bytecode, '0x', null),
    alice,
  );
  assert.equal(deploy.error, null, JSON.stringify(deploy.error));
  const market = getAddress(findEvent(deploy.events, 'revive', 'Instantiated').data.contract.toHex());
  const marketAccount = fallbackAccount(market);

  // The operator lists a model: the contract calls registerModel and setTier.
  const list = await submit(
    api,
    await callTx(api, alice, market, iface, 'listModel', ['e2e-minilm', CID, 90_000_000n, PRICE, DURATION, MAX_USES]),
    alice,
  );
  assert.equal(list.error, null, JSON.stringify(list.error));
  const [registered] = logsOf(list.events, REGISTRY_ADDRESS, registryIface);
  assert.equal(registered.name, 'ModelRegistered');
  assert.equal(registered.args.owner, market);
  assert.equal(registered.args.cid, CID);
  const modelId = registered.args.modelId;
  const [tierSet] = logsOf(list.events, ACCESS_ADDRESS, accessIface);
  assert.equal(tierSet.name, 'TierSet');
  assert.deepEqual([tierSet.args.modelId, tierSet.args.price, tierSet.args.maxUses], [modelId, PRICE, BigInt(MAX_USES)]);

  // The registry sees the contract as the owner, from storage and through getModel.
  const stored = (await api.query.modelRegistry.models(modelId)).unwrap();
  assert.equal(u8aToHex(stored.owner.toU8a()), u8aToHex(marketAccount));
  const [model] = await view(api, bob.address, REGISTRY_ADDRESS, registryIface, 'getModel', [modelId]);
  assert.equal(model.owner, market);
  assert.equal(model.name, 'e2e-minilm');
  assert.equal(model.active, true);
  const [tier] = [await view(api, bob.address, ACCESS_ADDRESS, accessIface, 'getTier', [modelId, 0])];
  assert.deepEqual([tier.exists, tier.price, tier.duration], [true, PRICE, DURATION]);

  // Without access, the marketplace refuses Bob, with its reason.
  assert.equal(
    await revertReason(api, bob.address, market, iface, 'runInference', ['0x01']),
    'ModelMarketplace: no access to the model',
  );

  // Bob buys tier 0 from the precompile, sending exactly the price as value.
  // `PalletId::into_account_truncating`: "modl" ++ id, zero-padded to 32 bytes.
  const treasuryAccount = u8aConcat(
    new TextEncoder().encode('modl'), api.consts.modelAccess.treasuryPalletId.toU8a(), new Uint8Array(20),
  );
  const before = {
    owner: await free(marketAccount), treasury: await free(treasuryAccount), bob: await free(bob.address),
  };
  const purchase = await submit(
    api, await callTx(api, bob, ACCESS_ADDRESS, accessIface, 'purchaseAccess', [modelId, 0], PRICE), bob,
  );
  assert.equal(purchase.error, null, JSON.stringify(purchase.error));
  const afterPurchase = {
    owner: await free(marketAccount), treasury: await free(treasuryAccount), bob: await free(bob.address),
  };
  assert.equal(afterPurchase.owner - before.owner, OWNER_SHARE, 'owner received exactly 90 %');
  assert.equal(afterPurchase.treasury - before.treasury, TREASURY_SHARE, 'treasury received exactly 10 %');
  assert.equal(before.bob - afterPurchase.bob, PRICE + feePaid(purchase.events), 'Bob paid the price and the fee');

  const [purchased] = logsOf(purchase.events, ACCESS_ADDRESS, accessIface);
  assert.equal(purchased.name, 'AccessPurchased');
  assert.equal(purchased.args.buyer, bobEvm);
  assert.equal(purchased.args.ownerShare, OWNER_SHARE);
  assert.equal(purchased.args.treasuryShare, TREASURY_SHARE);
  const palletEvent = findEvent(purchase.events, 'modelAccess', 'AccessPurchased');
  assert.equal(palletEvent.data.ownerShare.toBigInt(), OWNER_SHARE);
  assert.equal(palletEvent.data.treasuryShare.toBigInt(), TREASURY_SHARE);
  assert.equal((await api.query.modelRegistry.models(modelId)).unwrap().totalRewards.toBigInt(), OWNER_SHARE);

  // The access is visible in storage (polkadot.js) and through the precompile's views.
  const grant = (await api.query.modelAccess.access(modelId, bob.address)).unwrap();
  assert.equal(grant.usesLeft.asLimited.toNumber(), MAX_USES);
  assert.equal(grant.expiresAt.toBigInt(), purchased.args.expiresAt);
  const [allowed] = await view(api, alice.address, ACCESS_ADDRESS, accessIface, 'hasAccess', [bobEvm, modelId]);
  assert.equal(allowed, true);
  const [access] = await view(api, alice.address, ACCESS_ADDRESS, accessIface, 'accessOf', [bobEvm, modelId]);
  assert.deepEqual(
    [access.exists, access.tierId, access.expiresAt, access.unlimitedUses, access.usesLeft],
    [true, 0n, grant.expiresAt.toBigInt(), false, BigInt(MAX_USES)],
  );
  assert.equal((await view(api, alice.address, ACCESS_ADDRESS, accessIface, 'hasAccess', [charlieEvm, modelId]))[0], false);

  // Bob's request is served; Charlie's reverts with the contract's reason, on chain too.
  const served = await submit(api, await callTx(api, bob, market, iface, 'runInference', ['0xc0ffee']), bob);
  assert.equal(served.error, null, JSON.stringify(served.error));
  const [request] = logsOf(served.events, market, iface);
  assert.deepEqual([request.name, request.args.user, request.args.total], ['RequestServed', bobEvm, 1n]);
  assert.equal(
    await revertReason(api, charlie.address, market, iface, 'runInference', ['0x01']),
    'ModelMarketplace: no access to the model',
  );
  const data = iface.encodeFunctionData('runInference', ['0x01']);
  const refused = await submit(
    api, api.tx.revive.call(market, 0, { refTime: 5_000_000_000n, proofSize: 500_000n }, UNITS, data), charlie,
  );
  assert.deepEqual([refused.error?.section, refused.error?.name], ['revive', 'ContractReverted']);

  // Pallet errors and bad values come back as clear reverts from the precompiles.
  assert.equal(
    await revertReason(api, charlie.address, ACCESS_ADDRESS, accessIface, 'purchaseAccess', [modelId, 0], PRICE - 1n),
    'ModelAccess.purchaseAccess: PaymentNotPrice',
  );
  assert.equal(
    await revertReason(api, charlie.address, ACCESS_ADDRESS, accessIface, 'purchaseAccess', [modelId, 5], 0n),
    'ModelAccess.purchaseAccess: TierNotFound',
  );
  assert.equal(
    await revertReason(api, charlie.address, REGISTRY_ADDRESS, registryIface, 'registerModel', ['e2e-minilm', cidOf('other weights'), 0, 0, 1, 0, 'MIT']),
    'ModelRegistry.registerModel: NameAlreadyRegistered',
  );
  assert.equal(
    await revertReason(api, charlie.address, ACCESS_ADDRESS, accessIface, 'setTier', [modelId, 1, 1n, 10n, 0]),
    'ModelAccess.setTier: NotModelOwner',
  );
  // Value sent to a function that is not payable is refused rather than kept.
  assert.equal(
    await revertReason(api, charlie.address, ACCESS_ADDRESS, accessIface, 'hasAccess', [charlieEvm, modelId], 1n),
    'ModelAccess.hasAccess: function is not payable',
  );
});

test('(f) metadata and version 2 set through IModelRegistry read back the same from storage and the views', async () => {
  const metadata = {
    description: 'all-MiniLM-L6-v2 sentence embeddings',
    task: 0, // FeatureExtraction
    inputs: [
      { name: 'input_ids', dtype: 8, dims: [{ size: 0n, symbol: 'batch' }, { size: 0n, symbol: 'sequence' }] },
    ],
    outputs: [{ name: 'embedding', dtype: 0, dims: [{ size: 0n, symbol: 'batch' }, { size: 384n, symbol: '' }] }],
    parameterCount: 22_700_000n,
    flopsPerInference: 2_900_000_000n,
    minMemoryBytes: 200_000_000n,
    tags: ['sentence-transformers', 'onnx'],
    documentation: 'https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2',
    tokenizerCid: 'QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o',
  };
  const register = await submit(
    api,
    await callTx(api, alice, REGISTRY_ADDRESS, registryIface, 'registerModel', [
      'e2e-metadata', cidOf('e2e-metadata weights'), 4, 0, 90_000_000n, 0, 'Apache-2.0',
    ]),
    alice,
  );
  assert.equal(register.error, null, JSON.stringify(register.error));
  const modelId = logsOf(register.events, REGISTRY_ADDRESS, registryIface)[0].args.modelId;

  const set = await submit(
    api, await callTx(api, alice, REGISTRY_ADDRESS, registryIface, 'setMetadata', [modelId, metadata]), alice,
  );
  assert.equal(set.error, null, JSON.stringify(set.error));
  assert.equal(logsOf(set.events, REGISTRY_ADDRESS, registryIface)[0].name, 'MetadataSet');
  const record = (await api.query.modelRegistry.metadata(modelId)).unwrap();
  assert.equal(record.metadata.task.toString(), 'FeatureExtraction');
  assert.equal(record.metadata.inputs[0].dims[1].asSymbolic.toUtf8(), 'sequence');
  assert.equal(record.metadata.outputs[0].dims[1].asFixed.toBigInt(), 384n);
  const held = await api.query.balances.holds(alice.address);
  assert.ok(held.some((h) => h.id.toString().includes('MetadataDeposit') && h.amount.toBigInt() === record.deposit.amount.toBigInt()));

  const [model] = await view(api, bob.address, REGISTRY_ADDRESS, registryIface, 'getModel', [modelId]);
  assert.equal(model.hasMetadata, true);
  assert.equal(model.licenseId, 'Apache-2.0');
  assert.equal(model.metadata.description, metadata.description);
  assert.equal(model.metadata.tokenizerCid, metadata.tokenizerCid);
  assert.deepEqual([...model.metadata.tags], metadata.tags);
  assert.deepEqual(model.metadata.outputs[0].dims.map((d) => [d.size, d.symbol]), [[0n, 'batch'], [384n, '']]);
  // Version 2 through publishVersion: its log links it to version 1, and the history lists both.
  const publish = await submit(
    api,
    await callTx(api, alice, REGISTRY_ADDRESS, registryIface, 'publishVersion', [
      'e2e-metadata', cidOf('e2e-metadata weights v2'), 2, 45_000_000n,
    ]),
    alice,
  );
  assert.equal(publish.error, null, JSON.stringify(publish.error));
  const [published] = logsOf(publish.events, REGISTRY_ADDRESS, registryIface);
  assert.deepEqual(
    [published.name, published.args.previousId, published.args.version],
    ['VersionPublished', modelId, 2n],
  );
  const [versions] = await view(api, bob.address, REGISTRY_ADDRESS, registryIface, 'versionsOf', ['e2e-metadata']);
  assert.deepEqual([...versions], [modelId, published.args.modelId]);
  const [v2] = await view(api, bob.address, REGISTRY_ADDRESS, registryIface, 'getModel', [published.args.modelId]);
  assert.deepEqual([v2.version, v2.framework, v2.licenseId, v2.hasMetadata], [2n, 2n, 'Apache-2.0', false]);
  const aliceEvm = getAddress((await api.call.reviveApi.address(alice.address)).toHex());
  const [owned] = await view(api, bob.address, REGISTRY_ADDRESS, registryIface, 'modelsOf', [aliceEvm]);
  assert.ok(owned.includes(modelId) && owned.includes(published.args.modelId));

  // One tag over the limit is refused by name, and nothing changes.
  const tooMany = { ...metadata, tags: Array.from({ length: 17 }, (_, i) => `t${i}`) };
  assert.equal(
    await revertReason(api, alice.address, REGISTRY_ADDRESS, registryIface, 'setMetadata', [modelId, tooMany]),
    'ModelRegistry.setMetadata: more than 16 tags',
  );
});

test('(g) removing a model through IModelRegistry retires its access tiers and releases their deposits', async () => {
  const register = await submit(
    api,
    await callTx(api, alice, REGISTRY_ADDRESS, registryIface, 'registerModel', [
      'e2e-removal', cidOf('e2e-removal weights'), 0, 0, 1_000n, 1, 'LicenseRef-e2e',
    ]),
    alice,
  );
  assert.equal(register.error, null, JSON.stringify(register.error));
  const modelId = logsOf(register.events, REGISTRY_ADDRESS, registryIface)[0].args.modelId;
  const tierHeld = async () => (await api.query.balances.holds(alice.address))
    .filter((h) => h.id.toString().includes('TierDeposit'))
    .reduce((sum, h) => sum + h.amount.toBigInt(), 0n);
  const heldBefore = await tierHeld();
  const tier = await submit(
    api, await callTx(api, alice, ACCESS_ADDRESS, accessIface, 'setTier', [modelId, 0, UNITS, 100n, 0]), alice,
  );
  assert.equal(tier.error, null, JSON.stringify(tier.error));
  assert.ok((await tierHeld()) > heldBefore, 'the tier holds a deposit');

  // Only a deprecated version can go; the precompile says so in Solidity terms.
  assert.equal(
    await revertReason(api, alice.address, REGISTRY_ADDRESS, registryIface, 'removeModel', [modelId]),
    'ModelRegistry.removeModel: NotDeprecated',
  );
  for (const fn of ['deprecate', 'removeModel']) {
    const result = await submit(api, await callTx(api, alice, REGISTRY_ADDRESS, registryIface, fn, [modelId]), alice);
    assert.equal(result.error, null, JSON.stringify(result.error));
    const [log] = logsOf(result.events, REGISTRY_ADDRESS, registryIface);
    assert.deepEqual([log.name, log.args.modelId], [fn === 'deprecate' ? 'ModelDeprecated' : 'ModelRemoved', modelId]);
    if (fn === 'removeModel') {
      const retired = findEvent(result.events, 'modelAccess', 'TierRetired');
      assert.deepEqual([retired.data.modelId.toBigInt(), retired.data.tierId.toNumber()], [modelId, 0]);
    }
  }
  assert.equal((await api.query.modelRegistry.models(modelId)).isNone, true);
  assert.equal((await api.query.modelAccess.tiers(modelId, 0)).isNone, true);
  assert.equal(await tierHeld(), heldBefore, 'the tier deposit went back');
});
