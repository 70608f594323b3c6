/// <reference types="vitest/config" />
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { prebuiltVendor } from './build/prebuiltVendor.ts';

// In dev the Vite server proxies /api to backend-api (compose service name by default).
const apiTarget = process.env.API_PROXY_TARGET || 'http://backend-api:3001';

export default defineConfig(async ({ command }) => ({
  plugins: [
    // React Refresh for the dev server (and Vitest). A production build does not load it: oxc compiles the JSX as
    // tsconfig says (react-jsx), and the bundle is byte-identical without it, ~0.1 CPU-s sooner on every image rebuild.
    command === 'serve' ? (await import('@vitejs/plugin-react')).default() : null,
    // Production builds take React, three.js and tus-js-client prebuilt, bundled once per lockfile (build/prebuiltVendor.ts).
    prebuiltVendor({ root: fileURLToPath(new URL('.', import.meta.url)), cacheDir: process.env.VENDOR_CACHE_DIR || undefined }),
  ],
  server: {
    host: '0.0.0.0',
    port: 5173,
    strictPort: true,
    // xfwd: the API compares a write's Origin with X-Forwarded-Host (the browser's host), as behind serve.mjs.
    proxy: { '/api': { target: apiTarget, changeOrigin: true, xfwd: true } },
  },
  build: {
    target: 'es2022',
    chunkSizeWarningLimit: 700,
    // No gzip of every chunk just to print its size: ~0.1-0.2 s of CPU on each image rebuild. The served sizes
    // (brotli/gzip as serve.mjs sends them) are measured by e2e/weight.mjs.
    reportCompressedSize: false,
  },
  test: {
    environment: 'happy-dom',
    include: ['src/**/*.test.{ts,tsx}', 'build/**/*.test.ts', 'server/**/*.test.mjs', 'e2e/contracts.test.mjs'],
    setupFiles: ['src/test/setup.ts'],
  },
}));
