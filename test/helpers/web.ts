/**
 * A real HTTPS portal for route tests: a throwaway self-signed certificate for 127.0.0.1, a fresh SQLite
 * file in a temporary directory, the audit and accounts services, the session stack (session, passport,
 * CSRF) and the app as `createApp` wires it. Requests go through supertest agents that trust the test
 * certificate and keep cookies like a browser (`__Host-` cookies need HTTPS, so plain HTTP would not do).
 *
 *   const web = await startWebApp({ extraRouters: (ctx) => [myRouter(ctx)] });
 *   const agent = web.agent();
 *   await signUpAndEnrol(agent, 'a@example.test');           // now signed in as that applicant
 *   const r = await agent.get('/applications').set('Accept', 'text/html');
 *   await web.close();
 *
 * Stable API (other areas' tests use it): startWebApp, WebApp, WebContext, TestClock, csrfFrom,
 * errorCodeFrom, postForm, signUpAndEnrol, loginApplicant, loginStaff, seedStaff, nextTotpCode, clockOf.
 * The services run on `web.clock` (real time plus a skew): TOTP helpers advance it instead of waiting
 * for the next 30-second step, so one user may sign in many times in a test.
 */
import { randomBytes, webcrypto } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type RequestHandler, Router } from 'express';
import supertest from 'supertest';
import { accountsRouter, staffAdminRouter, staffAuthRouter } from '../../src/accounts/routes.js';
import { type AccountsService, createAccountsService } from '../../src/accounts/service.js';
import { totpCode, totpStep, TOTP_PERIOD } from '../../src/accounts/totp.js';
import { type AuditService, createAuditService } from '../../src/audit/service.js';
import { issueCertificate } from '../../src/devpki/builder.js';
import { createApp } from '../../src/http/app.js';
import { createSessionMiddleware } from '../../src/http/middleware/session.js';
import { createLogger, type Logger } from '../../src/logger.js';
import type { StaffRole } from '../../src/partners/types.js';
import { close, createPublicServer, listen } from '../../src/server/listeners.js';
import { type Db, openDatabase } from '../../src/store/database.js';
import { createTransactor, type Transactor } from '../../src/store/transaction.js';

export type Agent = ReturnType<typeof supertest.agent>;

/** What routers under test are built from. */
/** The services' clock. Without a fixed `now` option it is real time plus a skew that tests may advance. */
export interface TestClock {
  now(): Date;
  /** Moves the services' time forward (TOTP steps, throttle windows, audit times); not the session cookies'. */
  advance?(ms: number): void;
}

export interface WebContext {
  db: Db;
  tx: Transactor;
  audit: AuditService;
  accounts: AccountsService;
  logger: Logger;
  /** The temporary data directory (uploads may go below it); removed by close(). */
  dataDir: string;
  dataKey: Buffer;
  now: () => Date;
  clock: TestClock;
}

export interface WebApp extends WebContext {
  /** `https://127.0.0.1:<port>` */
  url: string;
  /** The test certificate (PEM), trusted by agent(). */
  ca: string;
  /** A new cookie-keeping client (one browser). */
  agent(): Agent;
  close(): Promise<void>;
}

export interface StartOptions {
  /** Replaces the accounts routers (default: accountsRouter, staffAuthRouter, staffAdminRouter). */
  routers?: (ctx: WebContext) => Router[];
  /** Added after the default (or given) routers. */
  extraRouters?: (ctx: WebContext) => Router[];
  /** Clock of the services (accounts, audit). Default: real time. */
  now?: () => Date;
  /** pino level; default silent (set LOG_LEVEL=debug to see the app's logs). */
  logLevel?: string;
}

let tlsMaterial: Promise<{ cert: string; key: string }> | null = null;

/** One self-signed certificate per test process (ECDSA P-256, SAN 127.0.0.1 and localhost). */
export function testTls(): Promise<{ cert: string; key: string }> {
  tlsMaterial ??= (async () => {
    const now = Date.now();
    const { cert, keys } = await issueCertificate({
      subject: 'CN=localhost',
      keyAlgorithm: 'EC-P256',
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + 24 * 3600_000),
      san: { dns: ['localhost'], ip: ['127.0.0.1'] },
      eku: ['1.3.6.1.5.5.7.3.1'],
    });
    const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
    const key = `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString('base64').replace(/(.{64})/g, '$1\n').trimEnd()}\n-----END PRIVATE KEY-----\n`;
    return { cert: cert.toString('pem'), key };
  })();
  return tlsMaterial;
}

/** A Router that runs the given handlers for every request (how the session stack is put before the routers). */
export function stack(handlers: RequestHandler[]): Router {
  const router = Router();
  router.use(...handlers);
  return router;
}

export async function startWebApp(opts: StartOptions = {}): Promise<WebApp> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'portal-web-'));
  const db = openDatabase({ dataDir });
  const tx = createTransactor(db);
  let skew = 0;
  const now = opts.now ?? (() => new Date(Date.now() + skew));
  const clock: TestClock = opts.now ? { now } : { now, advance: (ms) => void (skew += ms) };
  const logger = createLogger({ level: opts.logLevel ?? process.env.LOG_LEVEL ?? 'silent' });
  const audit = createAuditService({ db, tx, now });
  const dataKey = randomBytes(32);
  const accounts = createAccountsService({ db, tx, audit, dataKey, logger, now });
  const ctx: WebContext = { db, tx, audit, accounts, logger, dataDir, dataKey, now, clock };

  const session = createSessionMiddleware({
    db,
    tx,
    accounts,
    config: { sessionSecret: randomBytes(32).toString('base64url'), env: 'test' },
    now: () => now().getTime(),
  });
  // One clock for the services, the session lifetime and the sign-in steps.
  const routeDeps = { accounts, now: () => now().getTime() };
  const routers = opts.routers
    ? opts.routers(ctx)
    : [accountsRouter(routeDeps), staffAuthRouter(routeDeps), staffAdminRouter(routeDeps)];
  // createApp mounts routers in order after helmet, request context and static files: the session stack
  // as the first "router" is exactly the place the lead's wiring gives it.
  const app = createApp({ logger, routers: [stack(session), ...routers, ...(opts.extraRouters?.(ctx) ?? [])] });

  const tls = await testTls();
  const server: https.Server = createPublicServer({ cert: Buffer.from(tls.cert), key: Buffer.from(tls.key) }, app);
  const port = await listen(server, 0, '127.0.0.1');
  const url = `https://127.0.0.1:${port}`;
  return {
    ...ctx,
    url,
    ca: tls.cert,
    agent: () => {
      const agent = supertest.agent(url, { ca: tls.cert });
      clocks.set(agent, clock);
      return agent;
    },
    async close() {
      await close(server);
      db.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

// --- page helpers ---------------------------------------------------------------------------------

/** The CSRF token of the first form on a page. */
export function csrfFrom(html: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!m?.[1]) throw new Error(`no CSRF token in page:\n${html.slice(0, 2000)}`);
  return m[1];
}

/** The stable error code a page shows (`<code class="error-code">`), or null. */
export function errorCodeFrom(html: string): string | null {
  return /<code class="error-code">([^<]+)<\/code>/.exec(html)?.[1] ?? null;
}

/** GETs `page` for its CSRF token, then POSTs the form there (or to `action`). Returns the POST's response. */
export async function postForm(agent: Agent, page: string, fields: Record<string, string | string[]>, action = page) {
  const get = await agent.get(page).set('Accept', 'text/html');
  if (get.status !== 200) throw new Error(`GET ${page}: ${get.status}`);
  return agent
    .post(action)
    .type('form')
    .set('Accept', 'text/html')
    .send({ _csrf: csrfFrom(get.text), ...fields });
}

const usedSteps = new Map<string, number>();
const clocks = new WeakMap<Agent, TestClock>();
const REAL_CLOCK: TestClock = { now: () => new Date() };

/** The clock of the app an agent talks to (real time for agents not made by WebApp.agent()). */
export function clockOf(agent: Agent): TestClock {
  return clocks.get(agent) ?? REAL_CLOCK;
}

/**
 * A valid TOTP code that has not been used yet (the portal refuses a step it has accepted before): the
 * current step, else the next one (within the ±1 window), else the next step: the clock is advanced to it
 * when it can be (WebApp clocks), otherwise this waits. Signing one user in many times stays valid and fast.
 */
export async function nextTotpCode(secretBase32: string, clock: TestClock = REAL_CLOCK): Promise<string> {
  for (;;) {
    const t = clock.now();
    const msLeft = TOTP_PERIOD * 1000 - (t.getTime() % (TOTP_PERIOD * 1000));
    const current = totpStep(t);
    const last = usedSteps.get(secretBase32) ?? -1;
    // Near a step boundary "current" may be "previous" by the time the server checks: skip to the next.
    const candidates = msLeft > 2000 ? [current, current + 1] : [current + 1];
    const step = candidates.find((s) => s > last);
    if (step !== undefined) {
      usedSteps.set(secretBase32, step);
      return totpCode(secretBase32, new Date(step * TOTP_PERIOD * 1000));
    }
    if (clock.advance) clock.advance(msLeft + 1000);
    else await new Promise((r) => setTimeout(r, msLeft + 50));
  }
}

/** Marks a code's step as used (after a test submitted a code itself). */
export function markTotpUsed(secretBase32: string, at: Date): void {
  usedSteps.set(secretBase32, Math.max(usedSteps.get(secretBase32) ?? -1, totpStep(at)));
}

export interface Credentials {
  email: string;
  password: string;
  /** TOTP secret, base32. */
  secret: string;
}

export const TEST_PASSWORD = 'correct horse battery staple';

/**
 * Signs up through the real forms, reads the TOTP secret the enrolment page shows, confirms a code: the
 * agent ends signed in as the new applicant.
 */
export async function signUpAndEnrol(
  agent: Agent,
  email: string,
  opts: { password?: string; displayName?: string } = {},
): Promise<Credentials> {
  const password = opts.password ?? TEST_PASSWORD;
  const signup = await postForm(agent, '/signup', {
    displayName: opts.displayName ?? 'Test Applicant',
    email,
    password,
    passwordConfirm: password,
  });
  if (signup.status !== 303 || signup.headers.location !== '/signup/totp') {
    throw new Error(`sign-up failed: ${signup.status} ${errorCodeFrom(signup.text)}`);
  }
  const page = await agent.get('/signup/totp').set('Accept', 'text/html');
  const secret = /id="totp-secret">([A-Z2-7]+)</.exec(page.text)?.[1];
  if (!secret) throw new Error('no TOTP secret on the enrolment page');
  const confirm = await agent
    .post('/signup/totp')
    .type('form')
    .send({ _csrf: csrfFrom(page.text), code: await nextTotpCode(secret, clockOf(agent)) });
  if (confirm.status !== 303) throw new Error(`TOTP confirmation failed: ${confirm.status} ${errorCodeFrom(confirm.text)}`);
  return { email, password, secret };
}

async function login(agent: Agent, base: '' | '/staff', creds: Credentials, next?: string) {
  const first = await postForm(agent, `${base}/login${next ? `?next=${encodeURIComponent(next)}` : ''}`, {
    email: creds.email,
    password: creds.password,
    ...(next ? { next } : {}),
  }, `${base}/login`);
  if (first.status !== 303 || first.headers.location !== `${base}/login/totp`) {
    throw new Error(`password step failed: ${first.status} ${first.headers.location ?? errorCodeFrom(first.text)}`);
  }
  const page = await agent.get(`${base}/login/totp`).set('Accept', 'text/html');
  const second = await agent
    .post(`${base}/login/totp`)
    .type('form')
    .send({ _csrf: csrfFrom(page.text), code: await nextTotpCode(creds.secret, clockOf(agent)) });
  if (second.status !== 303) throw new Error(`code step failed: ${second.status} ${errorCodeFrom(second.text)}`);
  return second;
}

/** Password then code through the applicant forms; resolves with the final redirect response. */
export function loginApplicant(agent: Agent, creds: Credentials, next?: string) {
  return login(agent, '', creds, next);
}

/** Password then code through the staff forms (the account must be enrolled with no temporary password). */
export function loginStaff(agent: Agent, creds: Credentials, next?: string) {
  return login(agent, '/staff', creds, next);
}

/** An enrolled staff member created directly through the service. */
export async function seedStaff(
  web: Pick<WebContext, 'accounts'>,
  email: string,
  roles: StaffRole[],
  password = TEST_PASSWORD,
): Promise<Credentials & { userId: string }> {
  const { user, totpSecretBase32 } = await web.accounts.seedStaff({ email, displayName: email.split('@')[0] ?? email, roles, password });
  return { email, password, secret: totpSecretBase32, userId: user.id };
}
