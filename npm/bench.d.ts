// Types of `ipfs-accelerate/bench`: benchmark and diagnostic calls beside the main API.
import type { AdapterSummary, EngineOptions } from "./index.js";

export type Kernel =
  | { kernel: "matmul"; batch: number; m: number; k: number; n: number }
  | { kernel: "softmax"; rows: number; cols: number }
  | { kernel: "layernorm"; rows: number; cols: number }
  | { kernel: "gelu"; len: number }
  | { kernel: "add"; rows: number; cols: number };

export type KernelCase = Kernel & { warmup: number; samples: number; seed: number };

export interface CaseOutcome {
  /** Wall time of each timed run (dispatch until the device finished). */
  samplesMs: number[];
  warmup: number;
  adapter: AdapterSummary;
  /** Output of the last run as little-endian f32, base64-encoded. */
  outputF32Base64: string;
}

export interface OpTotal {
  calls: number;
  ms: number;
}

export function deviceInfo(device: "cpu" | "webgpu", engine?: EngineOptions): Promise<AdapterSummary>;
export function runKernelCase(kernelCase: KernelCase, device: "cpu" | "webgpu", engine?: EngineOptions): Promise<CaseOutcome>;
/** Start timing every CPU op of the engine for `threads` (shared by Accelerators with that setting). */
export function profileBegin(engine?: EngineOptions): Promise<void>;
/** Stop timing: calls and milliseconds per op name since profileBegin(). */
export function profileTake(engine?: EngineOptions): Promise<Record<string, OpTotal>>;
