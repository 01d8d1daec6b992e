// The source tree reads as the design: each folder is a layer, and imports point down only —
// wire <- core, shared <- runtime <- api <- integrations — and no module is too long to read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const src = fileURLToPath(new URL('../src/', import.meta.url));
/** A layer may import from its own rank and below. The entry points sit on top. */
const rank = { wire: 0, core: 1, shared: 1, runtime: 2, api: 3, integrations: 4, '.': 5 };
const files = readdirSync(src, { recursive: true }).filter((f) => f.endsWith('.ts')).map((f) => join(src, f));
const layerOf = (file) => relative(src, file).split('/').slice(0, -1)[0] ?? '.';

test('every folder of src/ is a known layer', () => {
  for (const file of files) assert.ok(layerOf(file) in rank, `${relative(src, file)} is in no known layer`);
});

test('no module imports from a layer above its own', () => {
  const wrong = [];
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    for (const [, spec] of text.matchAll(/(?:from\s+|import\s*\(\s*)'(\.{1,2}\/[^']+)'/g)) {
      const target = resolve(dirname(file), spec);
      const from = layerOf(file);
      const to = layerOf(target);
      // shared and core are one rank, but neither needs the other: keep them apart.
      if (rank[to] > rank[from] || (from !== to && rank[to] === rank[from])) wrong.push(`${relative(src, file)} -> ${relative(src, target)}`);
    }
  }
  assert.deepEqual(wrong, []);
});

test('no module of src/ is over 450 lines', () => {
  const long = files.map((f) => [relative(src, f), readFileSync(f, 'utf8').split('\n').length]).filter(([, n]) => n > 450);
  assert.deepEqual(long, []);
});
