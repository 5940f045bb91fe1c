/**
 * Certificates over time: a renewed QWAC of the same organisation from the same QTSP keeps the registered
 * client working (the binding is organisation + issuing-CA key, not one certificate or a DN string); the
 * approved QWAC found revoked stops issuance and API calls, revokes what was bound to it and suspends the partner.
 */
import assert from 'node:assert/strict';
import { renewedPartnerCertificate } from '../helpers/devpki.js';
import { startOAuthPortal, type OAuthHarness } from './harness.js';
import type { Dispatcher } from 'undici';

const DAY = 86_400_000;

describe('oauth: certificate renewal and revocation', function () {
  this.timeout(120_000);
  let h: OAuthHarness;
  let acme: Dispatcher;
  let clientId: string;

  const token = (d: Dispatcher, extra: Record<string, string> = {}) =>
    h.request(d, 'POST', `${h.mtlsUrl}/oauth/token`, { form: { grant_type: 'client_credentials', client_id: clientId, scope: 'accounts', ...extra } });
  const api = (d: Dispatcher, at: string) =>
    h.request(d, 'GET', `${h.mtlsUrl}/api/v1/connection`, { headers: { authorization: `Bearer ${at}` } });

  /** A new QWAC for Acme Payments from the dev QTSP's QWAC CA: same subject and roles, a new key. */
  async function renewedAcmeQwac(): Promise<Dispatcher> {
    const { pem, key } = await renewedPartnerCertificate(h.pki, 'acme-payments', 'qwac', { notAfter: new Date(Date.now() + 365 * DAY) });
    return h.clientWith(pem, key);
  }

  before(async () => {
    h = await startOAuthPortal();
    acme = h.client('acme-payments');
    const r = await h.request(acme, 'POST', `${h.mtlsUrl}/oauth/register`, {
      body: await h.signedRequest(),
      headers: { 'content-type': 'application/jwt' },
    });
    assert.equal(r.status, 201, r.text);
    clientId = String(r.json.client_id);
  });
  after(async () => h?.stop());

  it('a renewed QWAC of the same organisation from the same QTSP gets tokens for the registered client', async () => {
    const renewed = await renewedAcmeQwac();
    const t = await token(renewed);
    assert.equal(t.status, 200, t.text);
    const at = String(t.json.access_token);
    assert.equal((await api(renewed, at)).status, 200);
    // Bound to the renewed certificate: the old one cannot use it.
    assert.equal((await api(acme, at)).status, 401);
  });

  it('the approved QWAC found revoked: the request is refused, its tokens revoked, the partner suspended', async () => {
    const before = String((await token(acme)).json.access_token);
    assert.equal((await api(acme, before)).status, 200);
    const acmeDev = h.pki.partners.find((p) => p.slug === 'acme-payments')!;
    h.responder.revoke(acmeDev.qwac.cert.serialNumber, 'keyCompromise');
    // Stands in for the cache windows passing (report cache 60 s, OCSP answers until their nextUpdate).
    h.portal.eidas.clearCaches();
    h.portal.oauth.certificates.clear();

    const r = await api(h.client('acme-payments'), before);
    assert.equal(r.status, 401);
    assert.equal(r.json.error, 'invalid_token');
    assert.equal(
      h.count("SELECT COUNT(*) AS n FROM oauth_models WHERE client_id = ? AND model IN ('AccessToken', 'ClientCredentials')", clientId),
      0,
    );
    const partner = await h.portal.partners.partnerForOrganization('PSDDE-BAFIN-152645');
    assert.equal(partner?.status, 'suspended');
    assert.equal(partner?.statusReasonCode, 'CERTIFICATE_REVOKED');
    assert.equal(h.count("SELECT COUNT(*) AS n FROM audit_events WHERE action = 'partner.suspended' AND actor_type = 'system'"), 1);
    // No new tokens, neither with the revoked certificate nor with the renewed one: the partner is suspended.
    const t = await token(h.client('acme-payments'));
    assert.equal(t.status, 401);
    assert.equal(t.json.error, 'invalid_client');
  });
});
