/**
 * Behind a TLS-terminating proxy: the portal believes the RFC 9440 Client-Cert header from a configured proxy
 * address (here loopback, which then stands for the proxy), registers, binds tokens and guards the API with the
 * certificate the proxy forwarded.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import type { Dispatcher } from 'undici';
import { startOAuthPortal, type OAuthHarness } from './harness.js';

describe('oauth: client certificate from a trusted proxy (RFC 9440)', function () {
  this.timeout(120_000);
  let h: OAuthHarness;
  let proxy: Dispatcher;
  const der = (slug: string, file: string) =>
    readFileSync(path.join(h.dir, 'certs', ...(slug ? ['partners', slug] : ['ca']), file), 'utf8').replace(/-----[^-]+-----|\s/g, '');
  const headers = (slug: string) => ({ 'client-cert': `:${der(slug, 'qwac.pem')}:`, 'client-cert-chain': `:${der('', 'qwac-ca.pem')}:` });

  before(async () => {
    h = await startOAuthPortal({ TRUSTED_PROXIES: '127.0.0.1' });
    proxy = h.client(null);
  });
  after(async () => h?.stop());

  it('registers, gets a token bound to the forwarded certificate and calls the API through the proxy', async () => {
    const r = await h.request(proxy, 'POST', `${h.mtlsUrl}/oauth/register`, {
      body: await h.signedRequest(),
      headers: { 'content-type': 'application/jwt', ...headers('acme-payments') },
    });
    assert.equal(r.status, 201, r.text);
    const clientId = String(r.json.client_id);
    const t = await h.request(proxy, 'POST', `${h.mtlsUrl}/oauth/token`, {
      form: { grant_type: 'client_credentials', client_id: clientId, scope: 'accounts' },
      headers: headers('acme-payments'),
    });
    assert.equal(t.status, 200, t.text);
    const at = String(t.json.access_token);
    const thumbprint = createHash('sha256').update(Buffer.from(der('acme-payments', 'qwac.pem'), 'base64')).digest('base64url');
    const ok = await h.request(proxy, 'GET', `${h.mtlsUrl}/api/v1/connection`, {
      headers: { authorization: `Bearer ${at}`, ...headers('acme-payments') },
    });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.json.certificate_thumbprint, thumbprint);
    // Another certificate forwarded by the proxy, or none: the bound token is refused.
    const other = await h.request(proxy, 'GET', `${h.mtlsUrl}/api/v1/connection`, {
      headers: { authorization: `Bearer ${at}`, ...headers('nordic-insights') },
    });
    assert.equal(other.status, 401);
    const none = await h.request(proxy, 'GET', `${h.mtlsUrl}/api/v1/connection`, { headers: { authorization: `Bearer ${at}` } });
    assert.equal(none.status, 401);
  });

  it('a malformed header from the proxy is 400 certificate.header_malformed, nothing created', async () => {
    const before = h.count("SELECT COUNT(*) AS n FROM oauth_models WHERE model = 'Client'");
    const r = await h.request(proxy, 'POST', `${h.mtlsUrl}/oauth/register`, {
      body: await h.signedRequest(),
      headers: { 'content-type': 'application/jwt', 'client-cert': ':bm90IGEgY2VydGlmaWNhdGU=:' },
    });
    assert.equal(r.status, 400);
    assert.equal(r.json.code, 'certificate.header_malformed');
    assert.equal(h.count("SELECT COUNT(*) AS n FROM oauth_models WHERE model = 'Client'"), before);
  });
});

/** fetch cannot set Host; node's https can. */
function withHost(url: string, host: string, ca: string, method = 'GET', body?: string, tls: { cert?: string; key?: string } = {}) {
  return new Promise<{ status: number; text: string }>((resolve, reject) => {
    const u = new URL(url);
    const req = https.request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname,
        method,
        ca,
        servername: 'localhost',
        agent: false,
        headers: { host, accept: 'application/json', ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
        ...tls,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('oauth: configured external URLs', function () {
  this.timeout(120_000);
  let h: OAuthHarness;
  before(async () => {
    h = await startOAuthPortal({ PUBLIC_URL: 'https://portal.bank.test', MTLS_URL: 'https://mtls.bank.test:8443' });
  });
  after(async () => h?.stop());

  it('discovery names the configured hosts; a forged Host header is 421 and never reflected', async () => {
    const discovery = `${h.publicUrl}/oauth/.well-known/openid-configuration`;
    const ok = await withHost(discovery, 'portal.bank.test', h.ca);
    assert.equal(ok.status, 200, ok.text);
    const d = JSON.parse(ok.text) as Record<string, unknown>;
    assert.equal(d.issuer, 'https://portal.bank.test/oauth');
    assert.equal(d.token_endpoint, 'https://portal.bank.test/oauth/token');
    assert.equal((d.mtls_endpoint_aliases as Record<string, string>).token_endpoint, 'https://mtls.bank.test:8443/oauth/token');
    const forged = await withHost(discovery, 'evil.example', h.ca);
    assert.equal(forged.status, 421);
    assert.doesNotMatch(forged.text, /evil\.example/);
    const acme = path.join(h.dir, 'certs', 'partners', 'acme-payments');
    const mtls = await withHost(`${h.mtlsUrl}/oauth/token`, 'evil.example', h.ca, 'POST', 'grant_type=client_credentials&client_id=x', {
      cert: readFileSync(path.join(acme, 'qwac-chain.pem'), 'utf8'),
      key: readFileSync(path.join(acme, 'qwac.key'), 'utf8'),
    });
    assert.equal(mtls.status, 421);
  });
});
