import assert from 'node:assert/strict';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { chainHead } from '../../src/audit/search.js';
import { verifyPack } from '../../src/evidence/verify.js';
import { csrfFrom, errorCodeFrom } from '../helpers/web.js';
import { startEvidenceWorld, type EvidenceWorld } from './helpers.js';

describe('evidence pages', function () {
  this.timeout(180_000);
  let w: EvidenceWorld;
  const exports = () => w.count("SELECT COUNT(*) AS n FROM audit_events WHERE action = 'evidence.pack.exported'");

  before(async () => {
    w = await startEvidenceWorld();
  });
  after(async () => {
    await w?.stop();
  });

  it('GET /evidence/jwks.json publishes the public evidence key to anyone', async () => {
    const r = await w.agent().get('/evidence/jwks.json');
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/jwk-set+json');
    assert.match(String(r.headers['cache-control']), /max-age=300/);
    const jwks = JSON.parse(Buffer.isBuffer(r.body) ? r.body.toString() : r.text) as { keys: JWK[] };
    assert.equal(jwks.keys.length, 1);
    const key = jwks.keys[0]!;
    assert.deepEqual(Object.keys(key).sort(), ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
    assert.equal(key.kid, (await w.keys.signer()).kid);
    assert.equal(await calculateJwkThumbprint(key), key.kid);
  });

  it('shows an officer what the pack holds, and downloads a signed pack that verifies against the published key; the download is audited', async () => {
    const staff = await w.staff(['reviewer']);
    const page = await staff.get(`/staff/partners/${w.acme.id}/evidence`).set('Accept', 'text/html');
    assert.equal(page.status, 200);
    assert.equal(page.headers['cache-control'], 'no-store');
    assert.match(page.text, /Evidence pack: Acme Payments GmbH/);
    assert.ok(page.text.includes(`id="key-thumbprint">${(await w.keys.signer()).kid}<`));
    assert.match(page.text, /OAuth clients<\/td><td>1</);
    assert.match(page.text, /id="no-exports"/);
    assert.ok(page.text.includes(`action="/staff/partners/${w.acme.id}/evidence/pack"`));

    const before = exports();
    const r = await staff
      .post(`/staff/partners/${w.acme.id}/evidence/pack`)
      .type('form')
      .send({ _csrf: csrfFrom(page.text) });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/json');
    assert.match(String(r.headers['content-disposition']), /^attachment; filename="?evidence-pack-acme-payments-gmbh-\d{8}T\d{6}Z\.json"?$/);
    assert.equal(r.headers['cache-control'], 'no-store');
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
    // The pack is UTF-8 JSON: the text is its bytes.
    const body = Buffer.from(r.text, 'utf8');
    assert.equal(body.length, Number(r.headers['content-length']));
    const jwks = JSON.parse((await w.agent().get('/evidence/jwks.json')).text) as { keys: JWK[] };
    const v = await verifyPack(body, { jwks });
    assert.equal(v.ok, true, JSON.stringify(v.checks));
    assert.equal(v.manifest!.createdBy.id, staff.creds.userId);
    assert.equal(v.manifest!.createdBy.label, staff.creds.email);

    assert.equal(exports(), before + 1);
    const row = w.portal.db.prepare("SELECT * FROM audit_events WHERE action = 'evidence.pack.exported' ORDER BY seq DESC LIMIT 1").get() as Record<string, string>;
    assert.equal(row.actor_type, 'staff');
    assert.equal(row.actor_id, staff.creds.userId);
    assert.equal(row.subject_id, w.acme.id);
    assert.equal(row.ip, '127.0.0.1');
    const data = JSON.parse(row.data!) as Record<string, unknown>;
    assert.equal(data.manifestSha256, r.headers['x-evidence-manifest-sha256']);
    assert.equal(data.packId, v.manifest!.packId);
    assert.equal(data.via, 'staff page');

    // The page now lists that export, by whom.
    const again = await staff.get(`/staff/partners/${w.acme.id}/evidence`).set('Accept', 'text/html');
    assert.ok(again.text.includes(v.manifest!.packId));
    assert.ok(again.text.includes(staff.creds.email));
    assert.doesNotMatch(again.text, /id="no-exports"/);
  });

  it('refuses a download without the CSRF token, recording nothing', async () => {
    const staff = await w.staff(['approver']);
    const before = chainHead(w.portal.db).seq;
    const r = await staff.post(`/staff/partners/${w.acme.id}/evidence/pack`).type('form').set('Accept', 'text/html').send({});
    assert.equal(r.status, 403);
    assert.equal(errorCodeFrom(r.text), 'csrf.invalid');
    assert.equal(chainHead(w.portal.db).seq, before);
  });

  it('is for staff only: signed out goes to the staff sign-in, an applicant gets 403; nothing is exported', async () => {
    const before = exports();
    const anon = await w.agent().get(`/staff/partners/${w.acme.id}/evidence`).set('Accept', 'text/html');
    assert.equal(anon.status, 302);
    assert.equal(anon.headers.location, `/staff/login?next=${encodeURIComponent(`/staff/partners/${w.acme.id}/evidence`)}`);
    const applicant = await w.applicant();
    const page = await applicant.get(`/staff/partners/${w.acme.id}/evidence`).set('Accept', 'text/html');
    assert.equal(page.status, 403);
    assert.equal(errorCodeFrom(page.text), 'auth.forbidden');
    // Even with a valid CSRF token of its own session, an applicant cannot download.
    const token = csrfFrom((await applicant.get('/account/password').set('Accept', 'text/html')).text);
    const post = await applicant.post(`/staff/partners/${w.acme.id}/evidence/pack`).type('form').set('Accept', 'text/html').send({ _csrf: token });
    assert.equal(post.status, 403);
    assert.equal(errorCodeFrom(post.text), 'auth.forbidden');
    assert.equal(exports(), before);
  });

  it('answers 404 for an unknown or malformed partner id, exporting nothing', async () => {
    const staff = await w.staff(['admin']);
    const before = chainHead(w.portal.db).seq;
    const page = await staff.get('/staff/partners/no-such-partner/evidence').set('Accept', 'text/html');
    assert.equal(page.status, 404);
    const odd = await staff.get('/staff/partners/%27%20OR%201%3D1/evidence').set('Accept', 'text/html');
    assert.equal(odd.status, 404);
    const token = csrfFrom((await staff.get(`/staff/partners/${w.acme.id}/evidence`).set('Accept', 'text/html')).text);
    const post = await staff.post('/staff/partners/no-such-partner/evidence/pack').type('form').set('Accept', 'text/html').send({ _csrf: token });
    assert.equal(post.status, 404);
    assert.equal(errorCodeFrom(post.text), 'not_found');
    assert.equal(chainHead(w.portal.db).seq, before);
  });
});
