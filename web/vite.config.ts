// Builds the review UI into dist/ (index.html plus hashed files under
// assets/), which `hitl serve` serves at `/`. `npm run dev` proxies the API
// and its WebSocket to a running `hitl serve` (HITL_DEV_API, default
// http://127.0.0.1:8027), so the app always talks to its own origin.
import { defineConfig } from "vite";

const api = process.env.HITL_DEV_API ?? "http://127.0.0.1:8027";

export default defineConfig({
  base: "./",
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: "dist",
    assetsDir: "assets",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    modulePreload: { polyfill: false },
    reportCompressedSize: true,
  },
  server: {
    host: "127.0.0.1",
    proxy: {
      "/hitl": { target: api, ws: true, changeOrigin: false },
      "/health": { target: api },
      "/openapi.json": { target: api },
    },
  },
});
