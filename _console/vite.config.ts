import { defineConfig } from 'vite';

// The build goes straight into the Go package that embeds it.
export default defineConfig({
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: '../pkg/console/dist',
    emptyOutDir: true,
    // No inline polyfill script: the console's CSP allows no inline script.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: false,
    target: 'es2022',
  },
});
