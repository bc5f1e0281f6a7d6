/** SHA-256 of evidence, streamed: a video is hashed chunk by chunk, never whole in memory. */
import { createSHA256 } from '../vendor/hash-wasm/index.js';

let ready = null;

/** Compile the WebAssembly hasher early, so the first capture does not wait for it. */
export function warmUp() {
  ready ??= createSHA256().catch((err) => {
    ready = null;
    throw err;
  });
  return ready;
}

/** A fresh incremental hasher: {update(Uint8Array), hex()}. */
export async function streamingSha256() {
  await warmUp();
  const hasher = await createSHA256();
  hasher.init();
  return {
    update(bytes) {
      hasher.update(bytes);
    },
    hex() {
      return hasher.digest('hex');
    },
  };
}

/** Base64 SHA-256 of one small buffer (a tus PATCH body), with WebCrypto. */
export async function sha256Base64(bytes) {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  let bin = '';
  for (const b of digest) bin += String.fromCharCode(b);
  return btoa(bin);
}
