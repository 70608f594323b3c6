// Prebuilt vendor modules for production builds.
//
// Most of a production build's work is not our code: three.js and React DOM take about two thirds of Rolldown's CPU,
// and they change only when package-lock.json does. So `vite build` bundles the listed packages once, as ES modules of
// their own, into a cache folder named by what decides their content (the lockfile, the names the app imports), and
// afterwards takes them from there: the app build marks those imports external, pointing at the prebuilt files, and
// copies the files into dist/assets/vendor/. A code change then re-bundles our code alone.
//
// What the browser gets: the same packages, minified and tree-shaken to the names src/ imports, in files whose names do
// not change when our code does (a new release re-downloads the app, not three.js). The prebuilt files the entry
// chunk imports are modulepreloaded from index.html, so the first paint waits for no extra round trip.
//
// The names come from a scan of src/; the app build then checks every import of a prebuilt file against what that
// file exports and fails naming the import if one is missing (a browser would otherwise fail at load time).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { build, type Plugin, type ResolvedConfig } from 'vite';

/** Package specifiers served prebuilt: the exact import paths the app uses. One build, so they share one React. */
export const VENDOR_PACKAGES = [
  'react',
  'react/jsx-runtime',
  'react-dom/client',
  'three',
  'three/examples/jsm/controls/OrbitControls.js',
  'tus-js-client',
] as const;

/** Bump when the layout of the cache folder or of the generated entries changes. */
const FORMAT = 2;
const MANIFEST = 'vendor.json';
const OUT_DIR = 'assets/vendor';
const ENTRY_PREFIX = '\0snowboarding-vendor:';

/** Which names of a package the app imports: a list, or '*' (a namespace or dynamic import: all of them). */
export type Usage = string[] | '*';

/** A prebuilt folder's content: each package's file, what every file imports (shared chunks) and exports. */
interface VendorManifest {
  entries: Record<string, string>;
  imports: Record<string, string[]>;
  exports: Record<string, string[]>;
}

interface Options {
  /** The app's root: src/ is scanned, package-lock.json and node_modules are found from here (walking up). */
  root: string;
  /** Where prebuilt folders are kept (default node_modules/.vite-vendor beside the lockfile; the image build points
   * it at a cache mount, its context being read-only). */
  cacheDir?: string;
  packages?: readonly string[];
}

/** Whether the process with this id (a string from a folder name) runs. */
function alive(pid: string | undefined): boolean {
  if (!pid || !/^\d+$/.test(pid)) return false;
  try {
    process.kill(Number(pid), 0);
    return true;
  } catch {
    return false;
  }
}

function findUp(start: string, name: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, name);
    if (existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) throw new Error(`prebuilt vendor: no ${name} in ${start} or above it`);
  }
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(file);
    return /\.(ts|tsx|js|jsx|mjs)$/.test(entry.name) && !/\.test\.\w+$/.test(entry.name) ? [file] : [];
  });
}

const quoted = (specifier: string) => `['"]${specifier.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}['"]`;

/** The names each package is imported by in these sources (type-only imports are erased and so not counted).
 * A package imported nowhere (react/jsx-runtime: the JSX transform adds its imports) is taken whole. */
export function scanUsage(sources: readonly string[], packages: readonly string[]): Map<string, Usage> {
  const usage = new Map<string, Usage>();
  const add = (specifier: string, names: Usage) => {
    const known = usage.get(specifier) ?? [];
    usage.set(specifier, known === '*' || names === '*' ? '*' : [...new Set([...known, ...names])].sort());
  };
  for (const source of sources) {
    for (const specifier of packages) {
      const from = quoted(specifier);
      if (!new RegExp(from).test(source)) continue;
      const named = new RegExp(`import\\s+(?!type\\s)([\\w$]+\\s*,\\s*)?\\{([^}]*)\\}\\s*from\\s*${from}`, 'g');
      for (const match of source.matchAll(named)) {
        const names = match[2]
          .split(',')
          .map((part) => part.trim())
          .filter((part) => part && !part.startsWith('type '))
          .map((part) => part.split(/\s+as\s+/)[0]);
        add(specifier, match[1] ? [...names, 'default'] : names);
      }
      const whole = [
        `import\\s+\\*\\s+as\\s+[\\w$]+\\s+from\\s*${from}`, // import * as ns
        `import\\s*\\(\\s*${from}\\s*\\)`, // import('...')
        `export\\s+\\*\\s+from\\s*${from}`,
        `import\\s*${from}`, // a side-effect import
      ];
      if (whole.some((pattern) => new RegExp(pattern).test(source))) add(specifier, '*');
      if (new RegExp(`import\\s+(?!type\\s)[\\w$]+\\s+from\\s*${from}`).test(source)) add(specifier, ['default']);
    }
  }
  return new Map(packages.map((specifier) => [specifier, usage.get(specifier) ?? '*']));
}

/** Whether Node would load this file as CommonJS (its names are then known only by running it). */
function isCommonJs(file: string): boolean {
  if (file.endsWith('.cjs')) return true;
  if (file.endsWith('.mjs')) return false;
  if (JSON.parse(readFileSync(findUp(path.dirname(file), 'package.json'), 'utf8')).type === 'module') return false;
  return !/^\s*(export|import)\s/m.test(readFileSync(file, 'utf8'));
}

/** The entry module that re-exports a package as the browser build resolves it (`file`).
 *
 * An ES module is re-exported by the names the app uses, so Rolldown tree-shakes it, or with `export *`. A CommonJS
 * one (React) can be neither analysed nor tree-shaken: its names are read by loading it in Node, with its `default`. */
function entrySource(specifier: string, file: string, usage: Usage): string {
  const from = JSON.stringify(specifier);
  if (isCommonJs(file)) {
    const names = Object.keys(createRequire(file)(file) as object).filter((name) => /^[A-Za-z_$][\w$]*$/.test(name));
    return `export { ${names.join(', ')} } from ${from};\nexport { default } from ${from};\n`;
  }
  if (usage !== '*') return `export { ${usage.join(', ')} } from ${from};\n`;
  const hasDefault = /\bexport\s+default\b|\bas\s+default\b/.test(readFileSync(file, 'utf8'));
  return `export * from ${from};\n` + (hasDefault ? `export { default } from ${from};\n` : '');
}

function entryName(specifier: string): string {
  return specifier.replace(/\.js$/, '').replace(/[^A-Za-z0-9]+/g, '-');
}

/** Bundle the used packages into `folder` (written to a temporary sibling, then renamed: concurrent builds are safe). */
async function prebuild(folder: string, usage: Map<string, Usage>, root: string, target: ResolvedConfig['build']['target']) {
  const work = `${folder}.tmp-${process.pid}`;
  rmSync(work, { recursive: true, force: true });
  const entries: Plugin = {
    name: 'snowboarding:vendor-entries',
    resolveId: (id) => (id.startsWith(ENTRY_PREFIX) ? id : null),
    async load(id) {
      if (!id.startsWith(ENTRY_PREFIX)) return null;
      const specifier = id.slice(ENTRY_PREFIX.length);
      const resolved = await this.resolve(specifier, path.join(root, 'index.html'));
      if (!resolved || resolved.external) this.error(`prebuilt vendor: cannot resolve ${specifier} from ${root}`);
      return entrySource(specifier, resolved.id, usage.get(specifier) ?? '*');
    },
  };
  const output = await build({
    configFile: false,
    root,
    logLevel: 'warn',
    mode: 'production',
    plugins: [entries],
    build: {
      target,
      outDir: path.join(work, 'files'),
      emptyOutDir: true,
      copyPublicDir: false,
      reportCompressedSize: false,
      chunkSizeWarningLimit: 2000,
      rollupOptions: {
        input: Object.fromEntries([...usage.keys()].map((specifier) => [entryName(specifier), ENTRY_PREFIX + specifier])),
        preserveEntrySignatures: 'strict',
        output: { entryFileNames: '[name]-[hash].js', chunkFileNames: 'shared-[hash].js' },
      },
    },
  });
  const manifest: VendorManifest = { entries: {}, imports: {}, exports: {} };
  for (const bundle of Array.isArray(output) ? output : [output]) {
    if (!('output' in bundle)) throw new Error('prebuilt vendor: the vendor build returned a watcher, not a bundle');
    for (const chunk of bundle.output) {
      if (chunk.type !== 'chunk') continue;
      manifest.imports[chunk.fileName] = chunk.imports;
      manifest.exports[chunk.fileName] = chunk.exports;
      const specifier = chunk.isEntry ? [...usage.keys()].find((p) => entryName(p) === chunk.name) : undefined;
      if (specifier) manifest.entries[specifier] = chunk.fileName;
    }
  }
  const missing = [...usage.keys()].filter((p) => !manifest.entries[p]);
  if (missing.length) throw new Error(`prebuilt vendor: no entry chunk for ${missing.join(', ')}`);
  writeFileSync(path.join(work, MANIFEST), JSON.stringify(manifest, null, 2));
  try {
    renameSync(work, folder);
  } catch (error) {
    // Another build finished the same folder first: theirs is as good as ours.
    rmSync(work, { recursive: true, force: true });
    if (!existsSync(path.join(folder, MANIFEST))) throw error;
  }
}

/** The names a built chunk imports from `target` by static `import {…} from "target"` statements (Rolldown writes
 * them this way; `a as b` imports `a`). */
export function importedNames(code: string, target: string): string[] {
  const statement = new RegExp(`import\\s*\\{([^}]*)\\}\\s*from\\s*${quoted(target)}`, 'g');
  return [...code.matchAll(statement)].flatMap((match) =>
    match[1].split(',').map((part) => part.trim().split(/\s+as\s+/)[0]).filter(Boolean),
  );
}

/** Every prebuilt file reachable from these files through static imports. */
function closure(files: Iterable<string>, manifest: VendorManifest): string[] {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const next of manifest.imports[file] ?? []) visit(next);
  };
  for (const file of files) visit(file);
  return [...seen];
}

/** The Vite plugin: production builds only (the dev server and Vitest import the packages as usual). */
export function prebuiltVendor(options: Options): Plugin {
  const packages = options.packages ?? VENDOR_PACKAGES;
  let config: ResolvedConfig;
  let folder = '';
  let manifest: VendorManifest = { entries: {}, imports: {}, exports: {} };
  const prebuilt = new Map<string, string>(); // specifier → URL of its prebuilt file
  const url = (file: string) => `${config.base}${OUT_DIR}/${file}`;

  return {
    name: 'snowboarding:prebuilt-vendor',
    enforce: 'pre', // before Vite's resolver, which would resolve the packages into node_modules
    apply: (_, env) => env.command === 'build' && !env.isSsrBuild,
    configResolved(resolved) {
      config = resolved;
    },
    async buildStart() {
      const lockfile = findUp(options.root, 'package-lock.json');
      const sources = sourceFiles(path.join(options.root, 'src')).map((file) => readFileSync(file, 'utf8'));
      const usage = scanUsage(sources, packages);
      const viteVersion = JSON.parse(readFileSync(createRequire(lockfile).resolve('vite/package.json'), 'utf8')).version;
      const key = createHash('sha256')
        .update(readFileSync(lockfile))
        .update(JSON.stringify({ usage: [...usage], target: config.build.target, viteVersion, FORMAT }))
        .digest('hex')
        .slice(0, 16);
      const cacheDir = options.cacheDir ?? path.join(path.dirname(lockfile), 'node_modules', '.vite-vendor');
      folder = path.join(cacheDir, key);
      if (!existsSync(path.join(folder, MANIFEST))) {
        mkdirSync(cacheDir, { recursive: true });
        // Folders of older lockfiles or imports go, and work left by a build that died (not another build's work in
        // progress: `<key>.tmp-<pid>` of a live process).
        for (const old of readdirSync(cacheDir).filter((name) => !alive(name.split('.tmp-')[1]))) {
          rmSync(path.join(cacheDir, old), { recursive: true, force: true });
        }
        const started = performance.now();
        await prebuild(folder, usage, options.root, config.build.target);
        const seconds = ((performance.now() - started) / 1000).toFixed(2);
        config.logger.info(`prebuilt vendor: bundled ${packages.length} packages into ${folder} in ${seconds} s (once per lockfile)`);
      }
      manifest = JSON.parse(readFileSync(path.join(folder, MANIFEST), 'utf8'));
      prebuilt.clear();
      for (const [specifier, file] of Object.entries(manifest.entries)) prebuilt.set(specifier, url(file));
    },
    resolveId(source) {
      const target = prebuilt.get(source);
      return target ? { id: target, external: true } : null;
    },
    generateBundle(_, bundle) {
      for (const chunk of Object.values(bundle)) {
        if (chunk.type !== 'chunk') continue;
        for (const [specifier, target] of prebuilt) {
          const exported = new Set(manifest.exports[manifest.entries[specifier]]);
          const missing = importedNames(chunk.code, target).filter((name) => !exported.has(name));
          if (missing.length) {
            this.error(
              `prebuilt vendor: ${chunk.fileName} imports ${missing.join(', ')} from '${specifier}', which its prebuilt ` +
                `file does not export (src/ was scanned for imports of '${specifier}' and missed this one: write it as ` +
                `\`import { name } from '${specifier}'\`)`,
            );
          }
        }
      }
      for (const file of closure(Object.values(manifest.entries), manifest)) {
        this.emitFile({ type: 'asset', fileName: `${OUT_DIR}/${file}`, source: readFileSync(path.join(folder, 'files', file)) });
      }
    },
    transformIndexHtml: {
      order: 'post',
      handler(_html, context) {
        // Modulepreload the prebuilt files the entry chunk imports (and theirs), as Vite does for its own chunks.
        const entry = Object.values(context.bundle ?? {}).find((chunk) => chunk.type === 'chunk' && chunk.isEntry);
        if (!entry || entry.type !== 'chunk') return [];
        const prefix = url('');
        const direct = entry.imports.filter((id) => id.startsWith(prefix)).map((id) => id.slice(prefix.length));
        return closure(direct, manifest).map((file) => ({
          tag: 'link',
          attrs: { rel: 'modulepreload', crossorigin: true, href: url(file) },
          injectTo: 'head',
        }));
      },
    },
  };
}
