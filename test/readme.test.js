// Every ```ts snippet of the README type-checks under `strict` against the built package, and
// none of the values it names is typed `any` (scripts/readme-snippets.mjs; CI also checks them
// against every supported @types/node major, in scripts/check-types.mjs). And the numbers the
// README compares with other libraries come from the benchmark's results file, and its list of
// what Deno and Bun do not pass from the script CI checks them with.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readmeSnippetProblems } from '../scripts/readme-snippets.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(join(root, 'README.md'), 'utf8');

test('every TypeScript snippet of the README type-checks under strict, and names no value typed any', { timeout: 120_000 }, () => {
  assert.deepEqual(readmeSnippetProblems(), []);
});

test("the README's generated parts are what scripts/readme-tables.mjs makes: bench numbers, what Deno and Bun do not pass", async () => {
  const { generated } = await import('../scripts/readme-tables.mjs');
  const run = JSON.parse(readFileSync(join(root, 'bench', 'results', 'latest.json'), 'utf8'));
  assert.equal(readme, generated(readme, run), 'run `node scripts/readme-tables.mjs --write` (after a bench run, or a change to scripts/test-runtime.mjs)');
});
