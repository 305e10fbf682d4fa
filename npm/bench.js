// `ipfs-accelerate/bench`: what the benchmark runner and diagnostics use beside the main API:
// single kernel cases timed in the engine, adapter facts, and per-op CPU profiles. Each call
// runs in the engine Worker for `{threads, relaxedSimd}` (as Accelerator.create picks it).
import { callEngine } from "./engine_worker.js";

/** Adapter facts for "cpu" or "webgpu" (`software: true` for CPU-emulated GPUs). */
export function deviceInfo(device, engine = {}) {
  return callEngine(engine, "deviceInfo", [device]);
}

/** Run one kernel benchmark case on "cpu" or "webgpu"; see KernelCase in bench.d.ts. */
export function runKernelCase(kernelCase, device, engine = {}) {
  return callEngine(engine, "runKernelCase", [kernelCase, device]);
}

/** Start timing every CPU op in the engine (shared by the Accelerators with that setting). */
export function profileBegin(engine = {}) {
  return callEngine(engine, "profileBegin");
}

/** Stop timing: `{op: {calls, ms}}` of CPU ops since profileBegin(). */
export function profileTake(engine = {}) {
  return callEngine(engine, "profileTake");
}
