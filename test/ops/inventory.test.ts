/**
 * The API inventory on a whole running portal: every route of both listeners declares a policy (the list of
 * those that do not is the failure message), known routes carry the declarations they should, every declared
 * authentication is really required (each such route refuses an anonymous request), oidc-provider's endpoints
 * are listed from the provider and match the installed library's route table, and the pages are staff only.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import supertest from 'supertest';
import { fetch } from 'undici';
import { buildInventory, type Inventory, type InventoryEntry } from '../../src/ops/inventory.js';
import { PROVIDER_POLICIES, PROVIDER_ROUTES } from '../../src/ops/provider-endpoints.js';
import { signUpAndEnrol } from '../helpers/web.js';
import { startOpsPortal, type OpsHarness } from './harness.js';

describe('ops: API inventory', function () {
  this.timeout(120_000);
  let h: OpsHarness;
  let inv: Inventory;
  const find = (listener: string, method: string, p: string): InventoryEntry | undefined =>
    inv.entries.find((e) => e.listener === listener && e.method === method && e.path === p);

  before(async () => {
    h = await startOpsPortal();
    inv = buildInventory({ apps: h.apps, provider: h.portal.oauth.provider() });
  });
  after(async () => {
    await h?.stop();
  });

  it('every route of both listeners declares a policy', () => {
    const missing = inv.undeclared.map((u) => `${u.listener} ${u.method} ${u.path} (${u.source})`);
    assert.deepEqual(missing, [], `routes without a policy() declaration:\n  ${missing.join('\n  ')}`);
    assert.equal(inv.providerListed, true);
    assert.ok(inv.entries.length > 100, `only ${inv.entries.length} routes listed`);
    // Each (listener, method, path) once.
    const keys = inv.entries.map((e) => `${e.listener} ${e.method} ${e.path}`);
    assert.equal(new Set(keys).size, keys.length);
  });

  it('carries the declarations of known routes', () => {
    const accounts = find('mtls', 'GET', '/api/v1/accounts/:accountId/balances');
    assert.equal(accounts?.authentication, 'mtls+bound-token');
    assert.deepEqual(accounts?.scopes, ['accounts']);
    assert.match(accounts!.tokenBinding, /^cnf\.x5t#S256/);
    assert.match(accounts!.consent ?? '', /ReadBalances/);
    assert.deepEqual(find('mtls', 'POST', '/api/v1/domestic-payments')?.scopes, ['payments']);
    assert.deepEqual(find('mtls', 'POST', '/api/v1/account-access-consents')?.scopes, ['accounts']);
    assert.equal(find('mtls', 'DELETE', '/api/v1/domestic-payment-consents/:consentId')?.authentication, 'mtls+bound-token');

    const token = find('mtls', 'POST', '/oauth/token');
    assert.equal(token?.source, 'oidc-provider');
    assert.equal(token?.authentication, 'mtls-client-auth');
    assert.match(token!.tokenBinding, /certificate-bound/);
    assert.equal(find('mtls', 'POST', '/oauth/register')?.authentication, 'mtls+qwac');
    assert.equal(find('mtls', 'POST', '/oauth/register')?.source, 'express', 'the registration gate answers before the provider');
    for (const m of ['GET', 'PUT', 'DELETE']) assert.equal(find('mtls', m, '/oauth/register/:clientId')?.authentication, 'registration-access-token');
    assert.equal(find('mtls', 'GET', '/oauth/userinfo')?.authentication, 'mtls+bound-token');

    // The public listener hands only its declared endpoints to the provider.
    assert.equal(find('public', 'GET', '/oauth/.well-known/openid-configuration')?.authentication, 'none');
    assert.equal(find('public', 'POST', '/oauth/token'), undefined);
    assert.equal(find('public', 'GET', '/oauth/.well-known/oauth-authorization-server'), undefined);
    assert.equal(find('public', 'GET', '/oauth/interaction/:uid')?.authentication, 'interaction');

    assert.deepEqual(find('public', 'POST', '/staff/admin/staff/:id/roles')?.roles, ['admin']);
    assert.equal(find('public', 'GET', '/staff/partners/:id/activity')?.authentication, 'session:staff');
    assert.equal(find('public', 'GET', '/staff/inventory.json')?.authentication, 'session:staff');
    assert.equal(find('public', 'GET', '/customer/consents/:id')?.authentication, 'session:customer');
    assert.equal(find('public', 'GET', '/applications/:id/software')?.authentication, 'session:applicant');
    assert.equal(find('public', 'GET', '/login/totp')?.authentication, 'sign-in-step');
    for (const l of ['public', 'mtls']) assert.equal(find(l, 'GET', '/health/ready')?.authentication, 'none');
    // The bank's APIs are on the mutual-TLS listener only.
    assert.deepEqual(inv.entries.filter((e) => e.listener === 'public' && e.path.startsWith('/api/')), []);
  });

  it('every route that declares authentication refuses an anonymous request', async () => {
    const plain = h.client(null);
    const acme = h.client('acme-payments');
    const fill = (p: string) => p.replace(/:([A-Za-z]+)/g, (_m, name: string) => `${name}-${randomUUID().slice(0, 8)}`);
    const checked: string[] = [];
    const wrong: string[] = [];
    for (const e of inv.entries) {
      if (e.authentication === 'none') continue;
      // Public POSTs are refused by the CSRF check before any guard: they would prove nothing.
      if (e.listener === 'public' && e.method !== 'GET') continue;
      const base = e.listener === 'public' ? h.publicUrl : h.mtlsUrl;
      // Over mutual TLS with a valid QWAC but no token: the certificate alone must not be enough, except where it
      // is the authentication (registration), which then gets no certificate.
      const dispatcher = e.listener === 'public' || e.authentication === 'mtls+qwac' ? plain : acme;
      const body = e.method === 'POST' || e.method === 'PUT' ? '{}' : undefined;
      const r = await fetch(`${base}${fill(e.path)}`, {
        method: e.method,
        dispatcher,
        redirect: 'manual',
        headers: { accept: 'application/json', ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body } : {}),
      });
      await r.arrayBuffer();
      checked.push(`${e.listener} ${e.method} ${e.path}`);
      if (r.status < 300 || r.status >= 500) wrong.push(`${e.listener} ${e.method} ${e.path} → ${r.status}`);
    }
    assert.deepEqual(wrong, [], `answered an anonymous request:\n  ${wrong.join('\n  ')}`);
    assert.ok(checked.length > 40, `only ${checked.length} routes checked`);
  });

  it('lists the provider endpoints the installed oidc-provider can register, and has a policy for each one the portal enables', () => {
    const require = createRequire(import.meta.url);
    const lib = path.dirname(require.resolve('oidc-provider/package.json'));
    const source = readFileSync(path.join(lib, 'lib/helpers/initialize_app.js'), 'utf8');
    const names = new Set([...source.matchAll(/\b(?:get|post|put|del)\('([a-z_]+)'/g)].map((m) => m[1]!));
    const known = new Set(PROVIDER_ROUTES.map((r) => r.name ?? 'discovery'));
    assert.deepEqual([...names].filter((n) => !known.has(n)).sort(), [], 'oidc-provider routes missing from PROVIDER_ROUTES');
    const listed = new Set(inv.entries.filter((e) => e.source === 'oidc-provider').map((e) => e.path));
    for (const key of Object.keys(PROVIDER_POLICIES)) {
      const r = PROVIDER_ROUTES.find((x) => x.key === key)!;
      const shadowed = ['registration', 'client', 'client_update', 'client_delete'].includes(key);
      if (shadowed) continue;
      const p = `/oauth${r.path ?? h.portal.oauth.provider().pathFor(r.name!, { mountPath: '', uid: ':uid', clientId: ':clientId' }).replace(/%3A/g, ':')}`;
      assert.ok(listed.has(p), `${key} (${p}) not listed`);
    }
  });

  describe('pages', () => {
    it('shows the inventory to staff, as HTML and JSON', async () => {
      const staff = await h.staff(['reviewer']);
      const page = await staff.get('/staff/inventory').set('Accept', 'text/html');
      assert.equal(page.status, 200);
      assert.equal(page.headers['cache-control'], 'no-store');
      assert.match(page.text, /data-listener="mtls" data-method="GET" data-path="\/api\/v1\/accounts" data-auth="mtls\+bound-token"/);
      assert.match(page.text, /data-listener="public" data-method="GET" data-path="\/staff\/inventory" data-auth="session:staff"/);
      assert.doesNotMatch(page.text, /id="undeclared"/);
      const json = await staff.get('/staff/inventory.json').set('Accept', 'application/json');
      assert.equal(json.status, 200);
      assert.equal(json.body.providerListed, true);
      assert.deepEqual(json.body.undeclared, []);
      assert.equal(json.body.entries.length, inv.entries.length);
      assert.ok((json.body.entries as InventoryEntry[]).some((e) => e.path === '/oauth/token' && e.listener === 'mtls'));
    });

    it('refuses applicants (403 auth.forbidden) and sends the signed-out to the staff sign-in', async () => {
      const applicant = supertest.agent(h.publicUrl, { ca: h.ca });
      await signUpAndEnrol(applicant, `applicant-${randomUUID().slice(0, 8)}@example.test`);
      for (const p of ['/staff/inventory', '/staff/inventory.json']) {
        const r = await applicant.get(p).set('Accept', 'application/json');
        assert.equal(r.status, 403, p);
        assert.equal(r.body.code, 'auth.forbidden');
        assert.doesNotMatch(r.text, /mtls\+bound-token/);
      }
      const anonymous = await supertest(h.publicUrl).get('/staff/inventory.json').ca(h.ca);
      assert.equal(anonymous.status, 302);
      assert.equal(anonymous.headers.location, '/staff/login?next=%2Fstaff%2Finventory.json');
    });

    it('is not served on the mutual-TLS listener', async () => {
      const r = await h.request(h.client('acme-payments'), 'GET', `${h.mtlsUrl}/staff/inventory.json`);
      assert.equal(r.status, 404);
    });
  });
});
