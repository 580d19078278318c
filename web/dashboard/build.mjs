// Bundles the dashboard into dist/ (index.html, app.js, app.css), which Pipeline.Hosting embeds.
// One self-contained script, no CDN: the page must work where the app runs, with no network but its own.
import { build } from 'esbuild';
import { copyFile, mkdir } from 'node:fs/promises';

await mkdir('dist', { recursive: true });
await build({
  entryPoints: ['src/main.js'],
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['chrome120', 'safari16', 'firefox120'],
  outfile: 'dist/app.js', // styles.css, imported by main.js, becomes dist/app.css
  legalComments: 'linked', // ECharts' Apache licence notice ships beside the bundle
  logLevel: 'warning',
});
await copyFile('index.html', 'dist/index.html');
