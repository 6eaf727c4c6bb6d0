// package.json's contributions as VS Code renders them.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { describe, it } from 'node:test';

const manifest = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  contributes: { viewsWelcome: { view: string; contents: string }[] };
};

describe('package.json contributions', () => {
  it('welcome views use only what VS Code renders there: links, no other Markdown (backticks showed literally)', () => {
    for (const w of manifest.contributes.viewsWelcome) {
      const withoutLinks = w.contents.replace(/\[[^\]]+\]\(command:[\w.]+\)/g, '');
      assert.doesNotMatch(withoutLinks, /[`*_]{1,2}\S/, `${w.view}: ${w.contents}`);
    }
  });
});
