/**
 * The whole portal for browser journeys, as `npm start` runs it but throwaway: a dev PKI generated into a
 * temporary CERTS_DIR whose certificates name a loopback responder port, that OCSP/CRL responder running,
 * `startPortal` on ports 0 with a temporary DATA_DIR and the demo seed (its credentials parsed from the text
 * it prints), and Debian's headless Chromium driven by playwright-core.
 *
 * Page helpers: `watch` collects console errors and uncaught page errors (CSP violations are console errors),
 * `go` / `submit` navigate and return the final response, `shoot` saves a full-page screenshot.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, chromium, type Locator, type Page, type Response } from 'playwright-core';
import { type Responder, startThrowawayPortal } from '../../src/demo/throwaway.js';
import type { Portal } from '../../src/main.js';
import type { DevPki } from '../../src/devpki/index.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** Where screenshots go: SCREENSHOT_DIR, else test-artifacts/screenshots under the repository root. */
export const SCREENSHOT_DIR = path.resolve(process.env.SCREENSHOT_DIR ?? path.join(REPO_ROOT, 'test-artifacts', 'screenshots'));

export interface SeedAccount {
  email: string;
  password: string;
  /** TOTP secret, base32. */
  secret: string;
}

/**
 * The accounts in the text the demo seed prints (see src/demo/seed.ts formatCredentials): each account is an
 * `e-mail:` line followed by its `password:` and `TOTP:` lines.
 */
export function parseSeedText(text: string): Map<string, SeedAccount> {
  const out = new Map<string, SeedAccount>();
  const lines = text.split('\n').map((l) => l.trim());
  lines.forEach((line, i) => {
    const email = /^e-mail:\s+(\S+)$/.exec(line)?.[1];
    if (!email) return;
    const password = /^password:\s+(\S+)$/.exec(lines[i + 1] ?? '')?.[1];
    const secret = /^TOTP:\s+([A-Z2-7]+)$/.exec(lines[i + 2] ?? '')?.[1];
    if (password && secret) out.set(email, { email, password, secret });
  });
  return out;
}

export interface JourneyPortal {
  portal: Portal;
  responder: Responder;
  /** The dev PKI the responder answers for (renewed certificates issued in a test are pushed to it). */
  pki: DevPki;
  /** `https://localhost:<port>` */
  baseUrl: string;
  certsDir: string;
  accounts: Map<string, SeedAccount>;
  browser: Browser;
  close(): Promise<void>;
}

/** Debian's headless Chromium with the flags every journey uses (no sandbox in containers, no GPU, no background traffic). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}

export async function startJourneyPortal(): Promise<JourneyPortal> {
  const cleanups: (() => Promise<void> | void)[] = [];
  const close = async () => {
    for (const c of cleanups.reverse()) await c();
  };
  try {
    const t = await startThrowawayPortal({ prefix: 'portal-journeys-', keyAlgorithm: 'EC-P256', hardFailRevocation: false, env: { NODE_ENV: 'test' } });
    cleanups.push(() => t.stop());
    const { portal, responder, certsDir, seedText, pki } = t;
    const accounts = parseSeedText(seedText);
    assert.ok(accounts.size >= 4, `the demo seed printed its accounts:\n${seedText}`);

    const browser = await launchChromium();
    cleanups.push(() => browser.close());
    return { portal, responder, pki, baseUrl: `https://localhost:${portal.publicPort}`, certsDir, accounts, browser, close };
  } catch (err) {
    await close();
    throw err;
  }
}

// --- pages ------------------------------------------------------------------------------------------

export interface Watched {
  page: Page;
  /** Console errors and uncaught exceptions seen so far, with the page URL they happened on. */
  problems: string[];
  /** The next `n` "Failed to load resource" console errors for this HTTP status are expected (a 4xx page the test asked for). */
  expectStatus(status: number, n?: number): void;
}

const FAILED_LOAD = /^Failed to load resource: the server responded with a status of (\d{3})/;

/** A new page in the context whose console errors and page errors are collected. */
export async function watchedPage(context: BrowserContext): Promise<Watched> {
  const page = await context.newPage();
  const problems: string[] = [];
  const expected = new Map<number, number>();
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const status = Number(FAILED_LOAD.exec(m.text())?.[1]);
    const left = expected.get(status) ?? 0;
    if (left > 0) {
      expected.set(status, left - 1);
      return;
    }
    problems.push(`${page.url()}: console error: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`${page.url()}: page error: ${e.message}`));
  return {
    page,
    problems,
    expectStatus(status, n = 1) {
      expected.set(status, (expected.get(status) ?? 0) + n);
    },
  };
}

/** Navigates and returns the final response (after redirects). */
export async function go(page: Page, url: string): Promise<Response> {
  const res = await page.goto(url);
  assert.ok(res, `no response for ${url}`);
  return res;
}

/** Clicks something that submits a form or follows a link, and waits for the resulting page to load. */
export async function submit(page: Page, target: Locator): Promise<Response> {
  const [res] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), target.click()]);
  assert.ok(res, 'the click led to a page');
  return res;
}

/** A full-page screenshot in SCREENSHOT_DIR; asserts the file exists and is not empty. Returns its path. */
export async function shoot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  assert.ok(existsSync(file) && statSync(file).size > 0, `screenshot ${file} was written`);
  return file;
}

/** The whitespace-normalised text of an element. */
export async function text(locator: Locator): Promise<string> {
  return ((await locator.textContent()) ?? '').replace(/\s+/g, ' ').trim();
}

/** The text of the first match, or '' when there is none (without waiting: for assertion messages). */
export async function textIfAny(locator: Locator): Promise<string> {
  return (await locator.count()) ? text(locator.first()) : '';
}

/** The stable error code a page shows (`<code class="error-code">`), or null. */
export async function errorCode(page: Page): Promise<string | null> {
  const code = page.locator('code.error-code');
  return (await code.count()) ? text(code.first()) : null;
}

/**
 * Answers every request to `origin` in the browser itself (a partner's redirect URI with no server behind it)
 * and records the URLs of the documents asked for, in order. Chromium's Fetch domain directly, not `page.route`:
 * Playwright calls a route handler only for the first URL of a redirect chain, and an OAuth redirect to the
 * partner is always a hop of one (the form post, then the provider's resume, then the partner).
 */
export async function answerOrigin(page: Page, origin: string, html = '<!doctype html><title>Partner app</title><p>Back at the partner.</p>'): Promise<URL[]> {
  const seen: URL[] = [];
  const cdp = await page.context().newCDPSession(page);
  cdp.on('Fetch.requestPaused', (e) => {
    if (e.resourceType === 'Document') seen.push(new URL(e.request.url));
    void cdp
      .send('Fetch.fulfillRequest', {
        requestId: e.requestId,
        responseCode: 200,
        responseHeaders: [{ name: 'Content-Type', value: 'text/html; charset=utf-8' }],
        body: Buffer.from(html).toString('base64'),
      })
      .catch(() => undefined);
  });
  await cdp.send('Fetch.enable', { patterns: [{ urlPattern: `${new URL(origin).origin}/*`, requestStage: 'Request' }] });
  return seen;
}
