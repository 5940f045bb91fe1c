/**
 * The software page of an approved partner and the officers' clients page in a real browser (Debian's headless
 * Chromium via playwright-core), against the whole portal started with the demo seed (see harness.ts):
 *
 *  1. Acme Payments' applicant (JavaScript off, as every applicant page must work as plain HTML forms) finds
 *     the seeded software product, declares a new one with a mistake first (an http:// redirect URI: the error
 *     is tied to its field and every typed value is kept), corrects it, downloads the statement through the
 *     browser (a JWT verified against the portal's published directory keys) and revokes the product.
 *  2. A reviewer opens the partners page, follows the link to Acme's OAuth clients (none yet), the test
 *     registers one over mutual TLS with the seed's statement and signing key (as test/oauth/dcr-mtls.test.ts
 *     does), and the page lists it after a reload.
 *
 * Every page is watched for console errors (CSP violations included) and uncaught page errors; the key pages
 * are saved as screenshots. The steps share state and run in order: after a failed step the later ones are
 * skipped rather than failing for the same reason.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import {
  calculateJwkThumbprint,
  createLocalJWKSet,
  decodeJwt,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JSONWebKeySet,
  type JWK,
  jwtVerify,
  SignJWT,
} from 'jose';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { Agent, fetch } from 'undici';
import { nextTotpCode } from '../helpers/web.js';
import {
  CHROMIUM,
  errorCode,
  go,
  type JourneyPortal,
  type SeedAccount,
  shoot,
  startJourneyPortal,
  submit,
  text,
  textIfAny,
  type Watched,
  watchedPage,
} from './harness.js';

const ACME_APPLICANT = 'onboarding@acme-payments.test';
const ACME_LEGAL_NAME = 'Acme Payments GmbH';
const ACME_ORG_ID = 'PSDDE-BAFIN-152645';
const SEEDED_SOFTWARE = 'Acme Payments App';
const NEW_SOFTWARE = 'Acme Payments Web';
const BAD_URI = 'http://web.acme-payments.test/oauth/callback';
const GOOD_URI = 'https://web.acme-payments.test/oauth/callback';

/** One declared product on the software page (`<li id="software-<software_id>">`). */
function productItem(page: Page, name: string): Locator {
  return page.locator('#products li[id^="software-"]').filter({ has: page.getByRole('heading', { name: new RegExp(`^${name}\\b`) }) });
}

async function staffLogin(ctx: BrowserContext, baseUrl: string, who: SeedAccount): Promise<Watched> {
  const w = await watchedPage(ctx);
  const { page } = w;
  await go(page, `${baseUrl}/staff/login`);
  await page.getByLabel('E-mail').fill(who.email);
  await page.getByLabel('Password', { exact: true }).fill(who.password);
  await submit(page, page.getByRole('button', { name: 'Continue' }));
  assert.equal(new URL(page.url()).pathname, '/staff/login/totp');
  await page.getByLabel('6-digit code').fill(await nextTotpCode(who.secret));
  const res = await submit(page, page.getByRole('button', { name: 'Sign in' }));
  assert.equal(res.status(), 200);
  assert.equal(new URL(page.url()).pathname, '/staff/applications', `${who.email} lands on the review queue`);
  return w;
}

describe('browser journey: the partner’s software page and the officers’ clients page (Chromium)', function () {
  this.timeout(90_000);
  let env: JourneyPortal;
  let applicant: Watched;
  let reviewer: Watched;
  let appPath = '';
  /** The seed's statement, its software_id and the private key whose public half is in its JWKS. */
  let seededSsa = '';
  let seededSoftwareId = '';
  let seededSigningJwk: JWK;
  /** The public JWK pasted into the form, and the new product's software_id as the page shows it. */
  let pastedJwk: JWK;
  let jwksText = '';
  let newSoftwareId = '';
  const agents: Agent[] = [];
  const watched: Watched[] = [];
  const shots: string[] = [];
  let broken = false;

  const url = (p: string) => `${env.baseUrl}${p}`;
  const acmeFile = (name: string) => readFileSync(path.join(env.certsDir, 'partners', 'acme-payments', name), 'utf8');
  /** An HTTPS client that trusts the dev root (and presents a client certificate when given one). */
  const agent = (client?: { cert: string; key: string }) => {
    const a = new Agent({ connect: { ca: readFileSync(path.join(env.certsDir, 'ca', 'root.pem'), 'utf8'), servername: 'localhost', ...client } });
    agents.push(a);
    return a;
  };

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      this.skip();
      return;
    }
    env = await startJourneyPortal();
    seededSsa = acmeFile('ssa.jwt').trim();
    seededSoftwareId = String(decodeJwt(seededSsa).software_id);
    seededSigningJwk = JSON.parse(acmeFile('signing.jwk.json')) as JWK;
    const { publicKey } = await generateKeyPair('ES256', { extractable: true });
    const pub = await exportJWK(publicKey);
    pastedJwk = { ...pub, kid: await calculateJwkThumbprint(pub), use: 'sig', alg: 'ES256' };
    jwksText = JSON.stringify({ keys: [pastedJwk] }, null, 2);
    const ctx = await env.browser.newContext({ ignoreHTTPSErrors: true, javaScriptEnabled: false, acceptDownloads: true });
    applicant = await watchedPage(ctx);
    watched.push(applicant);
  });

  after(async () => {
    await Promise.all(agents.map((a) => a.close().catch(() => undefined)));
    await env?.close();
  });

  beforeEach(function () {
    if (broken) this.skip();
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed') broken = true;
  });

  it('Acme’s applicant signs in, opens the approved application and finds the seeded software product', async () => {
    const who = env.accounts.get(ACME_APPLICANT);
    assert.ok(who, `the demo seed created ${ACME_APPLICANT}`);
    const { page } = applicant;
    await go(page, url('/login'));
    await page.getByLabel('E-mail').fill(who.email);
    await page.getByLabel('Password', { exact: true }).fill(who.password);
    await submit(page, page.getByRole('button', { name: 'Continue' }));
    assert.equal(new URL(page.url()).pathname, '/login/totp');
    await page.getByLabel('6-digit code').fill(await nextTotpCode(who.secret));
    const res = await submit(page, page.getByRole('button', { name: 'Sign in' }));
    assert.equal(res.status(), 200);
    assert.equal(new URL(page.url()).pathname, '/applications');

    await submit(page, page.getByRole('link', { name: ACME_LEGAL_NAME }));
    appPath = new URL(page.url()).pathname;
    assert.match(appPath, /^\/applications\/[^/]+$/);
    assert.equal(await text(page.locator('h1 .badge').first()), 'Approved');
    await submit(page, page.getByRole('link', { name: 'Software products and statements' }));
    assert.equal(new URL(page.url()).pathname, `${appPath}/software`);
    assert.match(await text(page.locator('h1')), new RegExp(`^Software products · ${ACME_LEGAL_NAME}$`));
    assert.match(await text(page.locator('main')), new RegExp(`organisation ${ACME_ORG_ID}`));

    const seeded = productItem(page, SEEDED_SOFTWARE);
    assert.equal(await seeded.count(), 1, 'the seeded product is listed once');
    assert.equal(await seeded.getAttribute('id'), `software-${seededSoftwareId}`);
    assert.equal(await text(seeded.locator('dt:text-is("software_id") + dd')), seededSoftwareId);
    assert.equal(await text(seeded.locator('h3 .badge')), 'Active');
    assert.equal(await seeded.getByRole('link', { name: 'Download the software statement' }).count(), 1);
  });

  it('declares a product with an http:// redirect URI: the error is tied to the field, every value kept; then corrects it', async () => {
    const { page } = applicant;
    const form = page.locator('#declare');
    // The approved roles are offered, all checked by default: keep AIS only.
    assert.ok(await form.getByLabel(/^AIS/).isChecked());
    assert.ok(await form.getByLabel(/^PIS/).isChecked());
    assert.equal(await form.getByLabel(/^CBPII/).count(), 0, 'a role Acme was not approved for is not offered');
    await form.getByLabel(/^Name/).fill(NEW_SOFTWARE);
    await form.getByLabel(/^Redirect URIs/).fill(BAD_URI);
    await form.getByLabel(/^PIS/).uncheck();
    await form.getByLabel('JWK Set (JSON)').fill(jwksText);
    applicant.expectStatus(400);
    const bad = await submit(page, form.getByRole('button', { name: 'Declare the software product' }));
    assert.equal(bad.status(), 400);
    assert.equal(new URL(page.url()).pathname, `${appPath}/software`);

    const uris = form.getByLabel(/^Redirect URIs/);
    const err = page.locator('#field-redirectUris-error');
    assert.ok(await err.isVisible(), 'the redirect URI error is shown');
    assert.match(await text(err), /https:\/\//);
    assert.ok((await text(err)).includes(BAD_URI), 'the message names the URI it refuses');
    assert.equal(await uris.getAttribute('aria-invalid'), 'true');
    assert.ok((await uris.getAttribute('aria-describedby'))?.split(' ').includes('field-redirectUris-error'));
    assert.equal(await page.locator('#declare .field.has-error').count(), 1, 'only the redirect URIs are marked');
    assert.equal(await page.locator('[aria-invalid="true"]').count(), 1);
    const summary = page.locator('#declare .error-summary');
    assert.equal(await summary.getAttribute('role'), 'alert');
    assert.equal(await text(summary.locator('code.error-code')), 'input.invalid');
    const jump = summary.getByRole('link');
    assert.equal(await jump.count(), 1);
    assert.equal(await jump.getAttribute('href'), '#field-redirectUris', 'the summary links to the field');
    assert.equal(await text(jump), await text(err));
    // Everything typed is kept.
    assert.equal(await form.getByLabel(/^Name/).inputValue(), NEW_SOFTWARE);
    assert.equal(await uris.inputValue(), BAD_URI);
    assert.ok(await form.getByLabel(/^AIS/).isChecked());
    assert.ok(!(await form.getByLabel(/^PIS/).isChecked()), 'the unchecked role stays unchecked');
    assert.equal(await form.getByLabel('JWK Set (JSON)').inputValue(), jwksText);
    assert.equal(await form.getByLabel('or jwks_uri').inputValue(), '');
    assert.equal(await productItem(page, NEW_SOFTWARE).count(), 0, 'nothing was declared');
    shots.push(await shoot(page, 'software-01-declaration-error'));

    await uris.fill(GOOD_URI);
    const ok = await submit(page, form.getByRole('button', { name: 'Declare the software product' }));
    assert.equal(ok.status(), 200, await textIfAny(page.locator('.error-summary')));
    assert.equal(new URL(page.url()).pathname, `${appPath}/software`);
    assert.match(await text(page.locator('.flash-ok')), new RegExp(`“${NEW_SOFTWARE}” declared`));
    const item = productItem(page, NEW_SOFTWARE);
    assert.equal(await item.count(), 1, 'the new product is listed');
    newSoftwareId = await text(item.locator('dt:text-is("software_id") + dd'));
    assert.match(newSoftwareId, /^[A-Za-z0-9_-]{16,}$/);
    assert.notEqual(newSoftwareId, seededSoftwareId);
    assert.equal(new URL(page.url()).hash, `#software-${newSoftwareId}`, 'the page opens at the new product');
    assert.equal(await text(item.locator('h3 .badge')), 'Active');
    assert.equal(await text(item.locator('dt:text-is("Roles") + dd')), 'AIS (AISP)');
    assert.equal(await text(item.locator('dt:text-is("Redirect URIs") + dd')), GOOD_URI);
    assert.equal(await text(item.locator('dt:text-is("Public keys (JWKS)") + dd')), `${pastedJwk.kid} (EC, sig)`);
    assert.equal(await text(item.locator('dt:text-is("Statements issued") + dd')), '0');
    assert.equal(await productItem(page, SEEDED_SOFTWARE).count(), 1, 'the seeded product is still listed');
    // After a success the form starts afresh.
    assert.equal(await page.locator('#declare .error-summary').count(), 0);
    assert.equal(await page.locator('#declare').getByLabel(/^Name/).inputValue(), '');
    shots.push(await shoot(page, 'software-02-declared'));
  });

  it('downloads the statement through the browser: a JWT signed by the published directory keys, naming the product', async () => {
    const { page } = applicant;
    const item = productItem(page, NEW_SOFTWARE);
    const [download] = await Promise.all([page.waitForEvent('download'), item.getByRole('link', { name: 'Download the software statement' }).click()]);
    assert.equal(download.suggestedFilename(), `ssa-${newSoftwareId}.jwt`);
    const jwt = readFileSync(await download.path(), 'utf8');
    assert.match(jwt, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, 'the file is one compact JWS, nothing else');

    const claims = decodeJwt(jwt);
    assert.equal(claims.software_id, newSoftwareId);
    assert.equal(claims.org_id, ACME_ORG_ID);
    assert.equal(claims.org_name, ACME_LEGAL_NAME);
    assert.equal(claims.software_client_name, NEW_SOFTWARE);
    assert.deepEqual(claims.software_redirect_uris, [GOOD_URI]);
    assert.deepEqual(claims.software_roles, ['AISP']);
    assert.deepEqual(claims.software_jwks, { keys: [pastedJwk] });
    assert.equal(claims.software_jwks_endpoint, undefined);

    // Verified with the keys the page points to (the directory's stable URL), fetched over verified TLS.
    const jwksHref = await page.locator('main p a[href$="jwks.json"]').getAttribute('href');
    assert.equal(jwksHref, '/directory/jwks.json');
    const r = await fetch(url(jwksHref), { dispatcher: agent() });
    assert.equal(r.status, 200);
    assert.match(String(r.headers.get('content-type')), /^application\/jwk-set\+json/);
    const directoryKeys = (await r.json()) as JSONWebKeySet;
    const { payload, protectedHeader } = await jwtVerify(jwt, createLocalJWKSet(directoryKeys), { issuer: String(claims.iss) });
    assert.equal(payload.software_id, newSoftwareId);
    assert.ok(directoryKeys.keys.some((k) => k.kid === protectedHeader.kid), 'the signing key is published');
    assert.ok(
      directoryKeys.keys.every((k) => !['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'].some((m) => m in k)),
      'the directory publishes public keys only',
    );
    // The seeded statement verifies against the same keys (one directory for both).
    await jwtVerify(seededSsa, createLocalJWKSet(directoryKeys));

    // The page counts the statement it issued.
    await go(page, url(`${appPath}/software`));
    assert.equal(await text(productItem(page, NEW_SOFTWARE).locator('dt:text-is("Statements issued") + dd')).then((t) => t.split(' ')[0]), '1');
  });

  it('revokes the product: shown as revoked, no download offered, and the old download link is refused', async () => {
    const { page } = applicant;
    const item = productItem(page, NEW_SOFTWARE);
    const res = await submit(page, item.getByRole('button', { name: `Revoke “${NEW_SOFTWARE}”` }));
    assert.equal(res.status(), 200);
    assert.equal(new URL(page.url()).pathname, `${appPath}/software`);
    assert.match(await text(page.locator('.flash-ok')), new RegExp(`“${NEW_SOFTWARE}” revoked`));
    const revoked = productItem(page, NEW_SOFTWARE);
    assert.equal(await revoked.getAttribute('id'), `software-${newSoftwareId}`);
    assert.equal(await text(revoked.locator('h3 .badge')), 'Revoked');
    assert.equal(await revoked.getByRole('link', { name: /Download/ }).count(), 0, 'no download for a revoked product');
    assert.equal(await revoked.getByRole('button').count(), 0, 'no second revocation offered');
    assert.equal(await page.locator(`a[href*="${newSoftwareId}/statement.jwt"]`).count(), 0);
    const seeded = productItem(page, SEEDED_SOFTWARE);
    assert.equal(await text(seeded.locator('h3 .badge')), 'Active', 'the other product is untouched');
    assert.equal(await seeded.getByRole('link', { name: 'Download the software statement' }).count(), 1);
    shots.push(await shoot(page, 'software-03-revoked'));

    // A bookmarked download link now gets the stable refusal, as a page rather than a file.
    applicant.expectStatus(409);
    const old = await go(page, url(`${appPath}/software/${newSoftwareId}/statement.jwt`));
    assert.equal(old.status(), 409);
    assert.equal(await errorCode(page), 'registration.software_revoked');
  });

  it('a reviewer follows "See the registered clients" for Acme: none yet; after a registration over mutual TLS the client is listed', async () => {
    const who = env.accounts.get('reviewer@bank.test');
    assert.ok(who, 'the demo seed created the reviewer');
    const ctx = await env.browser.newContext({ ignoreHTTPSErrors: true });
    reviewer = await staffLogin(ctx, env.baseUrl, who);
    watched.push(reviewer);
    const { page } = reviewer;
    await submit(page, page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Partners' }));
    assert.equal(new URL(page.url()).pathname, '/staff/partners');
    const card = page.locator('section.card').filter({ has: page.getByRole('heading', { name: new RegExp(`^${ACME_LEGAL_NAME}`) }) });
    assert.equal(await card.count(), 1, 'Acme is listed once');
    const partnerId = String(await card.getAttribute('id')).replace(/^partner-/, '');
    await submit(page, card.getByRole('link', { name: 'See the registered clients' }));
    assert.equal(new URL(page.url()).pathname, `/staff/partners/${partnerId}/clients`);
    assert.equal(await text(page.locator('h1')), `OAuth clients of ${ACME_LEGAL_NAME}`);
    assert.equal(await text(page.locator('dt:text-is("organizationIdentifier") + dd')), ACME_ORG_ID);
    assert.equal(await text(page.locator('#no-clients')), 'No OAuth client registered yet.');
    assert.equal(await page.locator('tr.client-row').count(), 0);
    shots.push(await shoot(page, 'clients-01-none'));

    // Acme's server registers a client over mutual TLS with the seed's statement, as dcr-mtls.test.ts does.
    const now = Math.floor(Date.now() / 1000);
    const request = await new SignJWT({
      software_statement: seededSsa,
      token_endpoint_auth_method: 'tls_client_auth',
      grant_types: ['client_credentials'],
      scope: 'accounts payments',
    })
      .setProtectedHeader({ alg: 'PS256', kid: String(seededSigningJwk.kid), typ: 'JWT' })
      .setIssuer(seededSoftwareId)
      .setAudience(env.portal.oauth.issuer())
      .setIssuedAt(now)
      .setExpirationTime(now + 300)
      .setJti(randomUUID())
      .sign(await importJWK(seededSigningJwk, 'PS256'));
    const acmeServer = agent({ cert: acmeFile('qwac-chain.pem'), key: acmeFile('qwac.key') });
    const r = await fetch(`https://127.0.0.1:${env.portal.mtlsPort}/oauth/register`, {
      method: 'POST',
      headers: { accept: 'application/json', 'content-type': 'application/jwt' },
      body: request,
      dispatcher: acmeServer,
    });
    const body = await r.text();
    assert.equal(r.status, 201, body);
    const registered = JSON.parse(body) as Record<string, unknown>;
    const clientId = String(registered.client_id);
    assert.equal(registered.software_id, seededSoftwareId);
    assert.equal(registered.org_id, ACME_ORG_ID);

    const again = await page.reload();
    assert.equal(again?.status(), 200);
    assert.equal(await page.locator('#no-clients').count(), 0);
    const rows = page.locator('tr.client-row');
    assert.equal(await rows.count(), 1, 'one client is listed');
    const cells = rows.first().locator('td');
    assert.equal(await text(cells.nth(0).locator('code')), clientId);
    assert.equal(await text(cells.nth(1)), seededSoftwareId);
    assert.equal(await text(cells.nth(2)), 'tls_client_auth');
    assert.equal(await text(cells.nth(3)), 'accounts payments');
    assert.match(await text(cells.nth(5)), /^\S{16}…/, 'a pinned issuing-CA key is shown');
    assert.match(await text(cells.nth(6)), /^\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC$/);
    shots.push(await shoot(page, 'clients-02-registered'));
  });

  it('no page logged a console error, a CSP violation or an uncaught error; the screenshots exist', () => {
    for (const w of watched) assert.deepEqual(w.problems, []);
    assert.equal(shots.length, 5);
    for (const f of shots) assert.ok(existsSync(f) && statSync(f).size > 0, `${f} is a non-empty file`);
  });
});
