// Loads the model code: the relaxed SIMD build where the browser has relaxed SIMD (its
// multiply-add runs the matrix products 20-27 % faster here, in Chromium and Firefox), else
// the plain simd128 build. Every thread that runs Rust loads it through here, so all of a
// page's workers run the same build and data-parallel replicas stay identical bit for bit.

import init from '../pkg/latent_lab.js';

// The smallest module that uses relaxed SIMD: one function () -> v128 that returns
// f32x4.relaxed_madd of three f32x4.splat(0). A browser without relaxed SIMD refuses it.
const SPLAT_ZERO = [0x43, 0, 0, 0, 0, 0xfd, 0x13];
const RELAXED_PROBE = new Uint8Array([
  ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], // "\0asm", version 1
  ...[0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b], // types: () -> v128
  ...[0x03, 0x02, 0x01, 0x00], // one function of type 0
  ...[0x0a, 0x1c, 0x01, 0x1a, 0x00], // code: one body of 26 bytes, no locals
  ...SPLAT_ZERO,
  ...SPLAT_ZERO,
  ...SPLAT_ZERO,
  ...[0xfd, 0x85, 0x02, 0x0b], // f32x4.relaxed_madd, end
]);

/** Whether this browser runs relaxed SIMD (and so gets that build). */
export const relaxedSimd = WebAssembly.validate(RELAXED_PROBE);

/** The address of the wasm module this browser loads. */
export const wasmUrl = new URL(relaxedSimd ? '../pkg/latent_lab_relaxed_bg.wasm' : '../pkg/latent_lab_bg.wasm', import.meta.url);

let loading = null;

/** Compiles and instantiates the model code once per thread; resolves to its exports. */
export default function loadWasm() {
  loading ??= init({ module_or_path: wasmUrl });
  return loading;
}
