// Pinning test setup shared by the end-to-end tests.
import { u8aToHex } from '@polkadot/util';
import { xxhashAsHex } from '@polkadot/util-crypto';
import { submit } from '../../../scripts/lib/tx.mjs';

/** Shortens pinning eras for a test through sudo: era length and response window are storage
 * parameters. Returns the dispatch error, or null. */
export async function shortenPinningEras(api, sudoer, eraLength, responseWindow) {
  const u32 = (n) => u8aToHex(api.createType('u32', n).toU8a());
  const setStorage = api.tx.system.setStorage([
    [xxhashAsHex(':PinningEraLength:', 128), u32(eraLength)],
    [xxhashAsHex(':PinningResponseWindow:', 128), u32(responseWindow)],
  ]);
  return (await submit(api, api.tx.sudo.sudo(setStorage), sudoer)).error;
}
