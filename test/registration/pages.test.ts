/**
 * The software page and the directory's JWKS through real HTTPS (the web harness: SQLite, sessions, CSRF,
 * accounts), with the real partners service on the shared dev PKI and Acme Payments approved by policy.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLocalJWKSet, exportJWK, generateKeyPair, jwtVerify, type JWK } from 'jose';
import { applicantRouter } from '../../src/partners/routes.js';
import { createPartnersService } from '../../src/partners/service.js';
import type { PartnersService } from '../../src/partners/types.js';
import { createRegisterService, DEV_REGISTER_FILE, type RegisterService } from '../../src/register/service.js';
import { createDirectory, DIRECTORY_ISSUER, type Directory } from '../../src/registration/directory.js';
import { directoryRouter, softwareRouter } from '../../src/registration/routes.js';
import { createSoftwareService, type SoftwareService } from '../../src/registration/software.js';
import { type Agent, errorCodeFrom, loginStaff, seedStaff, signUpAndEnrol, startWebApp, type WebApp } from '../helpers/web.js';
import { acmeProfile, APPROVER_A, count, partnerCert, sharedPki } from '../partners/helpers.js';
import { applicantActor, assertCsrfInEveryForm, page, post } from '../pages/setup.js';

const ALICE = 'alice@acme-payments.test';
const MALLORY = 'mallory@fintech.test';
const XSS = '<script>alert(1)</script>';

function state(web: WebApp) {
  return {
    products: web.db.prepare('SELECT id, status, name FROM software_products ORDER BY id').all(),
    statements: count(web.db, 'software_statements'),
    audit: count(web.db, 'audit_events'),
  };
}

describe('pages: software products and the directory JWKS', function () {
  this.timeout(120_000);
  let web: WebApp;
  let partners: PartnersService;
  let software: SoftwareService;
  let directory: Directory;
  let keysDir: string;
  let alice: Agent;
  let mallory: Agent;
  let appId: string;
  let base: string;
  let jwks: JWK;

  const form = (over: Record<string, string | string[]> = {}) => ({
    name: 'Acme Aggregator',
    redirectUris: 'https://app.acme-payments.test/callback',
    roles: ['AIS', 'PIS'],
    jwks: JSON.stringify({ keys: [jwks] }),
    jwksUri: '',
    ...over,
  });

  before(async () => {
    const { eidas } = await sharedPki();
    keysDir = mkdtempSync(path.join(tmpdir(), 'directory-pages-'));
    directory = await createDirectory({ dataDir: keysDir, issuer: DIRECTORY_ISSUER });
    let register: RegisterService | null = null;
    web = await startWebApp({
      extraRouters: (ctx) => {
        register = createRegisterService({ db: ctx.db, tx: ctx.tx, audit: ctx.audit, now: ctx.now });
        partners = createPartnersService({ db: ctx.db, tx: ctx.tx, audit: ctx.audit, eidas, register, dataDir: ctx.dataDir, logger: ctx.logger, now: ctx.now });
        software = createSoftwareService({ db: ctx.db, tx: ctx.tx, audit: ctx.audit, partners, directory, now: ctx.now });
        return [directoryRouter(directory), applicantRouter({ partners }), softwareRouter({ software })];
      },
    });
    await (register as unknown as RegisterService).importSnapshot(readFileSync(DEV_REGISTER_FILE), {
      source: 'dev-eba-register.json',
      actor: { type: 'system', id: null, label: 'test' },
    });
    alice = web.agent();
    mallory = web.agent();
    await signUpAndEnrol(alice, ALICE);
    await signUpAndEnrol(mallory, MALLORY);
    // Approval through the service (the partners pages are tested elsewhere).
    const a = applicantActor(web, ALICE);
    const app = await partners.createApplication(a);
    await partners.saveProfile(a, app.id, acmeProfile());
    await partners.uploadCertificate(a, app.id, 'qwac', partnerCert((await sharedPki()).pki, 'acme-payments', 'qwac'));
    await partners.uploadCertificate(a, app.id, 'qseal', partnerCert((await sharedPki()).pki, 'acme-payments', 'qseal'));
    const done = await partners.submit(a, app.id);
    assert.equal(done.state, 'approved');
    appId = app.id;
    base = `/applications/${appId}`;
    const { publicKey } = await generateKeyPair('ES256', { extractable: true });
    jwks = { ...(await exportJWK(publicKey)), kid: 'acme-sig-1', use: 'sig' };
  });
  after(async () => {
    await web?.close();
    if (keysDir) rmSync(keysDir, { recursive: true, force: true });
  });

  it('the application page links to the software page, which renders the form with CSRF in every form and no-store', async () => {
    const overview = await page(alice, base);
    assert.equal(overview.status, 200);
    assert.match(overview.text, new RegExp(`<a href="${base}/software">Software products and statements</a>`));
    const r = await page(alice, `${base}/software`);
    assert.equal(r.status, 200);
    assert.equal(r.headers['cache-control'], 'no-store');
    assert.equal(assertCsrfInEveryForm(r.text).forms, 2); // declare + the layout's log-out
    assert.match(r.text, /No software product declared yet/);
    assert.match(r.text, /<label for="field-name">Name/);
    assert.match(r.text, /<textarea id="field-jwks" name="jwks"/);
    assert.match(r.text, /type="checkbox" id="role-AIS" name="roles" value="AIS" checked/);
    assert.match(r.text, /type="checkbox" id="role-PIS" name="roles" value="PIS" checked/);
    assert.doesNotMatch(r.text, /id="role-CBPII"/); // not an approved role
    assert.match(r.text, /<code>PSDDE-BAFIN-152645<\/code>/);
    assert.match(r.text, /href="\/directory\/jwks\.json"/);
    assert.doesNotMatch(r.text, /<script|style="/);
  });

  it('bad input is re-rendered (400) with errors next to the fields and the input kept (escaped); nothing changes', async () => {
    const { token } = assertCsrfInEveryForm((await page(alice, `${base}/software`)).text);
    const before = state(web);
    const bad = await post(alice, `${base}/software`, token, form({
      name: `App ${XSS}`,
      redirectUris: 'http://app.acme-payments.test/callback',
      roles: ['AIS', 'CBPII'],
      jwksUri: 'https://keys.acme-payments.test/jwks.json',
    }));
    assert.equal(bad.status, 400);
    assert.equal(errorCodeFrom(bad.text), 'input.invalid');
    assert.match(bad.text, /<p class="error" id="field-redirectUris-error">Redirect URI 1 \(http:\/\/app\.acme-payments\.test\/callback\) must start with https:\/\/\.<\/p>/);
    assert.match(bad.text, /<p class="error" id="field-roles-error">CBPII is not among your approved roles \(AIS, PIS\)\.<\/p>/);
    assert.match(bad.text, /<p class="error" id="field-keys-error">Give either a JWK Set or a jwks_uri, not both\.<\/p>/);
    // The input is kept, escaped.
    assert.match(bad.text, /value="App &lt;script&gt;alert\(1\)&lt;\/script&gt;"/);
    assert.doesNotMatch(bad.text, /<script>alert/);
    assert.match(bad.text, /name="redirectUris"[^>]*>http:\/\/app\.acme-payments\.test\/callback<\/textarea>/);
    assert.match(bad.text, /id="field-jwksUri" name="jwksUri" type="url" value="https:\/\/keys\.acme-payments\.test\/jwks\.json"/);
    assert.match(bad.text, /&#34;kid&#34;:&#34;acme-sig-1&#34;/);
    assert.match(bad.text, /type="checkbox" id="role-AIS" name="roles" value="AIS" checked/);
    assert.deepEqual(state(web), before);
  });

  it('missing or wrong CSRF token: 403 csrf.invalid for declare and revoke, nothing changes', async () => {
    const p = await software.declare(applicantActor(web, ALICE), appId, form({ name: 'CSRF target' }));
    const before = state(web);
    for (const t of [null, 'wrong-token']) {
      const declare = await post(alice, `${base}/software`, t, form());
      assert.equal(declare.status, 403);
      assert.equal(errorCodeFrom(declare.text), 'csrf.invalid');
      const revoke = await post(alice, `${base}/software/${p.id}/revoke`, t);
      assert.equal(revoke.status, 403);
      assert.equal(errorCodeFrom(revoke.text), 'csrf.invalid');
    }
    assert.deepEqual(state(web), before);
  });

  it('declares through the form (303), lists the product, downloads a statement that verifies with /directory/jwks.json, revokes it', async () => {
    const { token } = assertCsrfInEveryForm((await page(alice, `${base}/software`)).text);
    const r = await post(alice, `${base}/software`, token, form({ name: 'Acme Pages App', roles: 'AIS' }));
    assert.equal(r.status, 303);
    const m = new RegExp(`^${base}/software#software-([A-Za-z0-9_-]+)$`).exec(r.headers.location ?? '');
    assert.ok(m, r.headers.location);
    const id = m[1]!;
    const list = await page(alice, `${base}/software`);
    assert.match(list.text, /Software product “Acme Pages App” declared/);
    assert.match(list.text, new RegExp(`<li id="software-${id}">`));
    assert.match(list.text, new RegExp(`<a href="${base}/software/${id}/statement.jwt" download>`));
    assert.match(list.text, /AIS \(AISP\)/);
    assert.equal(assertCsrfInEveryForm(list.text).forms >= 3, true); // + the revoke form

    const before = state(web);
    const dl = await alice.get(`${base}/software/${id}/statement.jwt`);
    assert.equal(dl.status, 200);
    assert.equal(dl.headers['content-type'], 'application/jwt');
    assert.match(dl.headers['content-disposition'] ?? '', new RegExp(`^attachment; filename="?ssa-${id}\\.jwt"?$`));
    assert.equal(dl.headers['cache-control'], 'no-store');
    assert.equal(dl.headers['x-content-type-options'], 'nosniff');
    const jwt = Buffer.isBuffer(dl.body) && dl.body.length ? dl.body.toString('ascii') : dl.text;
    const keys = await alice.get('/directory/jwks.json');
    const { payload } = await jwtVerify(jwt, createLocalJWKSet(keys.body as { keys: JWK[] }), { issuer: DIRECTORY_ISSUER, algorithms: ['PS256'] });
    assert.equal(payload.software_id, id);
    assert.deepEqual(payload.software_roles, ['AISP']);
    assert.deepEqual(payload.software_jwks, { keys: [jwks] });
    assert.equal(state(web).statements, before.statements + 1);
    assert.equal(state(web).audit, before.audit + 1);

    const revoke = await post(alice, `${base}/software/${id}/revoke`, assertCsrfInEveryForm(list.text).token);
    assert.equal(revoke.status, 303);
    assert.equal(revoke.headers.location, `${base}/software`);
    const after = await page(alice, `${base}/software`);
    assert.match(after.text, /revoked: its statements can no longer register clients/);
    assert.match(after.text, new RegExp(`<li id="software-${id}">\\s*<h3>Acme Pages App <span class="badge badge-withdrawn">Revoked</span>`));
    assert.doesNotMatch(after.text, new RegExp(`${id}/statement.jwt`));
    const refused = await page(alice, `${base}/software/${id}/statement.jwt`);
    assert.equal(refused.status, 409);
    assert.equal(errorCodeFrom(refused.text), 'registration.software_revoked');
  });

  it('a suspended partner sees why (409 on declare, the form and download links gone)', async () => {
    const p = await software.declare(applicantActor(web, ALICE), appId, form({ name: 'Suspension' }));
    const view = await partners.getForApplicant(applicantActor(web, ALICE), appId);
    const { token } = assertCsrfInEveryForm((await page(alice, `${base}/software`)).text);
    await partners.suspendPartner(APPROVER_A, view.partner!.id, { reasonCode: 'OTHER', text: 'Investigation.' });
    try {
      const before = state(web);
      const r = await page(alice, `${base}/software`);
      assert.equal(r.status, 200);
      assert.match(r.text, /Your partnership is suspended/);
      assert.doesNotMatch(r.text, /action="[^"]*\/software" novalidate/);
      assert.doesNotMatch(r.text, new RegExp(`${p.id}/statement.jwt`));
      const declare = await post(alice, `${base}/software`, token, form());
      assert.equal(declare.status, 409);
      assert.equal(errorCodeFrom(declare.text), 'registration.partner_not_active');
      const dl = await page(alice, `${base}/software/${p.id}/statement.jwt`);
      assert.equal(dl.status, 409);
      assert.equal(errorCodeFrom(dl.text), 'registration.partner_not_active');
      assert.deepEqual(state(web), before);
    } finally {
      await partners.reinstatePartner(APPROVER_A, view.partner!.id, { text: 'Cleared.' });
    }
  });

  it("another applicant gets 404 not_found on every software route, with nothing leaked and nothing changed", async () => {
    const p = await software.declare(applicantActor(web, ALICE), appId, form({ name: 'Secret Product Name' }));
    const token = assertCsrfInEveryForm((await page(mallory, '/applications')).text).token;
    const before = state(web);
    for (const r of [
      await page(mallory, `${base}/software`),
      await page(mallory, `${base}/software/${p.id}/statement.jwt`),
      await post(mallory, `${base}/software`, token, form()),
      await post(mallory, `${base}/software/${p.id}/revoke`, token),
    ]) {
      assert.equal(r.status, 404, r.text.slice(0, 200));
      assert.equal(errorCodeFrom(r.text), 'not_found');
      assert.doesNotMatch(r.text, /Secret Product Name|PSDDE-BAFIN|Acme/);
      assert.doesNotMatch(r.text, new RegExp(p.id));
    }
    assert.deepEqual(state(web), before);
  });

  it('staff are refused (403 auth.forbidden) and a visitor is sent to the applicant login', async () => {
    const creds = await seedStaff(web, 'rita@bank.test', ['reviewer']);
    const rita = web.agent();
    await loginStaff(rita, creds);
    const r = await page(rita, `${base}/software`);
    assert.equal(r.status, 403);
    assert.equal(errorCodeFrom(r.text), 'auth.forbidden');
    const visitor = await page(web.agent(), `${base}/software`);
    assert.equal(visitor.status, 302);
    assert.equal(visitor.headers.location, `/login?next=${encodeURIComponent(`${base}/software`)}`);
  });

  it('GET /directory/jwks.json: the public keys only, cacheable for 5 minutes, as a JWK Set', async () => {
    const r = await web.agent().get('/directory/jwks.json');
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/jwk-set+json');
    assert.equal(r.headers['cache-control'], 'public, max-age=300');
    const set = JSON.parse(r.text) as { keys: Record<string, unknown>[] };
    assert.deepEqual(set, directory.publicJwks());
    assert.equal(set.keys.length, 1);
    for (const k of set.keys) {
      assert.deepEqual(Object.keys(k).sort(), ['alg', 'e', 'kid', 'kty', 'n', 'use']);
      for (const m of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth']) assert.equal(m in k, false, m);
    }
  });
});
