#!/usr/bin/env node
/**
 * `npm run build`, after tsc: bundles dist/cli.js and every module it imports (ours and
 * node_modules') into one file, written over dist/cli.js. Start-up then reads one file instead of
 * ~480 and resolves no module paths: `replay` of a tiny file takes about a quarter less CPU
 * (bench/README.md, issue 16). The rest of dist/ stays as tsc wrote it (the bench and tests import
 * modules from it).
 *
 * Every module's `import.meta.url` is rewritten to the URL it had before bundling (relative to
 * dist/cli.js), so paths found from it (patterns/, rules/, a worker's script) stay the same.
 * Modules imported with `import()` (outputs the config does not use) stay unevaluated until then.
 *
 * The worker threads' scripts (dist/threads/worker.js for replay, daemon-worker.js for run) are
 * bundled the same way over themselves: each worker thread loads its modules anew, and one file
 * instead of ~60 cut a worker's start-up.
 */
import { build } from 'esbuild';
import { readdir, readFile, rm } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const DIST = join(ROOT, 'dist');
/** Each bundle is written over its entry point: the CLI, and the replay worker thread's script. */
const ENTRIES = [join(DIST, 'cli.js'), join(DIST, 'threads', 'worker.js'), join(DIST, 'threads', 'daemon-worker.js')];
const CHUNK_PREFIX = 'cli-chunk-';

/**
 * A module's import.meta.url (and a CommonJS module's __filename, __dirname) → its own, computed
 * from the bundle's URL at run time: @grpc/grpc-js finds its .proto files from __dirname.
 */
const ownLocation = (out) => ({
  name: 'own-location',
  setup(b) {
    b.onLoad({ filter: /\.(c?js|mjs)$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      const meta = text.includes('import.meta.url');
      const dir = /\b__(dirname|filename)\b/.test(text);
      if (!meta && !dir) return undefined;
      const rel = relative(dirname(out), args.path).split(sep).join('/');
      // __bundleUrl (the banner's), not import.meta: import.meta would make esbuild take a CommonJS file for an ES module.
      const own = `new URL(${JSON.stringify(rel.startsWith('.') ? rel : `./${rel}`)}, __bundleUrl)`;
      let contents = meta ? text.replaceAll('import.meta.url', `${own}.href`) : text;
      if (dir) contents = `var __filename = require('node:url').fileURLToPath(${own}), __dirname = require('node:path').dirname(__filename);\n${contents}`;
      return { contents, loader: 'js', resolveDir: dirname(args.path) };
    });
  },
});

// The CLI's own chunks of an earlier build (their names are hashes of their content).
for (const f of await readdir(DIST)) if (f.startsWith(CHUNK_PREFIX)) await rm(join(DIST, f));

for (const out of ENTRIES) {
  // The CLI's import()s (outputs a config may not use, the daemon's modules) go to chunks of their own,
  // beside dist/cli.js: a replay neither reads nor compiles them. The worker imports nothing later.
  const split = out === ENTRIES[0];
  const result = await build({
    entryPoints: [out],
    ...(split ? { outdir: dirname(out), splitting: true, chunkNames: `${CHUNK_PREFIX}[hash]` } : { outfile: out }),
    allowOverwrite: true,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // CommonJS dependencies bundled into an ES module still call require() for Node's built-ins.
    banner: { js: "import { createRequire as __bundleRequire } from 'node:module'; const __bundleUrl = import.meta.url, require = __bundleRequire(__bundleUrl);" },
    plugins: [ownLocation(out)],
    logLevel: 'warning',
    metafile: true,
  });
  const inputs = Object.keys(result.metafile.inputs).length;
  const files = Object.keys(result.metafile.outputs).length;
  console.log(`${relative(ROOT, out)}: ${inputs} modules in ${files === 1 ? 'one file' : `${files} files (chunks: ${CHUNK_PREFIX}*)`}`);
}
