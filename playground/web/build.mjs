// Bundles the playground page with esbuild: src/main.js and everything it
// imports into OUT_DIR/app.js and app.css, and copies index.html beside
// them. Packages resolve from NODE_MODULES, the directory setup.sh fills,
// so the source tree needs no node_modules.
//
//   node build.mjs NODE_MODULES OUT_DIR

import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const [nodeModules, outDir] = process.argv.slice(2);
if (!nodeModules || !outDir) {
  console.error('usage: node build.mjs NODE_MODULES OUT_DIR');
  process.exit(2);
}
const sourceDir = dirname(fileURLToPath(import.meta.url));
const require = createRequire(resolve(nodeModules, 'noop.js'));
const esbuild = require('esbuild');

rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
await esbuild.build({
  entryPoints: { app: join(sourceDir, 'src', 'main.js') },
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['chrome110', 'firefox110', 'safari16'],
  nodePaths: [nodeModules],
  outdir: outDir,
  legalComments: 'linked',
  logLevel: 'warning',
});
copyFileSync(join(sourceDir, 'index.html'), join(outDir, 'index.html'));
