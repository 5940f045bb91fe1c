/**
 * The status page in a real browser (Debian's headless Chromium driven by playwright-core): it renders,
 * its stylesheet loads under the Content-Security-Policy, and the console stays free of CSP violations.
 * Pending by name when /usr/bin/chromium is absent (`.ci/run` installs it).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { type Portal, startPortal } from '../../src/main.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

describe('portal in a browser: status page', function () {
  this.timeout(120_000);
  let dir: string;
  let portal: Portal;
  let browser: Browser;

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      this.skip();
      return;
    }
    dir = mkdtempSync(path.join(tmpdir(), 'portal-browser-'));
    const config = loadConfig(
      { NODE_ENV: 'test', PORT: '0', MTLS_PORT: '0', DATA_DIR: path.join(dir, 'data'), CERTS_DIR: path.join(dir, 'certs') },
      dir,
    );
    portal = await startPortal(config, createLogger({ level: 'silent' }));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
  });
  after(async () => {
    await browser?.close();
    await portal?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('renders the status with its stylesheet and no console errors', async () => {
    // The dev server certificate chains to the dev root, which this throwaway profile does not trust.
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    const res = await page.goto(`https://localhost:${portal.publicPort}/health`);
    assert.equal(res?.status(), 200);
    assert.equal(await page.locator('h1').textContent(), 'Partner Portal');
    assert.equal(await page.locator('table.status td.ok').first().textContent(), 'ok');
    // portal.css sets the header background: proof the stylesheet was allowed and applied.
    // Runs in the page: the DOM types are not in this Node project's lib, hence the narrow cast.
    const bg = await page
      .locator('header.top')
      .evaluate((el) => (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }).getComputedStyle(el).backgroundColor);
    assert.equal(bg, 'rgb(18, 53, 91)');
    const shot = path.join(dir, 'status.png');
    await page.screenshot({ path: shot, fullPage: true });
    assert.ok(existsSync(shot));
    assert.deepEqual(problems, []);
    await context.close();
  });
});
