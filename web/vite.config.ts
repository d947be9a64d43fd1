import { defineConfig } from 'vite';

// Preact's automatic JSX runtime through Vite's built-in Oxc transform: no framework plugin.
// The output must run under `script-src 'self'; style-src 'self'`, so nothing may be inlined:
// no module-preload polyfill snippet, no data: URLs for assets, CSS in its own file.
export default defineConfig({
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsInlineLimit: 0,
    cssCodeSplit: false,
    modulePreload: { polyfill: false },
    sourcemap: false,
    target: 'es2022',
  },
});
