// The config module's layout: src/shared/config/ is shared by the trainer and the extension, so it
// imports neither (nor the webview, nor vscode; of the rest of src/shared only protocol, metrics and
// hfCache, which the file checks use to look a Hub checkpoint up in the cache); its concern modules form no cycle and none
// imports the entry (config.ts); schema.ts imports only the metric table
// (../metrics, which imports nothing; scripts/build.mjs bundles and evaluates it alone).

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';

const DIR = path.resolve(path.dirname(__filename), '..', 'src', 'shared', 'config');
const files = fs.readdirSync(DIR).filter((f) => f.endsWith('.ts'));
const imports = Object.fromEntries(
  files.map((f) => [f, [...fs.readFileSync(path.join(DIR, f), 'utf8').matchAll(/^(?:import|export)[^;]*? from '([^']+)'/gms)].map((m) => m[1])]),
);

describe('config module layout', () => {
  it('imports nothing from the trainer, the extension, the webview or vscode', () => {
    const bad = Object.entries(imports).flatMap(([f, specs]) =>
      specs
        .filter(
          (s) =>
            s === 'vscode' ||
            /(^|\/)(trainer|extension|webview)(\/|$)/.test(s) ||
            (s.startsWith('..') && !s.startsWith('../protocol') && !s.startsWith('../metrics') && !s.startsWith('../hfCache')),
        )
        .map((s) => `${f}: ${s}`),
    );
    assert.deepEqual(bad, []);
  });

  it('schema.ts imports only the metric table; no module imports the entry; no cycles', () => {
    assert.deepEqual(imports['schema.ts'], ['../metrics']);
    assert.deepEqual(
      files.filter((f) => imports[f].includes('./config')),
      [],
    );
    const local = (f: string) => imports[f].filter((s) => s.startsWith('./')).map((s) => `${s.slice(2)}.ts`);
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (f: string, stack: string[]) => {
      if (state.get(f) === 'open') return void cycles.push([...stack, f].join(' → '));
      if (state.get(f) === 'done') return;
      state.set(f, 'open');
      for (const g of local(f)) visit(g, [...stack, f]);
      state.set(f, 'done');
    };
    for (const f of files) visit(f, []);
    assert.deepEqual(cycles, []);
    assert.ok(files.length > 5 && local('config.ts').length > 3, 'the regex still finds the imports');
  });
});
