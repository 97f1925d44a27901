import { defineConfig } from 'vite';

// The dashboard is served by the vigil binary itself (admin/ui_server.cc embeds dist/), so the
// build is self-contained: relative asset URLs, no source maps, one script and one stylesheet.
export default defineConfig({
  base: './',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 300,
  },
  server: {
    // `npm run dev` proxies the API to a job running with `--ui 127.0.0.1:8080`.
    proxy: { '/api': 'http://127.0.0.1:8080' },
  },
});
