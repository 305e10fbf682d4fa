import { defineConfig } from "vite";

// Cross-origin isolation lets the engine use its threaded build (SharedArrayBuffer); without
// these headers it runs on one thread and says so in `acc.info()`.
const isolation = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
};

export default defineConfig({
  // Relative asset URLs: the built app works from any path it is served under.
  base: "./",
  server: { headers: isolation },
  preview: { headers: isolation },
  // The package starts its engine in a module Worker of its own.
  worker: { format: "es" },
  optimizeDeps: { exclude: ["ipfs-accelerate"] },
});
