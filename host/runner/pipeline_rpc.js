// The task API (`acc.pipeline`) through the npm package, for the browser tests.
import * as sdk from "/sdk/index.js";

export const pipelineRpc = {
  // Create a `task` pipeline over `model`, call it on each of `inputs` (with `callOptions`),
  // and report the results — or the error a creation or call rejects with.
  async pipelineWithApi(task, model, inputs, { prefer = ["cpu"], load = {}, callOptions } = {}) {
    const acc = await sdk.Accelerator.create({ prefer });
    try {
      const run = await acc.pipeline(task, model, load);
      const outputs = [];
      for (const input of inputs) {
        const out = await run(input, callOptions);
        outputs.push(out instanceof Float32Array ? Array.from(out) : Array.isArray(out) ? out.map((v) => Array.from(v)) : out);
      }
      let streamed = null;
      if (typeof run.stream === "function") {
        streamed = [];
        for await (const piece of run.stream(inputs[0], callOptions)) streamed.push(piece);
      }
      return { task: run.task, outputs, streamed, modelName: run.model.name };
    } catch (e) {
      return { error: String((e && e.message) || e) };
    } finally {
      acc.dispose();
    }
  },
};
