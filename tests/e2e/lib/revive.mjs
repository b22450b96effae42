// Calling pallet-revive contracts and precompiles from polkadot.js, as a dapp would.
import assert from 'node:assert/strict';
import { u8aToHex } from '@polkadot/util';
import { AbiCoder, Interface } from 'ethers';

/** The REVERT bit of pallet-revive's `ReturnFlags`, however polkadot.js shaped the type. */
export const revertBit = (flags) => Number((flags.bits ?? flags).toBigInt() & 1n);

/** Dry-runs `iface.fn(args)` on `address` as `caller` with `value`; returns the raw result. */
export async function dryRun(api, caller, address, iface, fn, args = [], value = 0n) {
  const result = await api.call.reviveApi.call(
    caller, address, value, null, null, iface.encodeFunctionData(fn, args),
  );
  assert.ok(result.result.isOk, `dry-run of ${fn} failed: ${result.result.toString()}`);
  return result;
}

/** Dry-runs a view function and returns its decoded result. */
export async function view(api, caller, address, iface, fn, args = []) {
  const { result } = await dryRun(api, caller, address, iface, fn, args);
  const { flags, data } = result.asOk;
  assert.equal(revertBit(flags), 0, `${fn} reverted`);
  return iface.decodeFunctionResult(fn, data.toU8a(true));
}

/** The `revert(reason)` string of a dry run that reverted. */
export async function revertReason(api, caller, address, iface, fn, args = [], value = 0n) {
  const { result } = await dryRun(api, caller, address, iface, fn, args, value);
  const { flags, data } = result.asOk;
  assert.equal(revertBit(flags), 1, `${fn} did not revert`);
  const bytes = u8aToHex(data.toU8a(true));
  assert.equal(bytes.slice(0, 10), '0x08c379a0', `${fn} reverted without Error(string)`);
  return AbiCoder.defaultAbiCoder().decode(['string'], `0x${bytes.slice(10)}`)[0];
}

/** Weight and storage-deposit limits for a real transaction, sized by its dry run. */
export function limitsFor(dryRunResult) {
  assert.ok(dryRunResult.result.isOk, `dry-run failed: ${dryRunResult.result.toString()}`);
  const charge = (deposit) => (deposit.isCharge ? deposit.asCharge.toBigInt() : 0n);
  const deposit = [dryRunResult.storageDeposit, dryRunResult.maxStorageDeposit].map(charge);
  return {
    weight: {
      refTime: dryRunResult.weightRequired.refTime.toBigInt() * 2n,
      proofSize: dryRunResult.weightRequired.proofSize.toBigInt() * 2n,
    },
    deposit: (deposit[0] > deposit[1] ? deposit[0] : deposit[1]) * 2n,
  };
}

/** A `revive.call` of `iface.fn(args)` sending `value`, with limits from its dry run. */
export async function callTx(api, signer, address, iface, fn, args = [], value = 0n) {
  const data = iface.encodeFunctionData(fn, args);
  const limits = limitsFor(
    await api.call.reviveApi.call(signer.address, address, value, null, null, data),
  );
  return api.tx.revive.call(address, value, limits.weight, limits.deposit, data);
}

/** The EVM logs among `events` that `address` emitted, decoded with `iface`. */
export function logsOf(events, address, iface) {
  return events
    .filter(({ event }) => event.section === 'revive' && event.method === 'ContractEmitted')
    .filter(({ event }) => event.data.contract.toHex().toLowerCase() === address.toLowerCase())
    .map(({ event }) => iface.parseLog({
      topics: event.data.topics.map((t) => t.toHex()),
      data: u8aToHex(event.data.data.toU8a(true)),
    }));
}

export { Interface };
