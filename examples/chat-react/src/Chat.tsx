// A chat with a small language model running in this page: replies stream in token by token,
// Stop ends one early (keeping what was said), and the temperature applies to the next reply.
import { useState } from "react";
import type { ChatMessage, DeviceName, GenerateResult } from "ipfs-accelerate";
import { useAccelerator, useGeneration } from "ipfs-accelerate/react";

const params = new URLSearchParams(location.search);
// A base URL holding one LLaMA-family .gguf file and its manifest.json.
const modelUrl = params.get("model") ?? "./models/smollm2-135m-instruct/";
const devices = (params.get("device") ?? "webgpu,cpu").split(",") as DeviceName[];

interface Turn extends ChatMessage {
  finish?: GenerateResult["finishReason"];
}

const describe = (error: unknown) => (error instanceof Error ? error.message : String(error));

export function Chat() {
  const { accelerator, error: startError } = useAccelerator({ prefer: devices });
  const chat = useGeneration(accelerator, modelUrl);
  const [turns, setTurns] = useState<Turn[]>([]);
  const [draft, setDraft] = useState("");
  const [temperature, setTemperature] = useState(0.7);

  async function send(event: { preventDefault(): void }) {
    event.preventDefault();
    const content = draft.trim();
    if (!content || chat.generating) return;
    const history: Turn[] = [...turns, { role: "user", content }];
    setTurns(history);
    setDraft("");
    const messages = history.map(({ role, content }) => ({ role, content }));
    try {
      const result = await chat.generate(messages, { temperature, maxTokens: 128 });
      if (result) setTurns([...history, { role: "assistant", content: result.text.trim(), finish: result.finishReason }]);
    } catch {
      // chat.error says what went wrong.
    }
  }

  const error = startError ?? chat.error;
  const state = error ? "error" : chat.ready ? "ready" : "loading";
  const progress = chat.progress;
  return (
    <main>
      <h1>Chat</h1>
      <p className="status" data-state={state}>
        {error
          ? `Error: ${describe(error)}`
          : chat.ready
            ? `${modelUrl} is ready on ${accelerator?.device}.`
            : progress
              ? `Loading ${progress.file}: ${(progress.loaded / 1e6).toFixed(1)} of ${(progress.total / 1e6).toFixed(1)} MB`
              : "Loading the model…"}
      </p>
      {progress && !chat.ready && <progress max={progress.total || 1} value={progress.loaded} />}
      <div className="messages">
        {turns.map((turn, i) => (
          <div key={i} className={`message ${turn.role}`} data-finish={turn.finish}>
            {turn.content}
          </div>
        ))}
        {chat.generating && (
          <div className="message assistant" data-streaming="true">
            {chat.text || "…"}
          </div>
        )}
      </div>
      <form onSubmit={send}>
        <textarea
          id="prompt"
          rows={2}
          value={draft}
          placeholder="Ask something"
          onChange={(e) => setDraft(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter" && !e.shiftKey) send(e);
          }}
        />
        <button id="send" type="submit" disabled={!chat.ready || chat.generating}>
          Send
        </button>
        <button id="stop" type="button" disabled={!chat.generating} onClick={chat.stop}>
          Stop
        </button>
      </form>
      <label>
        Temperature <output id="temperature-value">{temperature.toFixed(1)}</output>
        <input
          id="temperature"
          type="range"
          min={0}
          max={1.5}
          step={0.1}
          value={temperature}
          onChange={(e) => setTemperature(Number(e.target.value))}
        />
      </label>
    </main>
  );
}
