// Every ```ts snippet of the README, type-checked under `strict` against the built package, and
// the values it names that are typed `any` (a result typed `any` type-checks, and is wrong). Each
// snippet becomes a module of its own; the threadloop names it uses are imported for it, and what
// it takes as given (`pool`, `db`, `files`, …) is declared in test/fixtures/readme/.
// Used by test/readme.test.js (the repository's @types/node) and scripts/check-types.mjs (every
// supported @types/node major: a README example must compile in a user's project too).
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import * as threadloop from 'threadloop';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The README's TypeScript snippets, with the README line each starts on. */
export function snippets(readme = readFileSync(join(root, 'README.md'), 'utf8')) {
  const found = [];
  for (const match of readme.matchAll(/^( *)```(ts|typescript)\n([\s\S]*?)^\1```$/gm)) {
    const [, indent, , code] = match;
    const line = readme.slice(0, match.index).split('\n').length + 1;
    // A snippet inside a list item is indented like the item's text.
    found.push({ line, code: code.split('\n').map((text) => text.slice(indent.length)).join('\n') });
  }
  return found;
}

/** The names `code` already imports. */
function importedNames(code) {
  const names = new Set();
  for (const [, list] of code.matchAll(/import\s+(?:type\s+)?(?:\w+\s*,\s*)?\{([^}]*)\}\s*from/g)) {
    for (const item of list.split(',')) names.add(item.trim().split(/\s+as\s+/).at(-1).replace(/^type\s+/, ''));
  }
  for (const [, name] of code.matchAll(/import\s+(\w+)\s*(?:,|from)/g)) names.add(name);
  return names;
}

/** `code` as a module: the threadloop values it uses and does not import are imported for it. */
function asModule(code) {
  const imported = importedNames(code);
  const used = Object.keys(threadloop).filter((name) => !imported.has(name) && new RegExp(`\\b${name}\\b`).test(code));
  const prelude = used.length > 0 ? `import { ${used.join(', ')} } from 'threadloop';` : 'export {};';
  return { text: `${prelude}\n${code}`, offset: 1 };
}

/**
 * Type-checks the README's snippets; returns the problems (`README.md:<line>: …`), none if all
 * is well. `typeRoots`: where `@types/node` is taken from (default: the repository's).
 */
export function readmeSnippetProblems({ typeRoots } = {}) {
  const found = snippets();
  if (found.length < 10) return [`only ${found.length} snippets found in README.md`];
  // Inside the repository, so that 'threadloop' resolves to the built package by its own name
  // (package.json "exports") and fastify and bullmq come from its node_modules.
  const dir = join(root, '.tmp', `readme-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  try {
    cpSync(join(root, 'test', 'fixtures', 'readme'), dir, { recursive: true });
    const files = new Map();
    for (const { line, code } of found) {
      const file = join(dir, `readme-line-${line}.ts`);
      const { text, offset } = asModule(code);
      writeFileSync(file, text);
      files.set(file, { line, offset });
    }
    const program = ts.createProgram([...files.keys(), join(dir, 'globals.d.ts')], {
      strict: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      lib: ['lib.es2023.d.ts', 'lib.esnext.disposable.d.ts'],
      types: ['node'],
      ...(typeRoots === undefined ? {} : { typeRoots }),
      noEmit: true,
      skipLibCheck: true,
    });
    const where = (node) => {
      const { line, offset } = files.get(node.getSourceFile().fileName);
      return `README.md:${line + node.getSourceFile().getLineAndCharacterOfPosition(node.getStart()).line - offset}`;
    };
    const problems = [];
    for (const d of ts.getPreEmitDiagnostics(program)) {
      const message = ts.flattenDiagnosticMessageText(d.messageText, '\n');
      const source = d.file && files.get(d.file.fileName);
      if (!source) {
        problems.push(`${d.file?.fileName ?? ''}: ${message}`);
        continue;
      }
      const at = source.line + d.file.getLineAndCharacterOfPosition(d.start).line - source.offset;
      problems.push(`README.md:${at}: TS${d.code}: ${message}`);
    }
    // Names typed any: the snippet compiles, and the reader's editor shows `any`.
    const checker = program.getTypeChecker();
    for (const file of files.keys()) {
      const visit = (node) => {
        if ((ts.isVariableDeclaration(node) || ts.isParameter(node)) && ts.isIdentifier(node.name)) {
          const type = checker.typeToString(checker.getTypeAtLocation(node.name), undefined, ts.TypeFormatFlags.NoTruncation);
          if (/\bany\b/.test(type)) problems.push(`${where(node)}: '${node.name.text}' is typed ${type}`);
        }
        ts.forEachChild(node, visit);
      };
      visit(program.getSourceFile(file));
    }
    return problems;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
