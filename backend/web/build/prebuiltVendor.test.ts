import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { afterAll, describe, expect, it } from 'vitest';
import { importedNames, prebuiltVendor, scanUsage } from './prebuiltVendor.ts';

describe('scanUsage', () => {
  const packages = ['three', 'react', 'tus-js-client', 'react/jsx-runtime'];

  it('collects the named imports of each package across files, not type-only ones', () => {
    const usage = scanUsage(
      [
        "import {\n  Color,\n  Scene as S,\n  type Vector2,\n} from 'three';\nimport type { Mesh } from 'three';",
        'import { useState } from "react";\nimport { WebGLRenderer, Color } from "three";',
      ],
      packages,
    );
    expect(usage.get('three')).toEqual(['Color', 'Scene', 'WebGLRenderer']);
    expect(usage.get('react')).toEqual(['useState']);
  });

  it('counts a default import as the name default', () => {
    expect(scanUsage(["import React, { useId } from 'react';"], packages).get('react')).toEqual(['default', 'useId']);
    expect(scanUsage(["import Thing from 'three';"], packages).get('three')).toEqual(['default']);
  });

  it('takes a package whole when it is imported as a namespace, dynamically or not at all', () => {
    expect(scanUsage(["const m = await import('tus-js-client');"], packages).get('tus-js-client')).toBe('*');
    expect(scanUsage(["import * as THREE from 'three';"], packages).get('three')).toBe('*');
    expect(scanUsage([''], packages).get('react/jsx-runtime')).toBe('*');
  });

  it('does not mistake a longer specifier for the package', () => {
    const usage = scanUsage(["import { OrbitControls } from 'three/examples/jsm/controls/OrbitControls.js';"], ['three']);
    expect(usage.get('three')).toBe('*'); // imported nowhere as 'three' itself
  });
});

describe('importedNames', () => {
  const target = '/assets/vendor/three-B4uc62_-.js';

  it('reads the names of minified static imports, the imported side of `as`', () => {
    const code = `import{a as e,Color as t,WebGLRenderer}from"${target}";import{x}from"/assets/vendor/other.js";`;
    expect(importedNames(code, target)).toEqual(['a', 'Color', 'WebGLRenderer']);
  });

  it('finds nothing in a chunk that does not import the file', () => {
    expect(importedNames('import{x}from"/assets/index.js";', target)).toEqual([]);
  });
});

describe('prebuiltVendor in a real build', () => {
  // A throwaway app beside this file (so `three` resolves from this package's node_modules), built with Vite for real.
  const fixture = (files: Record<string, string>) => {
    const root = mkdtempSync(path.join(path.dirname(fileURLToPath(import.meta.url)), '.fixture-'));
    writeFileSync(path.join(root, 'index.html'), '<!doctype html><script type="module" src="/src/main.ts"></script>');
    mkdirSync(path.join(root, 'src'));
    for (const [name, text] of Object.entries(files)) writeFileSync(path.join(root, 'src', name), text);
    return root;
  };
  const bundle = (root: string) =>
    build({
      root,
      configFile: false,
      logLevel: 'silent',
      plugins: [prebuiltVendor({ root, cacheDir: path.join(root, '.vendor'), packages: ['three'] })],
      build: { outDir: path.join(root, 'dist') },
    });
  const roots: string[] = [];
  afterAll(() => roots.forEach((root) => rmSync(root, { recursive: true, force: true })));

  it('serves the package from a prebuilt file, tree-shaken, modulepreloaded, and reuses it on the next build', async () => {
    const root = fixture({ 'main.ts': "import { Color } from 'three';\nconsole.log(new Color(1, 0, 0).getHexString());\n" });
    roots.push(root);
    await bundle(root);
    const html = readFileSync(path.join(root, 'dist/index.html'), 'utf8');
    const vendor = readdirSync(path.join(root, 'dist/assets/vendor'));
    const three = vendor.find((name) => name.startsWith('three-'));
    expect(three).toBeDefined();
    expect(html).toContain(`<link rel="modulepreload" crossorigin href="/assets/vendor/${three}">`);
    const app = readdirSync(path.join(root, 'dist/assets')).find((name) => name.startsWith('index-'))!;
    expect(importedNames(readFileSync(path.join(root, 'dist/assets', app), 'utf8'), `/assets/vendor/${three}`)).toEqual(['Color']);
    const prebuilt = readFileSync(path.join(root, 'dist/assets/vendor', three!), 'utf8');
    expect(prebuilt).not.toContain('WebGLRenderer'); // tree-shaken to what src/ imports
    const [folder] = readdirSync(path.join(root, '.vendor'));
    const before = statSync(path.join(root, '.vendor', folder, 'vendor.json')).mtimeMs;
    await bundle(root);
    expect(readdirSync(path.join(root, '.vendor'))).toEqual([folder]);
    expect(statSync(path.join(root, '.vendor', folder, 'vendor.json')).mtimeMs).toBe(before);
  }, 60_000);

  it('fails the build naming an import the scan of src/ did not see', async () => {
    // A re-export is not an import statement: the scan misses it, the prebuilt file lacks the name.
    const root = fixture({
      'main.ts': "import { Color } from 'three';\nimport { Vector3 } from './again';\nconsole.log(new Color(), new Vector3());\n",
      'again.ts': "export { Vector3 } from 'three';\n",
    });
    roots.push(root);
    await expect(bundle(root)).rejects.toThrow(/imports Vector3 from 'three', which its prebuilt file does not export/);
  }, 60_000);
});
