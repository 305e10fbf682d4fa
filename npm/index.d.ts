export function init(moduleOrPath?: string | URL | Response | BufferSource | WebAssembly.Module): Promise<unknown>;
export function version(): Promise<string>;

export interface AdapterSummary {
  name: string;
  vendor: string;
  architecture: string;
  backend: string;
  device_type: string;
  driver: string;
  /** True for CPU emulations of a GPU (SwiftShader, lavapipe/llvmpipe, WARP). */
  software: boolean;
  features: string[];
  max_buffer_size: number;
  max_workgroup_storage_bytes: number;
}

export type Kernel =
  | { kernel: "matmul"; batch: number; m: number; k: number; n: number }
  | { kernel: "softmax"; rows: number; cols: number }
  | { kernel: "layernorm"; rows: number; cols: number }
  | { kernel: "gelu"; len: number }
  | { kernel: "add"; rows: number; cols: number };

export type KernelCase = Kernel & { warmup: number; samples: number; seed: number };

export interface CaseOutcome {
  samples_ms: number[];
  warmup: number;
  adapter: AdapterSummary;
  /** Output of the last run as little-endian f32, base64-encoded. */
  output_f32_b64: string;
}

export function deviceInfo(device: "cpu" | "webgpu"): Promise<AdapterSummary>;
export function runKernelCase(kernelCase: KernelCase, device: "cpu" | "webgpu"): Promise<CaseOutcome>;
