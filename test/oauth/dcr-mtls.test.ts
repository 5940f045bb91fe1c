/**
 * Dynamic client registration and certificate-bound tokens end to end, over real mutual TLS: the demo partner
 * (Acme Payments, approved by policy) registers with the statement the demo seed wrote, gets tokens bound to its
 * QWAC, calls the protected API, manages its client (RFC 7592), and is stopped by suspension. Negative cases
 * are named after the OpenID conformance modules where one matches; each asserts status, error code and that
 * nothing was created.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { decodeJwt, importJWK, SignJWT, type JWK } from 'jose';
import supertest from 'supertest';
import type { Dispatcher } from 'undici';
import type { ActorRef } from '../../src/partners/types.js';
import { startOAuthPortal, type OAuthHarness } from './harness.js';

const APPROVER: ActorRef = { id: 'staff-test', kind: 'staff', label: 'approver@bank.test', roles: ['reviewer', 'approver'] };

describe('oauth: dynamic client registration and mutual-TLS bound tokens', function () {
  this.timeout(120_000);
  let h: OAuthHarness;
  let acme: Dispatcher;
  let nordic: Dispatcher;
  let none: Dispatcher;
  let ssa: string;
  let signingJwk: JWK;
  let softwareId: string;
  let issuer: string;
  let acmeThumbprint: string;

  const clients = () => h.count("SELECT COUNT(*) AS n FROM oauth_models WHERE model = 'Client'");
  const tokens = () => h.count("SELECT COUNT(*) AS n FROM oauth_models WHERE model IN ('AccessToken', 'ClientCredentials')");
  const reg = () => `${h.mtlsUrl}/oauth/register`;

  const signedRequest = (claims: Record<string, unknown> = {}, opts: { key?: JWK; alg?: string } = {}) =>
    h.signedRequest(claims, opts);

  async function register(dispatcher: Dispatcher, body: string) {
    return h.request(dispatcher, 'POST', reg(), { body, headers: { 'content-type': 'application/jwt' } });
  }

  async function token(dispatcher: Dispatcher, clientId: string, extra: Record<string, string> = {}) {
    return h.request(dispatcher, 'POST', `${h.mtlsUrl}/oauth/token`, {
      form: { grant_type: 'client_credentials', client_id: clientId, scope: 'accounts', ...extra },
    });
  }

  async function api(dispatcher: Dispatcher, accessToken: string) {
    return h.request(dispatcher, 'GET', `${h.mtlsUrl}/api/v1/connection`, { headers: { authorization: `Bearer ${accessToken}` } });
  }

  before(async () => {
    h = await startOAuthPortal();
    acme = h.client('acme-payments');
    nordic = h.client('nordic-insights');
    none = h.client(null);
    const dir = path.join(h.dir, 'certs', 'partners', 'acme-payments');
    ({ ssa, signingJwk, softwareId } = h.demo);
    issuer = h.portal.oauth.issuer();
    const qwac = readFileSync(path.join(dir, 'qwac.pem'), 'utf8');
    acmeThumbprint = createHash('sha256')
      .update(Buffer.from(qwac.replace(/-----[^-]+-----|\s/g, ''), 'base64'))
      .digest('base64url');
  });
  after(async () => h?.stop());

  describe('discovery', () => {
    it('EnsureServerConfigurationSupportsMTLS: aliases on the mutual-TLS listener, bound tokens, FAPI 2.0 defaults', async () => {
      const r = await h.request(none, 'GET', `${h.publicUrl}/oauth/.well-known/openid-configuration`);
      assert.equal(r.status, 200);
      const d = r.json;
      assert.equal(d.issuer, issuer);
      assert.equal(d.tls_client_certificate_bound_access_tokens, true);
      assert.equal(d.authorization_response_iss_parameter_supported, true);
      assert.equal(d.require_pushed_authorization_requests, true);
      assert.deepEqual(d.code_challenge_methods_supported, ['S256']);
      assert.deepEqual(d.token_endpoint_auth_methods_supported, ['tls_client_auth', 'private_key_jwt']);
      assert.equal(d.registration_endpoint, reg());
      const aliases = d.mtls_endpoint_aliases as Record<string, string>;
      for (const [k, suffix] of [
        ['token_endpoint', '/oauth/token'],
        ['pushed_authorization_request_endpoint', '/oauth/par'],
        ['introspection_endpoint', '/oauth/introspect'],
        ['revocation_endpoint', '/oauth/revoke'],
        ['registration_endpoint', '/oauth/register'],
      ]) {
        assert.equal(aliases[k!], `${h.mtlsUrl}${suffix}`, k);
      }
    });

    it('the directory publishes its statement keys at a stable URL; the statement verifies against them', async () => {
      const r = await h.request(none, 'GET', `${h.publicUrl}/directory/jwks.json`);
      assert.equal(r.status, 200);
      const keys = (r.json.keys as JWK[]).map((k) => k.kid);
      assert.ok(keys.includes(JSON.parse(Buffer.from(ssa.split('.')[0]!, 'base64url').toString()).kid));
    });

    it('the public listener refuses the mutual-TLS endpoints (registration, token) without touching them', async () => {
      const before = clients();
      const r = await h.request(none, 'POST', `${h.publicUrl}/oauth/register`, { json: { software_statement: ssa } });
      assert.equal(r.status, 400);
      assert.equal(r.json.error, 'invalid_request');
      const t = await h.request(none, 'POST', `${h.publicUrl}/oauth/token`, { form: { grant_type: 'client_credentials' } });
      assert.equal(t.status, 400);
      assert.equal(clients(), before);
    });
  });

  describe('registration, tokens and the protected API (happy path)', () => {
    let clientId: string;
    let rat: string;
    let clientUri: string;

    it('BrazilDCRHappyFlow: a signed registration over mutual TLS creates a certificate-bound tls_client_auth client', async () => {
      const before = clients();
      const r = await register(acme, await signedRequest());
      assert.equal(r.status, 201, r.text);
      const m = r.json;
      clientId = String(m.client_id);
      rat = String(m.registration_access_token);
      clientUri = String(m.registration_client_uri);
      assert.equal(m.tls_client_certificate_bound_access_tokens, true);
      assert.equal(m.token_endpoint_auth_method, 'tls_client_auth');
      assert.equal(m.tls_client_auth_subject_dn, '2.5.4.97=PSDDE-BAFIN-152645');
      assert.equal(m.org_id, 'PSDDE-BAFIN-152645');
      assert.equal(m.software_id, softwareId);
      assert.equal(m.software_statement, ssa);
      assert.equal(m.scope, 'accounts payments');
      assert.ok(clientUri.startsWith(`${h.mtlsUrl}/oauth/register/`));
      assert.equal(clients(), before + 1);
      const audit = h.count("SELECT COUNT(*) AS n FROM audit_events WHERE action = 'oauth.client.registered' AND subject_id = ?", clientId);
      assert.equal(audit, 1);
      // The one-time initial access token did not outlive the request.
      assert.equal(h.count("SELECT COUNT(*) AS n FROM oauth_models WHERE model = 'InitialAccessToken'"), 0);
    });

    it('client_credentials over mutual TLS: an opaque token bound to the QWAC (introspection shows cnf)', async () => {
      const r = await token(acme, clientId);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.token_type, 'Bearer');
      const at = String(r.json.access_token);
      assert.equal(at.split('.').length, 1);
      const i = await h.request(acme, 'POST', `${h.mtlsUrl}/oauth/introspect`, { form: { token: at, client_id: clientId } });
      assert.equal(i.status, 200, i.text);
      assert.equal(i.json.active, true);
      assert.deepEqual(i.json.cnf, { 'x5t#S256': acmeThumbprint });
      const api1 = await api(acme, at);
      assert.equal(api1.status, 200, api1.text);
      assert.equal(api1.json.client_id, clientId);
      assert.equal(api1.json.org_id, 'PSDDE-BAFIN-152645');
      assert.equal(api1.json.token_format, 'opaque');
    });

    it('a JWT access token for the bank API (resource indicator) carries cnf.x5t#S256 and the API audience', async () => {
      const r = await token(acme, clientId, { resource: h.portal.oauth.apiAudience() });
      assert.equal(r.status, 200, r.text);
      const claims = decodeJwt(String(r.json.access_token));
      assert.deepEqual(claims.cnf, { 'x5t#S256': acmeThumbprint });
      assert.equal(claims.aud, h.portal.oauth.apiAudience());
      assert.equal(claims.iss, issuer);
      const ok = await api(acme, String(r.json.access_token));
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.json.token_format, 'jwt');
    });

    it('FAPI2SPFinalEnsureHolderOfKeyRequired: the token over another certificate, or none, is refused', async () => {
      const at = String((await token(acme, clientId)).json.access_token);
      for (const [who, d] of [
        ['nordic', nordic],
        ['none', none],
      ] as const) {
        const r = await api(d, at);
        assert.equal(r.status, 401, who);
        assert.equal(r.json.error, 'invalid_token', who);
        assert.match(String(r.headers.get('www-authenticate')), /^Bearer realm="bank-api", error="invalid_token"/);
      }
    });

    it('mismatched certificate at the token endpoint: another organisation’s valid QWAC cannot use this client', async () => {
      const before = tokens();
      const r = await token(nordic, clientId);
      assert.equal(r.status, 401);
      assert.equal(r.json.error, 'invalid_client');
      const n = await token(none, clientId);
      assert.equal(n.status, 401);
      assert.equal(n.json.error, 'invalid_client');
      assert.equal(tokens(), before);
    });

    it('RFC 6750: no token, a token in the query, a malformed header, an unknown token', async () => {
      const r1 = await h.request(acme, 'GET', `${h.mtlsUrl}/api/v1/connection`);
      assert.equal(r1.status, 401);
      assert.equal(r1.headers.get('www-authenticate'), 'Bearer realm="bank-api"');
      const r2 = await h.request(acme, 'GET', `${h.mtlsUrl}/api/v1/connection?access_token=abc`);
      assert.equal(r2.status, 400);
      assert.equal(r2.json.error, 'invalid_request');
      const r3 = await h.request(acme, 'GET', `${h.mtlsUrl}/api/v1/connection`, { headers: { authorization: 'Basic abc' } });
      assert.equal(r3.status, 400);
      const r4 = await api(acme, 'unknown-token-value');
      assert.equal(r4.status, 401);
      assert.equal(r4.json.error, 'invalid_token');
    });

    it('a JWT access token signed by another key, or with alg none, is refused by the guard', async () => {
      const forged = await new SignJWT({ client_id: clientId, scope: 'accounts', cnf: { 'x5t#S256': acmeThumbprint } })
        .setProtectedHeader({ alg: 'PS256', typ: 'at+jwt', kid: signingJwk.kid! })
        .setIssuer(issuer)
        .setAudience(h.portal.oauth.apiAudience())
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(await importJWK(signingJwk, 'PS256'));
      const r = await api(acme, forged);
      assert.equal(r.status, 401);
      assert.equal(r.json.error, 'invalid_token');
      const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url');
      const body = Buffer.from(JSON.stringify({ client_id: clientId, iss: issuer, aud: h.portal.oauth.apiAudience(), exp: 9999999999, cnf: { 'x5t#S256': acmeThumbprint } })).toString('base64url');
      for (const unsigned of [`${header}.${body}.`, `${header}.${body}.AAAA`]) {
        const r2 = await api(acme, unsigned);
        assert.equal(r2.status, 401);
        assert.equal(r2.json.error, 'invalid_token');
      }
    });

    it('revocation over mutual TLS ends the token at once', async () => {
      const at = String((await token(acme, clientId)).json.access_token);
      const r = await h.request(acme, 'POST', `${h.mtlsUrl}/oauth/revoke`, { form: { token: at, client_id: clientId } });
      assert.equal(r.status, 200);
      const after = await api(acme, at);
      assert.equal(after.status, 401);
    });

    it('the same software again: refused with the documented RFC 7592 pointer, nothing created', async () => {
      const before = clients();
      const r = await register(acme, await signedRequest());
      assert.equal(r.status, 400);
      assert.equal(r.json.error, 'unapproved_software_statement');
      assert.match(String(r.json.error_description), /RFC 7592/);
      assert.equal(clients(), before);
    });

    it('RFC 7592 read with the registration access token, over the organisation’s QWAC only', async () => {
      const r = await h.request(acme, 'GET', clientUri, { headers: { authorization: `Bearer ${rat}` } });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.client_id, clientId);
      const other = await h.request(nordic, 'GET', clientUri, { headers: { authorization: `Bearer ${rat}` } });
      assert.equal(other.status, 403);
    });

    it('BrazilDCRInvalidRegistrationAccessToken: a wrong token is 401 invalid_token', async () => {
      const r = await h.request(acme, 'GET', clientUri, { headers: { authorization: 'Bearer wrong' } });
      assert.equal(r.status, 401);
      assert.equal(r.json.error, 'invalid_token');
    });

    it('BrazilDCRUpdateClientConfig: PUT re-checks the request and rotates the registration access token', async () => {
      const r = await h.request(acme, 'PUT', clientUri, {
        body: await signedRequest({ scope: 'accounts' }),
        headers: { authorization: `Bearer ${rat}`, 'content-type': 'application/jwt' },
      });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.scope, 'accounts');
      assert.notEqual(r.json.registration_access_token, rat);
      const old = await h.request(acme, 'GET', clientUri, { headers: { authorization: `Bearer ${rat}` } });
      assert.equal(old.status, 401);
      rat = String(r.json.registration_access_token);
    });

    it('officers see the partner’s registered clients; a visitor is sent to the staff login', async () => {
      const partner = await h.portal.partners.partnerForOrganization('PSDDE-BAFIN-152645');
      const officer = await h.staff(['reviewer']);
      const page = await officer.get(`/staff/partners/${partner!.id}/clients`).set('Accept', 'text/html');
      assert.equal(page.status, 200);
      assert.match(page.text, new RegExp(`<code>${clientId}</code>`));
      assert.match(page.text, new RegExp(softwareId));
      const list = await officer.get('/staff/partners').set('Accept', 'text/html');
      assert.match(list.text, new RegExp(`/staff/partners/${partner!.id}/clients`));
      const unknown = await officer.get('/staff/partners/nope/clients').set('Accept', 'text/html');
      assert.equal(unknown.status, 404);
      const visitor = await supertest.agent(h.publicUrl, { ca: h.ca }).get(`/staff/partners/${partner!.id}/clients`).set('Accept', 'text/html');
      assert.equal(visitor.status, 302);
      assert.match(String(visitor.headers.location), /^\/staff\/login/);
    });

    it('suspension stops token issuance and API calls at once and revokes grants; reinstatement restores', async () => {
      const partner = await h.portal.partners.partnerForOrganization('PSDDE-BAFIN-152645');
      assert.ok(partner);
      const opaque = String((await token(acme, clientId)).json.access_token);
      const jwt = String((await token(acme, clientId, { resource: h.portal.oauth.apiAudience() })).json.access_token);
      await h.portal.partners.suspendPartner(APPROVER, partner.id, { reasonCode: 'FRAUD_GROUNDS', text: 'test' });
      assert.equal(h.count("SELECT COUNT(*) AS n FROM oauth_models WHERE client_id = ? AND model IN ('AccessToken','ClientCredentials')", clientId), 0);
      const t = await token(acme, clientId);
      assert.equal(t.status, 401, t.text);
      assert.equal(t.json.error, 'invalid_client');
      assert.match(String(t.json.error_description), /suspended/);
      assert.equal((await api(acme, opaque)).status, 401);
      const j = await api(acme, jwt);
      assert.equal(j.status, 401);
      assert.match(String(j.json.error_description), /suspended/);
      // A suspended partner cannot register another client either.
      await h.portal.partners.reinstatePartner(APPROVER, partner.id, { text: 'resolved' });
      const again = await token(acme, clientId);
      assert.equal(again.status, 200);
      assert.equal((await api(acme, jwt)).status, 200, 'a JWT issued before suspension works again only until it expires');
    });

    it('BrazilDCRClientDeletion: DELETE removes the client and its tokens; the token endpoint and API refuse it', async () => {
      const at = String((await token(acme, clientId)).json.access_token);
      const r = await h.request(acme, 'DELETE', clientUri, { headers: { authorization: `Bearer ${rat}` } });
      assert.equal(r.status, 204);
      assert.equal(h.count('SELECT COUNT(*) AS n FROM oauth_models WHERE client_id = ?', clientId), 0);
      const t = await token(acme, clientId);
      assert.equal(t.status, 401);
      assert.equal(t.json.error, 'invalid_client');
      assert.equal((await api(acme, at)).status, 401);
      const read = await h.request(acme, 'GET', clientUri, { headers: { authorization: `Bearer ${rat}` } });
      assert.equal(read.status, 401);
    });
  });

  describe('regulated fast lane over HTTP', () => {
    it('Nordic Insights registers with its QWAC alone; the partner appears; it cannot introspect or revoke Acme’s tokens', async () => {
      assert.equal(await h.portal.partners.partnerForOrganization('PSDSE-FINA-44059'), null);
      const r = await h.request(nordic, 'POST', reg(), {
        json: { token_endpoint_auth_method: 'tls_client_auth', grant_types: ['client_credentials'], scope: 'accounts' },
      });
      assert.equal(r.status, 201, r.text);
      assert.equal(r.json.org_id, 'PSDSE-FINA-44059');
      const partner = await h.portal.partners.partnerForOrganization('PSDSE-FINA-44059');
      assert.equal(partner?.status, 'active');
      assert.equal(partner?.origin, 'registration_fast_lane');
      const nordicClient = String(r.json.client_id);
      const nt = await token(nordic, nordicClient);
      assert.equal(nt.status, 200, nt.text);
      // Payments are beyond its QWAC (PSP_AI only).
      const pay = await token(nordic, nordicClient, { scope: 'payments' });
      assert.equal(pay.status, 400);
      assert.equal(pay.json.error, 'invalid_scope');

      // Acme's token, seen from Nordic's client: inactive to introspection, and not revocable.
      const acmeReg = await register(acme, await signedRequest({ scope: 'accounts' }));
      assert.equal(acmeReg.status, 201, acmeReg.text);
      const acmeClient = String(acmeReg.json.client_id);
      const at = String((await token(acme, acmeClient)).json.access_token);
      const i = await h.request(nordic, 'POST', `${h.mtlsUrl}/oauth/introspect`, { form: { token: at, client_id: nordicClient } });
      assert.equal(i.status, 200);
      assert.deepEqual(i.json, { active: false });
      await h.request(nordic, 'POST', `${h.mtlsUrl}/oauth/revoke`, { form: { token: at, client_id: nordicClient } });
      assert.equal((await api(acme, at)).status, 200, 'Acme’s token survives another partner’s revocation attempt');
      await h.request(acme, 'DELETE', String(acmeReg.json.registration_client_uri), {
        headers: { authorization: `Bearer ${String(acmeReg.json.registration_access_token)}` },
      });
    });
  });

  describe('registration refused over HTTP (nothing created)', () => {
    async function refused(d: Dispatcher, body: string, status: number, error: string, contentType = 'application/jwt') {
      const before = clients();
      const r = await h.request(d, 'POST', reg(), { body, headers: { 'content-type': contentType } });
      assert.equal(r.status, status, r.text);
      assert.equal(r.json.error, error);
      assert.equal(clients(), before);
      return r;
    }

    it('BrazilDCRNoMTLS', async () => refused(none, await signedRequest(), 400, 'invalid_client_metadata'));
    it('BrazilDCRBadMTLS: a QWAC from the rogue CA', async () => refused(h.client('bad/rogue-ca'), await signedRequest(), 400, 'invalid_client_metadata'));
    it('BrazilDCRBadMTLS: an expired QWAC', async () => refused(h.client('bad/expired'), await signedRequest(), 400, 'invalid_client_metadata'));
    it('BrazilDCRNoSoftwareStatement with another organisation’s statement', async () => refused(nordic, await signedRequest(), 400, 'unapproved_software_statement'));
    it('alg none', async () => {
      const header = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
      const body = Buffer.from(JSON.stringify({ iss: softwareId, software_statement: ssa })).toString('base64url');
      await refused(acme, `${header}.${body}.`, 400, 'invalid_client_metadata');
    });
    it('a replayed registration request (same jti)', async () => {
      const body = await signedRequest({ scope: 'accounts' }, {});
      // First use is refused later (the software is registered? no: the client was deleted above) — register, delete, replay.
      const first = await h.request(acme, 'POST', reg(), { body, headers: { 'content-type': 'application/jwt' } });
      assert.equal(first.status, 201, first.text);
      await h.request(acme, 'DELETE', String(first.json.registration_client_uri), {
        headers: { authorization: `Bearer ${String(first.json.registration_access_token)}` },
      });
      await refused(acme, body, 400, 'invalid_client_metadata');
    });
    it('an oversized body is 413 before anything is parsed', async () => {
      const before = clients();
      const r = await h.request(acme, 'POST', reg(), { body: 'x'.repeat(70 * 1024), headers: { 'content-type': 'application/jwt' } });
      assert.equal(r.status, 413);
      assert.equal(r.json.error, 'invalid_client_metadata');
      assert.equal(clients(), before);
    });
    it('a forged proxy certificate header from a peer that is not a trusted proxy is refused and audited', async () => {
      const before = clients();
      const audits = h.count("SELECT COUNT(*) AS n FROM audit_events WHERE action = 'mtls.certificate_header.refused'");
      const der = readFileSync(path.join(h.dir, 'certs', 'partners', 'acme-payments', 'qwac.pem'), 'utf8').replace(/-----[^-]+-----|\s/g, '');
      const r = await h.request(nordic, 'POST', reg(), {
        body: await signedRequest(),
        headers: { 'content-type': 'application/jwt', 'client-cert': `:${der}:` },
      });
      assert.equal(r.status, 400);
      assert.equal(r.json.code, 'certificate.header_untrusted');
      assert.equal(clients(), before);
      assert.equal(h.count("SELECT COUNT(*) AS n FROM audit_events WHERE action = 'mtls.certificate_header.refused'"), audits + 1);
    });
  });
});
