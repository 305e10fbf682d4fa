// `ipfs-accelerate/react` in a real React 18 tree (react-dom's createRoot), for the browser
// tests: loading states, a streamed generation, a stop, and disposal on unmount — read from
// the DOM the hooks render. Loaded on first use, so pages that never call it need no React.
export const reactRpc = {
  async reactHooks(embedModel, llmModel, texts, prompt) {
    const hooks = await import("/sdk/react.js");
    const React = (await import("react")).default;
    await import("/vendor/react-dom/umd/react-dom.production.min.js");
    const h = React.createElement;
    const host = document.createElement("div");
    document.body.append(host);
    const seen = new Set();
    let latest = null;
    function App() {
      const { accelerator } = hooks.useAccelerator({ prefer: ["cpu"] });
      const embeddings = hooks.useEmbeddings(accelerator, embedModel, texts);
      const generation = hooks.useGeneration(accelerator, llmModel);
      latest = { accelerator, generation };
      const shape = embeddings.embeddings ? `${embeddings.embeddings.length}x${embeddings.embeddings[0].length}` : "";
      const state = embeddings.loading || generation.loading ? "loading" : generation.generating ? "generating" : "idle";
      seen.add(state);
      return h("div", null, h("p", { id: "shape" }, shape), h("p", { id: "text" }, generation.text), h("p", { id: "state" }, state));
    }
    const text = (id) => host.querySelector(`#${id}`)?.textContent ?? "";
    const until = async (what, ready, ms = 120000) => {
      const end = performance.now() + ms;
      while (!ready()) {
        if (performance.now() > end) throw new Error(`timed out waiting for ${what}: ${host.innerHTML}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    const root = self.ReactDOM.createRoot(host);
    root.render(h(App));
    await until("embeddings", () => text("shape") !== "");
    const shape = text("shape");
    await until("the language model", () => latest.generation.ready && text("state") === "idle");
    const result = await latest.generation.generate(prompt, { maxTokens: 6, stopAtEos: false });
    await until("the streamed text", () => text("text") === result.text);
    // A long generation stopped once it has begun to stream.
    const long = latest.generation.generate(prompt, { maxTokens: 200, stopAtEos: false });
    await until("the stream to start", () => text("text") !== "" && text("state") === "generating");
    latest.generation.stop();
    const partial = await long;
    await until("idle after the stop", () => text("state") === "idle");
    const stoppedText = text("text");
    const accelerator = latest.accelerator;
    root.unmount();
    host.remove();
    const disposed = await accelerator.memory().then(() => false, (e) => String(e.message).includes("disposed"));
    return {
      shape,
      states: [...seen],
      generated: result.text,
      tokens: result.tokens.length,
      partialTokens: partial?.tokens.length ?? null,
      partialFinish: partial?.finishReason ?? null,
      stoppedTextMatches: partial ? stoppedText === partial.text : null,
      disposed,
    };
  },
};
