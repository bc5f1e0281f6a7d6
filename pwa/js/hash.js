/** SHA-256 of evidence, streamed: a video is hashed chunk by chunk, never whole in memory. */
import { createSHA256 } from '../vendor/hash-wasm/index.js';
import { createJsSha256 } from './sha256-js.js';

let ready = null;

/**
 * Compile the WebAssembly hasher early, so the first capture does not wait for it.
 * Resolves to false when WebAssembly may not compile here (the CSP allows it with
 * 'wasm-unsafe-eval', unknown to Safari before 16): then the plain-JS hasher is used.
 */
export function warmUp() {
  ready ??= createSHA256().then(
    () => true,
    () => false,
  );
  return ready;
}

/** A fresh incremental hasher: {update(Uint8Array), hex()}. */
export async function streamingSha256() {
  const wasm = await warmUp();
  const hasher = wasm ? await createSHA256() : createJsSha256();
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
