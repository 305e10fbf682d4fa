// Types of `ipfs-accelerate/react`: hooks that own what they create (cancelled and disposed
// on unmount or when their inputs change).
import type {
  Accelerator,
  AcceleratorOptions,
  ChatMessage,
  FeatureExtractionPipeline,
  GenerateOptions,
  GenerateResult,
  LanguageLoadOptions,
  LoadOptions,
  LoadProgress,
  TextGenerationPipeline,
} from "./index.js";

export function useAccelerator(options?: AcceleratorOptions): { accelerator: Accelerator | null; loading: boolean; error: unknown };

export interface PipelineState<P> {
  pipeline: P | null;
  loading: boolean;
  error: unknown;
  /** The latest download progress while loading. */
  progress: LoadProgress | null;
}

export function usePipeline(
  accelerator: Accelerator | null,
  task: "feature-extraction",
  model: string | null,
  options?: LoadOptions,
): PipelineState<FeatureExtractionPipeline>;
export function usePipeline(
  accelerator: Accelerator | null,
  task: "text-generation",
  model: string | null,
  options?: LanguageLoadOptions,
): PipelineState<TextGenerationPipeline>;

export function useEmbeddings(
  accelerator: Accelerator | null,
  model: string | null,
  texts: string[] | null,
  options?: LoadOptions,
): { embeddings: Float32Array[] | null; loading: boolean; error: unknown };

export function useGeneration(
  accelerator: Accelerator | null,
  model: string | null,
  options?: LanguageLoadOptions,
): {
  /** The text generated so far (streamed). */
  text: string;
  generating: boolean;
  /** The model is loaded: `generate` can run. */
  ready: boolean;
  /** The model is loading. */
  loading: boolean;
  /** The latest download progress while loading. */
  progress: LoadProgress | null;
  error: unknown;
  result: GenerateResult | null;
  /** Start a generation (stopping one in flight); resolves to its result (partial when stopped). */
  generate(prompt: string | ChatMessage[], options?: GenerateOptions): Promise<GenerateResult | null>;
  stop(): void;
};
