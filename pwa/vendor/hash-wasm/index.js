// ES-module face of hash-wasm's prebuilt SHA-256 bundle (UMD). Loaded as a module, the
// UMD wrapper finds neither CommonJS nor AMD and sets globalThis.hashwasm.
import './sha256.umd.min.js';

export const { createSHA256, sha256 } = globalThis.hashwasm;
