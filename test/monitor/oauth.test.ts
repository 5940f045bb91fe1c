/**
 * The whole portal (dev PKI with its OCSP responder, demo seed, both listeners): Acme's server registers a
 * client and gets a bound token; then its approved QWAC is revoked at the OCSP responder. The monitor's pass
 * (no request from Acme involved) suspends the partner and its tokens go with it; the next API call with the
 * token issued before is refused.
 */
import assert from 'node:assert/strict';
import type { Dispatcher } from 'undici';
import { createLogger } from '../../src/logger.js';
import { createMonitor } from '../../src/monitor/service.js';
import type { NotifyRequest } from '../../src/monitor/types.js';
import { startOAuthPortal, type OAuthHarness } from '../oauth/harness.js';

describe('monitor: a revoked QWAC at the whole portal', function () {
  this.timeout(120_000);
  let h: OAuthHarness;
  let acme: Dispatcher;
  after(async () => h?.stop());

  it('the pass suspends the partner, revokes its tokens, and the next API call fails', async () => {
    h = await startOAuthPortal();
    acme = h.client('acme-payments');
    const reg = await h.request(acme, 'POST', `${h.mtlsUrl}/oauth/register`, {
      body: await h.signedRequest(),
      headers: { 'content-type': 'application/jwt' },
    });
    assert.equal(reg.status, 201, reg.text);
    const clientId = String(reg.json.client_id);
    const t = await h.request(acme, 'POST', `${h.mtlsUrl}/oauth/token`, {
      form: { grant_type: 'client_credentials', client_id: clientId, scope: 'accounts', resource: h.portal.oauth.apiAudience() },
    });
    assert.equal(t.status, 200, t.text);
    const token = String(t.json.access_token);
    const api = () => h.request(acme, 'GET', `${h.mtlsUrl}/api/v1/connection`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal((await api()).status, 200);

    const notices: NotifyRequest[] = [];
    const p = h.portal;
    const monitor = createMonitor({
      db: p.db,
      tx: p.tx,
      audit: p.audit,
      eidas: p.eidas,
      partners: p.partners,
      register: p.register,
      notify: async (req) => {
        notices.push(req);
        return { queued: true };
      },
      source: null,
      logger: createLogger({ level: 'silent' }),
    });
    const clean = await monitor.runOnce();
    assert.equal(clean.status, 'ok', clean.error ?? '');
    assert.deepEqual(clean.actions, []);

    const acmeDev = h.pki.partners.find((x) => x.slug === 'acme-payments')!;
    h.responder.revoke(acmeDev.qwac.cert.serialNumber, 'keyCompromise');
    // Stands in for the OCSP answers cached until their nextUpdate; the mutual-TLS side's cache is left alone, so
    // what refuses the token below is the suspension, not a fresh look at the presented certificate.
    p.eidas.clearCaches();
    const r = await monitor.runOnce();
    assert.equal(r.status, 'ok', r.error ?? '');
    assert.deepEqual(r.actions.map((a) => [a.kind, a.reasonCode]), [['suspend', 'CERTIFICATE_REVOKED']]);

    const partner = await p.partners.partnerForOrganization('PSDDE-BAFIN-152645');
    assert.equal(partner?.status, 'suspended');
    assert.equal(partner?.statusReasonCode, 'CERTIFICATE_REVOKED');
    assert.equal(h.count("SELECT COUNT(*) AS n FROM oauth_models WHERE client_id = ? AND model IN ('AccessToken', 'ClientCredentials')", clientId), 0);
    assert.equal(notices.filter((n) => n.event === 'client.suspended').length, 1);

    const refused = await api();
    assert.equal(refused.status, 401);
    assert.equal(refused.json.error, 'invalid_token');
    assert.match(String(refused.json.error_description), /suspended/);
    const again = await h.request(acme, 'POST', `${h.mtlsUrl}/oauth/token`, { form: { grant_type: 'client_credentials', client_id: clientId, scope: 'accounts' } });
    assert.equal(again.status, 401);
    assert.equal(again.json.error, 'invalid_client');
    assert.equal((await p.audit.verify()).ok, true);
  });
});
