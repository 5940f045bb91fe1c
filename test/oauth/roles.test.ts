/**
 * Roles the bank withdraws after registration (the monitor narrows them when the NCA register drops a
 * service) take effect at once: no new token for that role's scope, and tokens issued before are refused by
 * the API guard (partner.role) — while the roles the partner keeps go on working.
 */
import assert from 'node:assert/strict';
import { startOAuthPortal, type OAuthHarness } from './harness.js';
import type { Dispatcher } from 'undici';

describe('oauth: a withdrawn role stops its scope at once', function () {
  this.timeout(120_000);
  let h: OAuthHarness;
  let acme: Dispatcher;
  let clientId: string;

  const token = (scope: string) =>
    h.request(acme, 'POST', `${h.mtlsUrl}/oauth/token`, {
      form: { grant_type: 'client_credentials', client_id: clientId, scope, resource: h.portal.oauth.apiAudience() },
    });
  /** The consent API for payments needs the payments scope; the accounts one needs accounts. */
  const consents = (at: string, kind: 'account-access' | 'domestic-payment') =>
    h.request(acme, 'GET', `${h.mtlsUrl}/api/v1/${kind}-consents/nonexistent`, { headers: { authorization: `Bearer ${at}` } });

  before(async () => {
    h = await startOAuthPortal();
    acme = h.client('acme-payments');
    const r = await h.request(acme, 'POST', `${h.mtlsUrl}/oauth/register`, {
      body: await h.signedRequest({ scope: 'accounts payments' }),
      headers: { 'content-type': 'application/jwt' },
    });
    assert.equal(r.status, 201, r.text);
    clientId = String(r.json.client_id);
  });
  after(async () => h?.stop());

  it('PIS withdrawn: a payments token is refused (400 invalid_scope, none issued), an earlier one gets 403 insufficient_scope; accounts still work', async () => {
    const before = await token('payments');
    assert.equal(before.status, 200, before.text);
    const earlier = String(before.json.access_token);
    assert.equal((await consents(earlier, 'domestic-payment')).status, 404, 'the guard lets it through before the change');

    const acmePartner = await h.portal.partners.partnerForOrganization('PSDDE-BAFIN-152645');
    await h.portal.partners.narrowAllowedRoles(acmePartner!.id, { remove: ['PIS'], text: 'PS_070 removed from the register', source: 'test' });

    const tokens = h.count("SELECT COUNT(*) AS n FROM oauth_models WHERE model IN ('AccessToken', 'ClientCredentials')");
    const refused = await token('payments');
    assert.equal(refused.status, 400);
    assert.equal(refused.json.error, 'invalid_scope');
    assert.match(String(refused.json.error_description), /no longer allows/);
    assert.equal(h.count("SELECT COUNT(*) AS n FROM oauth_models WHERE model IN ('AccessToken', 'ClientCredentials')"), tokens);

    const r = await consents(earlier, 'domestic-payment');
    assert.equal(r.status, 403);
    assert.equal(r.json.error, 'insufficient_scope');
    assert.match(String(r.headers.get('www-authenticate')), /insufficient_scope/);

    const accounts = await token('accounts');
    assert.equal(accounts.status, 200, accounts.text);
    assert.equal((await consents(String(accounts.json.access_token), 'account-access')).status, 404);
  });
});
