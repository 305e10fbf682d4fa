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
export function cpuFlavour(): Promise<string>;

export type DeviceName = "webgpu" | "cpu";

export interface AcceleratorOptions {
  /** Devices to try, in order (default ["webgpu", "cpu"]). */
  prefer?: DeviceName[];
  /** Where to load the wasm module from (default: next to the package). */
  wasm?: string | URL | Response | BufferSource | WebAssembly.Module;
}

export interface LoadProgress {
  /** The file being downloaded ("config.json", "tokenizer.json", the weights). */
  file: string;
  loaded: number;
  /** From Content-Length; null when the server does not say. */
  total: number | null;
}

export interface LoadOptions {
  onProgress?: (progress: LoadProgress) => void;
  /** Truncate inputs to this many tokens (default: the tokenizer's own limit). */
  maxTokens?: number;
  /** Weight file name under the base URL (default "model.safetensors"; ".onnx" also works). */
  weights?: string;
  signal?: AbortSignal;
}

export class EmbeddingModel {
  private constructor();
  readonly dimensions: number;
  readonly maxTokens: number;
  /** One L2-normalised Float32Array per text, in order. */
  embed(texts: string[]): Promise<Float32Array[]>;
  /** Free the model's CPU/GPU memory; later calls throw. */
  dispose(): void;
}

export class Accelerator {
  private constructor();
  /** Resolves to an Accelerator on the first available preferred device. */
  static create(options?: AcceleratorOptions): Promise<Accelerator>;
  readonly device: DeviceName;
  readonly adapter: AdapterSummary;
  /** Preferred devices that were not available, with the reason. */
  readonly skipped: Partial<Record<DeviceName, string>>;
  /** Load a BERT-family sentence-embedding model from a base URL. */
  load(url: string | URL, options?: LoadOptions): Promise<EmbeddingModel>;
  /** Free every model this Accelerator loaded. */
  dispose(): void;
}
