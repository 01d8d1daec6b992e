// Every public class and function has a doc comment where editors show it: on its declaration in
// the published .d.ts files (a comment above some other declaration shows nowhere). The API
// reference (`npm run docs`, typedoc.json) refuses undocumented exports on its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

test('every exported class and function of each entry point has its doc comment in the .d.ts', () => {
  const entries = Object.entries(pkg.exports).filter(([, target]) => typeof target === 'object');
  const files = entries.map(([, target]) => join(root, target.types));
  const program = ts.createProgram(files, { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, types: ['node'], noEmit: true, skipLibCheck: true });
  const checker = program.getTypeChecker();
  const missing = [];
  let seen = 0;
  for (const [i, [entry]] of entries.entries()) {
    const module = checker.getSymbolAtLocation(program.getSourceFile(files[i]));
    for (const exported of checker.getExportsOfModule(module)) {
      const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      if (!(symbol.flags & (ts.SymbolFlags.Class | ts.SymbolFlags.Function))) continue;
      seen++;
      const documented = ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim() !== '' ||
        (symbol.declarations ?? []).some((d) => ts.getJSDocCommentsAndTags(d).length > 0 && ts.getJSDocTags(d).length > 0);
      if (!documented) missing.push(`${join('threadloop', entry)}: ${exported.name}`);
    }
  }
  assert.ok(seen > 40, `only ${seen} classes and functions found`);
  assert.deepEqual(missing, []);
});
