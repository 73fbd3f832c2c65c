// Checks over every module of the page, since most of them can only run in
// a browser: each parses, each import names something its module exports,
// the pure modules stay pure, and the page preloads what main.js loads.

import {test} from 'node:test';
import assert from 'node:assert/strict';
import {readFileSync, readdirSync} from 'node:fs';
import {execFileSync} from 'node:child_process';
import {fileURLToPath} from 'node:url';
import path from 'node:path';

const dir = fileURLToPath(new URL('../static/js/', import.meta.url));
const indexHTML = fileURLToPath(new URL('../static/index.html', import.meta.url));
const files = readdirSync(dir).filter((f) => f.endsWith('.js')).sort();
const source = Object.fromEntries(files.map((f) => [f, readFileSync(path.join(dir, f), 'utf8')]));

/** PURE are the modules that must run anywhere: no DOM, no MapLibre, no network. */
const PURE = ['actions.js', 'auth.js', 'geometry.js', 'lookup.js', 'model.js', 'params.js', 'placement.js', 'ramps.js', 'rules.js', 'stale.js', 'style.js',
  'projectmodel.js']; // issue 17

/** MAX_LINES keeps modules small enough to read in one go. */
const MAX_LINES = 400;

function imports(src) {
  const out = [];
  for (const m of src.matchAll(/import\s*\{([^}]*)\}\s*from\s*(['"])([^'"]+)\2/g)) {
    const names = m[1].split(',').map((s) => s.trim()).filter(Boolean).map((s) => s.split(/\s+as\s+/)[0]);
    out.push({from: m[3], quote: m[2], names});
  }
  return out;
}

function exports(src) {
  return new Set([...src.matchAll(/export\s+(?:async\s+)?(?:function\*?|const|let|class)\s+([A-Za-z_$][\w$]*)/g)].map((m) => m[1]));
}

test('every module', async (t) => {
  for (const f of files) {
    await t.test(f, () => {
      // web_test.go follows imports written as from './name.js' with a lower-case name.
      assert.match(f, /^[a-z]+\.js$/, 'module names are lower-case letters');
      execFileSync(process.execPath, ['--check', path.join(dir, f)], {stdio: 'pipe'});
      const lines = source[f].split('\n').length;
      assert.ok(lines <= MAX_LINES, `${lines} lines, want at most ${MAX_LINES}`);
      for (const imp of imports(source[f])) {
        assert.equal(imp.quote, "'", `${imp.from}: single quotes`);
        assert.match(imp.from, /^\.\/[a-z]+\.js$/, 'imports are sibling modules');
        const target = imp.from.slice(2);
        assert.ok(files.includes(target), `${target} does not exist`);
        assert.notEqual(target, 'main.js', 'nothing imports the entry point');
        const have = exports(source[target]);
        for (const name of imp.names) {
          assert.ok(have.has(name), `${target} does not export ${name}`);
          // A use is the name not after a word character or a member dot (a spread's dots are fine).
          const uses = source[f].match(new RegExp(`(?<![\\w$])(?<!(?<!\\.\\.)\\.)${name.replace('$', '\\$')}(?![\\w$])`, 'g')) || [];
          assert.ok(uses.length > 1, `${name} from ${target} is imported but not used`);
        }
      }
    });
  }
});

test('pure modules', async (t) => {
  for (const f of PURE) {
    await t.test(f, async () => {
      for (const imp of imports(source[f])) assert.ok(PURE.includes(imp.from.slice(2)), `imports ${imp.from}, which is not pure`);
      const code = source[f].replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
      const m = code.match(/\b(document|window|maplibregl|localStorage|EventSource|fetch|performance)\b/);
      assert.equal(m, null, `uses ${m && m[1]}`);
      await import(new URL(`../static/js/${f}`, import.meta.url));
    });
  }
});

test('the page preloads exactly the modules main.js loads', () => {
  const reached = new Set();
  const walk = (f) => {
    if (reached.has(f)) return;
    reached.add(f);
    for (const imp of imports(source[f])) walk(imp.from.slice(2));
  };
  walk('main.js');
  assert.deepEqual([...reached].sort(), files, 'every module is used');
  const html = readFileSync(indexHTML, 'utf8');
  const preloaded = [...html.matchAll(/<link rel="modulepreload" href="\/static\/js\/([^"]+)">/g)].map((m) => m[1]).sort();
  assert.deepEqual(preloaded, files);
});

test('every module but the entry point loads without a browser', async (t) => {
  // Loading links the imports (a missing export fails here) and runs each
  // module's top level, which must leave the DOM alone until called.
  for (const f of files.filter((f) => f !== 'main.js')) {
    await t.test(f, async () => { await import(new URL(`../static/js/${f}`, import.meta.url)); });
  }
});
