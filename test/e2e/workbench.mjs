// Driving VS Code's workbench (code-server in Chromium) the way a person does: the command palette,
// quick open, the activity bar, tree views, the editor, hovers, the Problems panel and webviews.
// Every wait has a deadline and every failure says what was on screen instead.

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns a truthy value; throws `what` (plus the last value seen) at the deadline. */
export async function waitFor(what, fn, { timeout = 30_000, interval = 250 } = {}) {
  const end = Date.now() + timeout;
  let last, lastErr;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      if (e?.fatal) throw e; // the awaited thing can no longer happen
      lastErr = e;
    }
    if (Date.now() > end) {
      const detail = lastErr
        ? `; last error: ${lastErr.message.split('\n')[0]}`
        : last !== undefined && last !== false && last !== null
          ? `; last seen: ${JSON.stringify(last)}`
          : '';
      throw new Error(`${what}: not within ${Math.round(timeout / 1000)} s${detail}`);
    }
    await sleep(interval);
  }
}

const norm = (s) =>
  (s ?? '')
    .replace(/\u00a0/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();

export class Workbench {
  /** @param {import('playwright-core').Page} page */
  constructor(page, log = () => {}) {
    this.page = page;
    this.log = log;
  }

  async waitLoaded(timeout = 90_000) {
    await this.page.waitForSelector('.monaco-workbench .part.activitybar', { timeout });
    await this.page.waitForSelector('.monaco-workbench .part.editor', { timeout });
    await this.page.waitForSelector('.monaco-workbench .part.statusbar', { timeout });
  }

  // ---- quick input (command palette, quick open, go to line, quick picks) ---------------------

  quickInput() {
    return this.page.locator('.quick-input-widget');
  }

  async quickInputVisible() {
    return this.page.evaluate(() => {
      const w = document.querySelector('.quick-input-widget');
      return !!w && getComputedStyle(w).display !== 'none' && w.getBoundingClientRect().height > 0;
    });
  }

  async quickInputRows() {
    return this.page.$$eval('.quick-input-widget .quick-input-list .monaco-list-row', (rows) =>
      rows.map((r) => ({
        label: (r.querySelector('.quick-input-list-label .label-name, .label-name')?.textContent ?? '').replace(/\u00a0/g, ' ').trim(),
        text: (r.textContent ?? '')
          .replace(/\u00a0/g, ' ')
          .replace(/\s+/g, ' ')
          .trim(),
        aria: r.getAttribute('aria-label') ?? '',
      })),
    );
  }

  async quickInputValue() {
    return this.page
      .locator('.quick-input-widget .quick-input-box input')
      .inputValue()
      .catch(() => '');
  }

  async closeQuickInput() {
    for (let i = 0; i < 3 && (await this.quickInputVisible()); i++) {
      await this.page.keyboard.press('Escape');
      await sleep(150);
    }
  }

  /** Opens the quick input with `text` typed in (a leading '>' is the command palette). */
  async openQuickInput(text) {
    await this.closeQuickInput();
    await this.page.keyboard.press('F1');
    await waitFor('the command palette (F1) to open', () => this.quickInputVisible(), { timeout: 10_000 });
    const input = this.page.locator('.quick-input-widget .quick-input-box input');
    await input.fill(text);
  }

  /**
   * Clicks row `i` of the open quick input. The pointer first leaves the list and any hover it
   * opened goes away: a pointer resting on a row (where the last click left it) shows that row's
   * description hover after a delay, and on a slow machine that hover can cover the row to click.
   */
  async clickQuickInputRow(i) {
    await this.page.mouse.move(1, 1);
    await this.page
      .locator('.context-view .hover-contents')
      .first()
      .waitFor({ state: 'hidden', timeout: 3_000 })
      .catch(() => {});
    await this.page.locator('.quick-input-widget .quick-input-list .monaco-list-row').nth(i).click();
  }

  /** Runs a command from the command palette by its exact title ("Fine-tune: Start"). */
  async runCommand(title, { timeout = 15_000 } = {}) {
    await this.openQuickInput(`>${title}`);
    const rows = await waitFor(
      `the command palette to list "${title}"`,
      async () => {
        const r = await this.quickInputRows();
        return r.some((x) => x.label === title) ? r : false;
      },
      { timeout },
    ).catch(async (e) => {
      const seen = (await this.quickInputRows()).map((x) => x.label).filter(Boolean);
      throw new Error(`${e.message.split(':')[0]}: the palette lists ${seen.length ? seen.map((s) => `"${s}"`).join(', ') : 'nothing'} for "${title}"`);
    });
    const index = rows.findIndex((x) => x.label === title);
    await this.clickQuickInputRow(index);
    // The palette closes (or turns into the command's own quick pick) once the command runs.
    await waitFor(
      `the command palette to close after "${title}"`,
      async () => !(await this.quickInputVisible()) || !(await this.quickInputValue()).startsWith('>'),
      { timeout: 5_000 },
    ).catch(() => {});
    this.log(`ran "${title}"`);
  }

  /**
   * After a command: if it asks with a quick pick, choose the row matching `pick` (a RegExp on the
   * row text) or the first row. Returns the chosen row's text, or undefined when nothing asked.
   */
  async answerQuickPick(pick, { wait = 2_500 } = {}) {
    const end = Date.now() + wait;
    while (Date.now() < end) {
      if ((await this.quickInputVisible()) && !(await this.quickInputValue()).startsWith('>')) {
        const rows = await waitFor(
          'the quick pick to list choices',
          async () => {
            const r = await this.quickInputRows();
            return r.length ? r : false;
          },
          { timeout: 10_000 },
        );
        let i = pick ? rows.findIndex((r) => pick.test(r.text)) : 0;
        if (i < 0) throw new Error(`the quick pick offers ${rows.map((r) => `"${r.text}"`).join(', ')}; none matches ${pick}`);
        const row = this.page.locator('.quick-input-widget .quick-input-list .monaco-list-row').nth(i);
        const many = (await row.locator('input[type="checkbox"], .monaco-custom-toggle, .quick-input-list-checkbox').count()) > 0;
        await this.clickQuickInputRow(i);
        if (many) {
          // A multi-select pick: the click ticks the row; OK (Enter) accepts.
          await waitFor(
            'the picked row to be ticked',
            async () =>
              row.evaluate((r) => {
                const c = r.querySelector('input[type="checkbox"]');
                return c
                  ? c.checked
                  : r.querySelector('.monaco-custom-toggle.checked, [aria-checked="true"]') !== null || r.getAttribute('aria-checked') === 'true';
              }),
            { timeout: 3_000 },
          );
          const ok = this.page.locator('.quick-input-widget .quick-input-action .monaco-button').filter({ hasText: /^OK$/ });
          if (await ok.count()) await ok.first().click();
          else await this.page.keyboard.press('Enter');
        }
        this.log(`picked "${rows[i].text}"${many ? ' (ticked, OK)' : ''}`);
        return rows[i].text;
      }
      await sleep(150);
    }
    return undefined;
  }

  /** Opens a workspace file through quick open (F1, then the file name instead of '>'). */
  async openFile(name, { timeout = 30_000 } = {}) {
    await this.openQuickInput(name);
    await waitFor(
      `quick open to find ${name}`,
      async () => {
        const rows = await this.quickInputRows();
        return rows.some((r) => r.label === name || r.text.startsWith(name));
      },
      { timeout },
    );
    const rows = await this.quickInputRows();
    const i = rows.findIndex((r) => r.label === name || r.text.startsWith(name));
    await this.clickQuickInputRow(i);
    await waitFor(`an editor tab for ${name}`, () => this.activeTabIs(name), { timeout: 15_000 });
    await waitFor(
      `the editor for ${name} to show text`,
      async () => (await this.page.locator('.part.editor .monaco-editor .view-lines .view-line').count()) > 0,
      { timeout: 15_000 },
    );
  }

  async activeTabIs(name) {
    return this.page.evaluate((n) => {
      // The active tab; with no tabs (a single editor's title), its label. (One selector for both
      // would match the first tab's label when the active tab is not the first.)
      const t = document.querySelector('.part.editor .tabs-container .tab.active') ?? document.querySelector('.part.editor .title .label-name');
      return !!t && (t.getAttribute('aria-label') ?? t.textContent ?? '').includes(n);
    }, name);
  }

  /** Moves the cursor to a line (1-based) with "Go to Line" (':' in quick open). */
  async goToLine(line, column) {
    await this.openQuickInput(`:${line}${column ? `:${column}` : ''}`);
    await sleep(200);
    await this.page.keyboard.press('Enter');
    await waitFor(`the cursor to reach line ${line}`, async () => (await this.cursorPosition())?.line === line, { timeout: 5_000 }).catch(() => {});
  }

  /** Line and column of the cursor as the status bar shows it ("Ln 42, Col 3"). */
  async cursorPosition() {
    const text = await this.page.evaluate(
      () => [...document.querySelectorAll('.part.statusbar .statusbar-item')].map((e) => e.textContent ?? '').find((t) => /Ln \d+, Col \d+/.test(t)) ?? '',
    );
    const m = /Ln (\d+), Col (\d+)/.exec(text);
    return m ? { line: Number(m[1]), column: Number(m[2]) } : undefined;
  }

  /**
   * The bounding box of the first editor token on the visible line matching `lineRe` whose text
   * contains `token` (Monaco draws each line as spans of tokens).
   */
  async tokenBox(lineRe, token) {
    return this.page.evaluate(
      ({ src, flags, token }) => {
        const re = new RegExp(src, flags);
        const editor = document.querySelector('.part.editor .editor-instance .monaco-editor, .part.editor .monaco-editor');
        for (const line of editor?.querySelectorAll('.view-lines .view-line') ?? []) {
          const text = (line.textContent ?? '').replace(/\u00a0/g, ' ');
          if (!re.test(text)) continue;
          const spans = [...line.querySelectorAll('span span')].filter((s) => (s.textContent ?? '').includes(token));
          const s = spans[0];
          if (!s) return { error: `line "${text.trim()}" has no token containing "${token}"` };
          const full = s.textContent ?? '';
          // Narrow to the token itself when the span holds more (a Range over its text node).
          const node = s.firstChild;
          const at = full.indexOf(token);
          let r = s.getBoundingClientRect();
          if (node && at >= 0) {
            const range = document.createRange();
            range.setStart(node, at);
            range.setEnd(node, at + token.length);
            r = range.getBoundingClientRect();
          }
          return { x: r.x, y: r.y, width: r.width, height: r.height, line: text.trim() };
        }
        return { error: `no visible editor line matches ${re}` };
      },
      { src: lineRe.source, flags: lineRe.flags, token },
    );
  }

  /** Hovers the editor token and returns the hover widget's text. */
  async hoverToken(lineRe, token, { timeout = 15_000 } = {}) {
    const box = await this.tokenBox(lineRe, token);
    if (box.error) throw new Error(box.error);
    const x = box.x + box.width / 2,
      y = box.y + box.height / 2;
    return waitFor(
      `a hover over "${token}"`,
      async () => {
        await this.page.mouse.move(x - 3, y);
        await sleep(100);
        await this.page.mouse.move(x, y);
        await sleep(900);
        return this.hoverText();
      },
      { timeout, interval: 200 },
    );
  }

  async hoverText() {
    return this.page.evaluate(() => {
      const all = [...document.querySelectorAll('.monaco-hover, .monaco-resizable-hover')];
      const hovers = all.filter((h) => {
        const r = h.getBoundingClientRect();
        return (
          r.width > 0 &&
          r.height > 0 &&
          !h.classList.contains('hidden') &&
          getComputedStyle(h).visibility !== 'hidden' &&
          !all.some((o) => o !== h && o.contains(h))
        );
      });
      const t = hovers
        .map((h) =>
          (h.textContent ?? '')
            .replace(/\u00a0/g, ' ')
            .replace(/\s+/g, ' ')
            .trim(),
        )
        .filter(Boolean)
        .join(' | ');
      return t || undefined;
    });
  }

  // ---- activity bar, views, trees ---------------------------------------------------------------

  async activityItems() {
    return this.page.$$eval('.part.activitybar .action-item', (items) =>
      items.map((li) => ({
        label: li.querySelector('.action-label')?.getAttribute('aria-label') ?? li.getAttribute('aria-label') ?? '',
        checked: li.classList.contains('checked') || li.querySelector('[aria-selected="true"], [aria-pressed="true"]') !== null,
      })),
    );
  }

  /** Shows the activity-bar container titled `title` (clicking it only when it is not shown). */
  async showContainer(title) {
    const items = await waitFor(
      `an activity bar item titled "${title}"`,
      async () => {
        const it = await this.activityItems();
        return it.some((i) => i.label === title || i.label.startsWith(`${title} (`)) ? it : false;
      },
      { timeout: 20_000 },
    ).catch(async (e) => {
      const it = await this.activityItems();
      throw new Error(`${e.message.split(':')[0]}; the activity bar has ${it.map((i) => `"${i.label}"`).join(', ')}`);
    });
    const item = items.find((i) => i.label === title || i.label.startsWith(`${title} (`));
    const sidebarTitle = async () =>
      norm(
        await this.page
          .locator('.part.sidebar .composite.title .title-label')
          .first()
          .textContent()
          .catch(() => ''),
      );
    if (!(item.checked && (await sidebarTitle()).toLowerCase().includes(title.toLowerCase()))) {
      await this.page
        .locator(`.part.activitybar .action-item .action-label[aria-label="${item.label.replace(/"/g, '\\"')}"]`)
        .first()
        .click();
    }
    await waitFor(`the side bar to show "${title}"`, async () => (await sidebarTitle()).toLowerCase().includes(title.toLowerCase()) || (await sidebarTitle()), {
      timeout: 10_000,
    }).then((t) => {
      if (t !== true) throw new Error(`the side bar shows "${t}", not "${title}"`);
    });
  }

  /** The rows of the tree views in the side bar: text, level, icon classes, aria-label. */
  async sidebarTreeRows() {
    return this.page.$$eval('.part.sidebar .monaco-list-row', (rows) =>
      rows.map((r) => ({
        label: (r.querySelector('.label-name')?.textContent ?? '').replace(/\u00a0/g, ' ').trim(),
        description: (r.querySelector('.label-description')?.textContent ?? '').replace(/\u00a0/g, ' ').trim(),
        level: Number(r.getAttribute('aria-level') ?? 0),
        aria: r.getAttribute('aria-label') ?? '',
        icon: [...r.querySelectorAll('.custom-view-tree-node-item-icon, .codicon')].map((e) => e.className).join(' '),
      })),
    );
  }

  // ---- panel: Problems ----------------------------------------------------------------------------

  async problems() {
    return this.page.$$eval('.part.panel .markers-panel .monaco-list-row, .part.panel .markers-panel-container .monaco-list-row', (rows) =>
      rows.map((r) => ({
        text: (r.textContent ?? '')
          .replace(/\u00a0/g, ' ')
          .replace(/\s+/g, ' ')
          .trim(),
        aria: r.getAttribute('aria-label') ?? '',
        level: Number(r.getAttribute('aria-level') ?? 0),
      })),
    );
  }

  // ---- webviews -------------------------------------------------------------------------------------

  /** The innermost frames of webviews (VS Code nests the content iframe in a host iframe). */
  webviewContentFrames() {
    return this.page
      .frames()
      .filter(
        (f) =>
          f !== this.page.mainFrame() &&
          f.parentFrame() !== this.page.mainFrame() &&
          /webview|vscode-cdn|fake\.html|\/pre\//.test(f.url() + (f.parentFrame()?.url() ?? '')),
      );
  }
}

/** The status a run row shows, from its icon and its text. */
export function rowStatus(row) {
  const t = `${row.label} ${row.description} ${row.aria}`.toLowerCase();
  const icon = row.icon;
  if (/codicon-(sync|loading)|modifier-spin/.test(icon) || /\brunning\b|\b\d{1,3}%/.test(t)) return 'running';
  if (/codicon-debug-stop|codicon-stop/.test(icon) || /\bstopped\b/.test(t)) return 'stopped';
  if (/codicon-(error|close)\b/.test(icon) || /\bfailed\b/.test(t)) return 'failed';
  if (/codicon-(pass|check|pass-filled)\b/.test(icon) || /\bcompleted\b/.test(t)) return 'completed';
  if (/codicon-clock/.test(icon) || /\bqueued\b/.test(t)) return 'queued';
  return 'unknown';
}
