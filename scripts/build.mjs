#!/usr/bin/env node
// The production build (`pnpm build`): every service and the gas-annotate CLI as plain JavaScript in
// dist/, one self-contained folder per target, which is exactly what a container image copies
// (Dockerfile: COPY dist/<target>/ /app/). No tsx at run time.
//
//   node scripts/build.mjs [--out DIR] [TARGET...]   targets: gateway job annotator notification archive gas-annotate
//
// --out writes the targets to DIR instead of dist/ (and not packages/anntools/dist): the bundle test
// builds into a folder outside the repository, where nothing can fall back on the repository's
// node_modules.
//
//   dist/<service>/lib/main.mjs             the service, bundled by esbuild (our code and the npm packages)
//   dist/<service>/node_modules/            the external packages (below) and their production dependencies
//   dist/<service>/package.json             what node_modules holds, with versions
//   dist/gateway/static/                    the pages' scripts and styles (app.ts reads ../static/ from lib/)
//   dist/annotator/lib/annotation-worker.mjs  the worker threads' entry (annotation-pool.ts loads ./annotation-worker.mjs)
//   dist/annotator/lib/cli.mjs, bin/gas-annotate  the CLI in the annotator image, for an init container
//   dist/gas-annotate/                      the CLI alone (lib/cli.mjs, lib/annotation-worker.mjs, bin/gas-annotate)
//   packages/anntools/dist/                 the CLI again, where packages/anntools/bin/gas-annotate.mjs looks for it
//
// Bundling instead of a per-file compile: one file to read and no module resolution at start-up
// (the services load thousands of small npm files otherwise), and a small image. The packages in
// EXTERNAL read their own files at run time through __dirname (.proto files, static assets, their
// package.json, worker scripts): bundled, they would look for them next to the bundle, where they
// are not. They stay external and are copied with their production dependencies into the target's
// node_modules (what `pnpm deploy --prod` would produce, for these packages only). The build fails
// if a bundle still mentions __dirname or __filename (ESM has neither, so that code would throw
// when it runs), or if it would bundle tsx: a new dependency that reads its own files is caught
// here, not in production.
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const root = resolve(import.meta.dirname, '..');
// esbuild is the anntools package's dev dependency (its CLI bundle); the build borrows it from there.
const { build } = createRequire(join(root, 'packages/anntools/package.json'))('esbuild');

const EXTERNAL = ['@grpc/grpc-js', 'grpc-health-check', 'pino', '@fastify/swagger', '@fastify/swagger-ui'];
// Optional peer dependencies that a bundled package requires inside try/catch and does well
// without, so esbuild leaves the require in place: not installed, not copied, absent at run time
// (under @kubernetes/client-node in the gateway: node-fetch 2's legacy text encodings, ws's native
// speed-ups).
const OPTIONAL_ABSENT = ['encoding', 'bufferutil', 'utf-8-validate'];
const SERVICES = ['gateway', 'job', 'annotator', 'notification', 'archive'];
const ANNTOOLS = join(root, 'packages/anntools/src');
const CLI_ENTRIES = { cli: join(ANNTOOLS, 'cli.ts'), 'annotation-worker': join(ANNTOOLS, 'annotation-worker.ts') };
// CommonJS packages inside an ESM bundle call require() for built-ins and for the external packages.
const BANNER = "import { createRequire as __gasCreateRequire } from 'node:module';\nconst require = __gasCreateRequire(import.meta.url);";
const BIN = '#!/bin/sh\n# The built CLI; no tsx.\nexec node "$(dirname "$0")/../lib/cli.mjs" "$@"\n';

const TARGETS = {
  gateway: { entries: { main: 'services/gateway/src/main.ts' }, copy: [['services/gateway/static', 'static']] },
  job: { entries: { main: 'services/job/src/main.ts' } },
  annotator: { entries: { main: 'services/annotator/src/main.ts', ...CLI_ENTRIES }, bin: true },
  notification: { entries: { main: 'services/notification/src/main.ts' } },
  archive: { entries: { main: 'services/archive/src/main.ts' } },
  'gas-annotate': { entries: CLI_ENTRIES, bin: true, alsoTo: 'packages/anntools/dist' },
};

const say = (msg) => process.stderr.write(`build: ${msg}\n`);
const fail = (msg) => {
  process.stderr.write(`build: ${msg}\n`);
  process.exit(1);
};

const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
const packageName = (spec) =>
  spec
    .split('/')
    .slice(0, spec.startsWith('@') ? 2 : 1)
    .join('/');

/** Node's lookup of a package from a folder: node_modules/<name> in it and every folder above. */
function findPackage(name, fromDir) {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const manifest = join(dir, 'node_modules', name, 'package.json');
    if (existsSync(manifest)) return realpathSync(dirname(manifest));
    if (dirname(dir) === dir) return undefined;
  }
}

const readManifest = (dir) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));

/**
 * Copies the external packages and their production dependencies into <out>/node_modules, flat
 * where it can and nested under the package that needs it where versions differ (npm's layout).
 * Returns the external packages' versions.
 */
function copyExternals(out, externals) {
  const placed = new Map(); // destination folder -> source folder
  const queue = [];
  const place = (name, source, parentDest) => {
    const top = join(out, 'node_modules', name);
    let dest = top;
    if (placed.has(top) && placed.get(top) !== source) dest = join(parentDest, 'node_modules', name);
    if (placed.get(dest) === source) return;
    if (placed.has(dest)) fail(`${relative(root, dest)}: two versions of ${name} needed in one place`);
    placed.set(dest, source);
    // The package's own files only: in pnpm's store its dependencies are its siblings, not inside.
    cpSync(source, dest, { recursive: true, dereference: true, filter: (p) => !p.startsWith(join(source, 'node_modules')) });
    queue.push([source, dest]);
  };
  for (const [name, source] of externals) place(name, source, out);
  while (queue.length > 0) {
    const [source, dest] = queue.shift();
    const m = readManifest(source);
    // Optional and peer dependencies come along when they are installed (pnpm links a peer beside
    // the package that uses it); a missing dependency is a broken install.
    const deps = { ...m.peerDependencies, ...m.optionalDependencies, ...m.dependencies };
    for (const dep of Object.keys(deps)) {
      // Type declarations (protobufjs lists @types/node as a dependency) never run.
      if (dep.startsWith('@types/')) continue;
      const found = findPackage(dep, source);
      if (found) place(dep, found, dest);
      else if (dep in (m.dependencies ?? {})) fail(`${m.name} needs ${dep}, which is not installed`);
    }
  }
  return Object.fromEntries([...externals].map(([name, source]) => [name, readManifest(source).version]).sort());
}

/** Which bundled module a line of the output came from (esbuild writes `// path` before each). */
function moduleAt(text, index) {
  const before = text.slice(0, index);
  const m = [...before.matchAll(/^\/\/ (\S+)$/gm)].at(-1);
  return m ? m[1] : 'unknown module';
}

async function buildTarget(name, target, outRoot, alsoTo) {
  const out = join(outRoot, name);
  rmSync(out, { recursive: true, force: true });
  const started = Date.now();
  const result = await build({
    entryPoints: Object.fromEntries(Object.entries(target.entries).map(([k, v]) => [k, resolve(root, v)])),
    outdir: join(out, 'lib'),
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    // Stack traces in the logs keep our function and class names; not minified, so lines are readable.
    keepNames: true,
    external: EXTERNAL,
    banner: { js: BANNER },
    metafile: true,
    logLevel: 'warning',
    absWorkingDir: root,
  });

  const inputs = Object.keys(result.metafile.inputs);
  const tsx = inputs.find((p) => /(^|\/)node_modules\/(\.pnpm\/)?tsx[@/]/.test(p));
  if (tsx) fail(`${name}: the bundle would contain tsx (${tsx})`);

  const externals = new Map();
  for (const [input, info] of Object.entries(result.metafile.inputs)) {
    for (const imp of info.imports) {
      // <runtime> is esbuild's own helper module, inlined.
      if (!imp.external || builtins.has(imp.path) || imp.path === '<runtime>') continue;
      const pkg = packageName(imp.path);
      if (OPTIONAL_ABSENT.includes(pkg)) continue;
      if (!EXTERNAL.includes(pkg)) fail(`${name}: ${input} imports ${imp.path}, which esbuild left out of the bundle`);
      const source = findPackage(pkg, dirname(resolve(root, input)));
      if (!source) fail(`${name}: ${pkg} (imported by ${input}) is not installed`);
      // The bundle resolves every external from one place, so all its importers must want the same copy.
      if (externals.has(pkg) && externals.get(pkg) !== source)
        fail(`${name}: two versions of ${pkg} are imported: ${externals.get(pkg)}, ${source}`);
      externals.set(pkg, source);
    }
  }

  for (const file of Object.keys(result.metafile.outputs)) {
    const text = readFileSync(resolve(root, file), 'utf8');
    const m = /\b__(dirname|filename)\b/.exec(text);
    if (m) fail(`${name}: ${file} uses ${m[0]} (from ${moduleAt(text, m.index)}): add that package to EXTERNAL in scripts/build.mjs`);
  }

  const versions = copyExternals(out, externals);
  for (const [from, to] of target.copy ?? []) cpSync(join(root, from), join(out, to), { recursive: true });
  if (target.bin) {
    mkdirSync(join(out, 'bin'), { recursive: true });
    writeFileSync(join(out, 'bin', 'gas-annotate'), BIN);
    chmodSync(join(out, 'bin', 'gas-annotate'), 0o755);
  }
  const manifest = { name: `gas-${name.replace(/^gas-/, '')}`, private: true, type: 'module', dependencies: versions };
  writeFileSync(join(out, 'package.json'), JSON.stringify(manifest, null, 2) + '\n');
  if (alsoTo && target.alsoTo) {
    const also = join(root, target.alsoTo);
    rmSync(also, { recursive: true, force: true });
    cpSync(join(out, 'lib'), also, { recursive: true });
  }
  const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
  say(
    `${name}: ${out.startsWith(root) ? relative(root, out) : out} (${(bytes / 1e6).toFixed(1)} MB of JavaScript` +
      `${externals.size ? `, external: ${[...externals.keys()].join(', ')}` : ''}) in ${Date.now() - started} ms`,
  );
}

let args;
try {
  args = parseArgs({ args: process.argv.slice(2).filter((a) => a !== '--'), options: { out: { type: 'string' } }, allowPositionals: true });
} catch (err) {
  fail(err.message);
}
for (const a of args.positionals) if (!(a in TARGETS)) fail(`unknown target ${a}; targets: ${Object.keys(TARGETS).join(' ')}`);
const names = args.positionals.length > 0 ? args.positionals : [...SERVICES, 'gas-annotate'];
const outRoot = resolve(args.values.out ?? join(root, 'dist'));
for (const name of names) await buildTarget(name, TARGETS[name], outRoot, args.values.out === undefined);
