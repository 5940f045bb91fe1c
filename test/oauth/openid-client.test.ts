/**
 * A real client: openid-client v6 (panva, the certified relying-party library) over mutual TLS registers with
 * the demo partner's statement, gets certificate-bound tokens, calls the protected API, introspects and revokes
 * its tokens — and is refused when it presents another organisation's QWAC. Nothing here is hand-built HTTP:
 * every request is made and every response checked by openid-client, so this is what a partner's server built
 * on it sees.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { decodeJwt } from 'jose';
import * as client from 'openid-client';
import { fetch, type Dispatcher } from 'undici';
import { x509 } from '../../src/eidas/x509.js';
import { startOAuthPortal, type OAuthHarness } from './harness.js';

/**
 * openid-client's `customFetch` over an undici Agent that presents a client certificate. undici's own `fetch`
 * is used, so that the Agent and the fetch come from the same undici version (Node 20's global fetch bundles
 * an older undici). Its Response is not the global class, but oauth4webapi (under openid-client) checks
 * responses by `Symbol.toStringTag` as well as `instanceof`, so it accepts them; the tests below would fail at
 * the first response if it did not.
 */
function mtlsFetch(dispatcher: Dispatcher): client.CustomFetch {
  return (url, options) =>
    fetch(url, { ...options, dispatcher } as Parameters<typeof fetch>[1]) as unknown as Promise<Response>;
}

describe('oauth: openid-client v6 as the partner’s relying party over mutual TLS', function () {
  this.timeout(60_000);
  let h: OAuthHarness;
  let issuer: URL;
  let acmeFetch: client.CustomFetch;
  let nordicFetch: client.CustomFetch;
  let acmeThumbprint: string;
  let registered: client.Configuration;
  let config: client.Configuration;
  let clientId: string;

  /** A configuration for the registered client: discovery, TLS client auth, mutual-TLS endpoint aliases. */
  const configFor = (id: string, fetchFn: client.CustomFetch) =>
    client.discovery(issuer, id, { use_mtls_endpoint_aliases: true }, client.TlsClientAuth(), {
      [client.customFetch]: fetchFn,
    });

  const clients = () => h.count("SELECT COUNT(*) AS n FROM oauth_models WHERE model = 'Client'");
  const tokens = () => h.count("SELECT COUNT(*) AS n FROM oauth_models WHERE model IN ('AccessToken', 'ClientCredentials')");

  before(async () => {
    // A portal of its own: this file registers and deletes the demo software, and must not meet other files' clients.
    h = await startOAuthPortal();
    issuer = new URL(h.portal.oauth.issuer());
    acmeFetch = mtlsFetch(h.client('acme-payments'));
    nordicFetch = mtlsFetch(h.client('nordic-insights'));
    const qwac = readFileSync(path.join(h.dir, 'certs', 'partners', 'acme-payments', 'qwac.pem'), 'utf8');
    acmeThumbprint = Buffer.from(await new x509.X509Certificate(qwac).getThumbprint('SHA-256')).toString('base64url');
  });
  after(async () => h?.stop());

  it('discovery through openid-client: the issuer, and mutual-TLS aliases for the token, introspection, revocation and registration endpoints', async () => {
    const c = await configFor('not-registered-yet', acmeFetch);
    const as = c.serverMetadata();
    assert.equal(as.issuer, issuer.href);
    assert.equal(as.tls_client_certificate_bound_access_tokens, true);
    assert.equal(as.token_endpoint, `${h.publicUrl}/oauth/token`);
    assert.equal(as.mtls_endpoint_aliases?.token_endpoint, `${h.mtlsUrl}/oauth/token`);
    assert.equal(as.mtls_endpoint_aliases?.introspection_endpoint, `${h.mtlsUrl}/oauth/introspect`);
    assert.equal(as.mtls_endpoint_aliases?.revocation_endpoint, `${h.mtlsUrl}/oauth/revoke`);
    assert.equal(as.registration_endpoint, `${h.mtlsUrl}/oauth/register`);
  });

  it('dynamicClientRegistration with the software statement (JSON) over mutual TLS creates a bound tls_client_auth client', async () => {
    const before = clients();
    registered = await client.dynamicClientRegistration(
      issuer,
      {
        software_statement: h.demo.ssa,
        token_endpoint_auth_method: 'tls_client_auth',
        grant_types: ['client_credentials'],
        scope: 'accounts payments',
        use_mtls_endpoint_aliases: true,
      },
      client.TlsClientAuth(),
      { [client.customFetch]: acmeFetch },
    );
    const m = registered.clientMetadata();
    clientId = m.client_id;
    assert.match(clientId, /\S{8,}/);
    assert.equal(m.token_endpoint_auth_method, 'tls_client_auth');
    assert.equal(m.tls_client_certificate_bound_access_tokens, true);
    assert.equal(m.software_id, h.demo.softwareId);
    assert.equal(m.org_id, 'PSDDE-BAFIN-152645');
    assert.equal(typeof m.registration_access_token, 'string');
    assert.ok(String(m.registration_client_uri).startsWith(`${h.mtlsUrl}/oauth/register/`));
    assert.equal(clients(), before + 1);
    // The registration response does not echo use_mtls_endpoint_aliases (a client-side choice, not registered
    // metadata), so the configuration the partner keeps is built from discovery with it.
    assert.equal(m.use_mtls_endpoint_aliases, undefined);
    config = await configFor(clientId, acmeFetch);
  });

  it('clientCredentialsGrant for the API audience: a JWT whose cnf.x5t#S256 is the QWAC’s thumbprint; fetchProtectedResource answers 200', async () => {
    const t = await client.clientCredentialsGrant(config, { scope: 'accounts', resource: h.portal.oauth.apiAudience() });
    assert.equal(t.token_type.toLowerCase(), 'bearer');
    assert.equal(t.scope, 'accounts');
    assert.ok(t.expiresIn()! > 0);
    const claims = decodeJwt(t.access_token);
    assert.deepEqual(claims.cnf, { 'x5t#S256': acmeThumbprint });
    assert.equal(claims.aud, h.portal.oauth.apiAudience());
    assert.equal(claims.iss, issuer.href);
    assert.equal(claims.client_id, clientId);
    const r = await client.fetchProtectedResource(config, t.access_token, new URL(`${h.mtlsUrl}/api/v1/connection`), 'GET');
    assert.equal(r.status, 200);
    const body = (await r.json()) as Record<string, unknown>;
    assert.equal(body.client_id, clientId);
    assert.equal(body.org_id, 'PSDDE-BAFIN-152645');
    assert.equal(body.token_format, 'jwt');
  });

  it('an opaque token (no resource) works the same; tokenIntrospection shows it active and bound', async () => {
    const t = await client.clientCredentialsGrant(config, { scope: 'accounts' });
    assert.equal(t.access_token.split('.').length, 1, 'opaque, not a JWT');
    const r = await client.fetchProtectedResource(config, t.access_token, new URL(`${h.mtlsUrl}/api/v1/connection`), 'GET');
    assert.equal(r.status, 200);
    const body = (await r.json()) as Record<string, unknown>;
    assert.equal(body.client_id, clientId);
    assert.equal(body.token_format, 'opaque');
    const i = await client.tokenIntrospection(config, t.access_token);
    assert.equal(i.active, true);
    assert.equal(i.client_id, clientId);
    assert.equal(i.scope, 'accounts');
    assert.deepEqual(i.cnf, { 'x5t#S256': acmeThumbprint });
  });

  it('tokenRevocation over mutual TLS ends the token: introspection says inactive and the API answers 401 invalid_token', async () => {
    const t = await client.clientCredentialsGrant(config, { scope: 'accounts' });
    await client.tokenRevocation(config, t.access_token);
    assert.deepEqual(await client.tokenIntrospection(config, t.access_token), { active: false });
    await assert.rejects(
      client.fetchProtectedResource(config, t.access_token, new URL(`${h.mtlsUrl}/api/v1/connection`), 'GET'),
      (err: unknown) => {
        assert.ok(err instanceof client.WWWAuthenticateChallengeError, String(err));
        assert.equal(err.status, 401);
        assert.equal(err.cause[0]?.parameters.error, 'invalid_token');
        return true;
      },
    );
  });

  it('the bound token presented over Nordic Insights’ QWAC: 401 invalid_token from the API', async () => {
    const t = await client.clientCredentialsGrant(config, { scope: 'accounts', resource: h.portal.oauth.apiAudience() });
    const other = await configFor(clientId, nordicFetch);
    await assert.rejects(
      client.fetchProtectedResource(other, t.access_token, new URL(`${h.mtlsUrl}/api/v1/connection`), 'GET'),
      (err: unknown) => {
        assert.ok(err instanceof client.WWWAuthenticateChallengeError, String(err));
        assert.equal(err.status, 401);
        assert.equal(err.cause[0]?.parameters.error, 'invalid_token');
        return true;
      },
    );
  });

  it('the same client over Nordic Insights’ QWAC: the token request fails with ResponseBodyError invalid_client (401), no token issued', async () => {
    const other = await configFor(clientId, nordicFetch);
    const before = tokens();
    await assert.rejects(client.clientCredentialsGrant(other, { scope: 'accounts' }), (err: unknown) => {
      assert.ok(err instanceof client.ResponseBodyError, String(err));
      assert.equal(err.error, 'invalid_client');
      assert.equal(err.status, 401);
      return true;
    });
    assert.equal(tokens(), before);
  });

  it('RFC 7592 delete with the registration access token; openid-client then gets invalid_client', async () => {
    const m = registered.clientMetadata();
    const r = await acmeFetch(String(m.registration_client_uri), {
      method: 'DELETE',
      headers: { authorization: `Bearer ${String(m.registration_access_token)}` },
      body: undefined,
      redirect: 'manual',
    });
    assert.equal(r.status, 204);
    assert.equal(h.count('SELECT COUNT(*) AS n FROM oauth_models WHERE client_id = ?', clientId), 0);
    await assert.rejects(client.clientCredentialsGrant(config, { scope: 'accounts' }), (err: unknown) => {
      assert.ok(err instanceof client.ResponseBodyError, String(err));
      assert.equal(err.error, 'invalid_client');
      assert.equal(err.status, 401);
      return true;
    });
  });
});
