// The task API: `acc.pipeline(task, model, options)` → a callable, the way the ecosystem
// names tasks. Each task is a thin layer over a model class; every task the SDK supports is
// reachable here (index.d.ts types each).

/** Embeddings: `await extractor("text")` → Float32Array, `await extractor([...])` → Float32Array[]. */
async function featureExtraction(acc, model, options) {
  const loaded = await acc.load(model, options);
  const pooling = options.pooling ?? "mean";
  const run = async (input, { pooling: asked, normalize = true } = {}) => {
    if (asked !== undefined && asked !== pooling) {
      throw new Error(`this pipeline pools with ${JSON.stringify(pooling)} (set at creation), not ${JSON.stringify(asked)}`);
    }
    if (normalize !== true) throw new Error("normalize: false is not supported: embeddings are always L2-normalised");
    const single = typeof input === "string";
    if (!single && !(Array.isArray(input) && input.every((t) => typeof t === "string"))) {
      throw new TypeError("feature-extraction: input must be a string or an array of strings");
    }
    const vectors = await loaded.embed(single ? [input] : input);
    return single ? vectors[0] : vectors;
  };
  return Object.assign(run, { task: "feature-extraction", model: loaded, dispose: () => loaded.dispose() });
}

/** Generation: `await generator(messages, opts)` → GenerateResult; `generator.stream(...)` → pieces. */
async function textGeneration(acc, model, options) {
  const loaded = await acc.loadLanguageModel(model, options);
  const run = (prompt, generateOptions) => loaded.generate(prompt, generateOptions);
  return Object.assign(run, {
    task: "text-generation",
    model: loaded,
    stream: (prompt, generateOptions) => loaded.stream(prompt, generateOptions),
    dispose: () => loaded.dispose(),
  });
}

const TASKS = { "feature-extraction": featureExtraction, "text-generation": textGeneration };

export async function pipeline(acc, task, model, options = {}) {
  const make = Object.hasOwn(TASKS, task) ? TASKS[task] : null;
  if (!make) throw new Error(`unknown task ${JSON.stringify(task)}; supported: ${Object.keys(TASKS).join(", ")}`);
  return make(acc, model, options);
}
