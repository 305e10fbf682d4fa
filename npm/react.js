// React hooks over the public API (`ipfs-accelerate/react`). Each hook owns what it creates:
// loads are cancelled and models disposed when the component unmounts or its inputs change,
// and results that arrive after that are dropped, never set on an unmounted component.
import { useCallback, useEffect, useRef, useState } from "react";
import { Accelerator } from "./index.js";

/** Options objects compared by value, so an inline `{ prefer: [...] }` does not reload. */
const keyOf = (value) => JSON.stringify(value ?? null, (_, v) => (typeof v === "function" || v instanceof AbortSignal ? undefined : v));

/** `{ accelerator, loading, error }`: an Accelerator for this component, disposed on unmount. */
export function useAccelerator(options) {
  const [state, setState] = useState({ accelerator: null, loading: true, error: null });
  const key = keyOf(options);
  useEffect(() => {
    let live = true;
    let created = null;
    setState({ accelerator: null, loading: true, error: null });
    Accelerator.create(options).then(
      (acc) => {
        created = acc;
        if (live) setState({ accelerator: acc, loading: false, error: null });
        else acc.dispose();
      },
      (error) => live && setState({ accelerator: null, loading: false, error }),
    );
    return () => {
      live = false;
      created?.dispose();
    };
  }, [key]);
  return state;
}

/**
 * `{ pipeline, loading, error, progress }`: `accelerator.pipeline(task, model, options)`,
 * reloaded when its inputs change; the load is aborted and the model disposed on unmount.
 */
export function usePipeline(accelerator, task, model, options) {
  const [state, setState] = useState({ pipeline: null, loading: false, error: null, progress: null });
  const key = keyOf(options);
  useEffect(() => {
    if (!accelerator || !model) return undefined;
    let live = true;
    let made = null;
    const controller = new AbortController();
    const onProgress = (progress) => live && setState((s) => ({ ...s, progress }));
    setState({ pipeline: null, loading: true, error: null, progress: null });
    accelerator.pipeline(task, model, { ...options, onProgress, signal: controller.signal }).then(
      (pipeline) => {
        made = pipeline;
        if (live) setState({ pipeline, loading: false, error: null, progress: null });
        else pipeline.dispose();
      },
      (error) => live && setState({ pipeline: null, loading: false, error, progress: null }),
    );
    return () => {
      live = false;
      controller.abort();
      made?.dispose();
    };
  }, [accelerator, task, model, key]);
  return state;
}

/** `{ embeddings, loading, error }`: one vector per text, recomputed when the texts change. */
export function useEmbeddings(accelerator, model, texts, options) {
  const { pipeline, loading: modelLoading, error: modelError } = usePipeline(accelerator, "feature-extraction", model, options);
  const [state, setState] = useState({ embeddings: null, loading: false, error: null });
  const textsKey = keyOf(texts);
  useEffect(() => {
    if (!pipeline || !texts) return undefined;
    let live = true;
    setState((s) => ({ ...s, loading: true, error: null }));
    pipeline(texts).then(
      (embeddings) => live && setState({ embeddings, loading: false, error: null }),
      (error) => live && setState({ embeddings: null, loading: false, error }),
    );
    return () => {
      live = false;
    };
  }, [pipeline, textsKey]);
  return { embeddings: state.embeddings, loading: modelLoading || state.loading, error: modelError ?? state.error };
}

/**
 * `{ text, generating, ready, loading, progress, error, result, generate(prompt, options), stop() }`: streams a
 * generation into `text`; `stop` (and unmounting) ends it.
 */
export function useGeneration(accelerator, model, options) {
  const { pipeline, loading, error: modelError, progress } = usePipeline(accelerator, "text-generation", model, options);
  const [state, setState] = useState({ text: "", generating: false, error: null, result: null });
  const running = useRef(null);
  const stop = useCallback(() => running.current?.abort(), []);
  useEffect(() => stop, [stop, pipeline]);
  const generate = useCallback(
    async (prompt, generateOptions = {}) => {
      if (!pipeline) throw new Error("the model is not loaded yet");
      running.current?.abort();
      const controller = new AbortController();
      running.current = controller;
      const mine = () => running.current === controller;
      setState({ text: "", generating: true, error: null, result: null });
      let text = "";
      try {
        const stream = pipeline.stream(prompt, { ...generateOptions, signal: controller.signal });
        for (;;) {
          const step = await stream.next();
          if (step.done) {
            if (mine()) setState({ text, generating: false, error: null, result: step.value });
            return step.value;
          }
          text += step.value;
          if (mine()) setState((s) => ({ ...s, text }));
        }
      } catch (error) {
        // A stop is not an error: the text so far stays.
        const stopped = error?.name === "AbortError";
        if (mine()) setState({ text, generating: false, error: stopped ? null : error, result: error?.result ?? null });
        if (!stopped) throw error;
        return error.result ?? null;
      } finally {
        if (mine()) running.current = null;
      }
    },
    [pipeline],
  );
  return { ...state, ready: pipeline !== null, loading, progress, error: modelError ?? state.error, generate, stop };
}
