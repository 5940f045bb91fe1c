/**
 * The ops area's pure parts: policy declarations, the route matcher behind metric labels, refusal reasons,
 * the anomaly rules at their boundaries, the consent counter and the activity repository on real SQLite.
 */
import assert from 'node:assert/strict';
import express, { Router } from 'express';
import { createAuditService, type AuditEvent } from '../../src/audit/service.js';
import { anomalyFlags, ANOMALY, dayOf, minuteOf, reasonOf } from '../../src/ops/activity.js';
import { buildInventory, RouteMatcher } from '../../src/ops/inventory.js';
import { createMetrics } from '../../src/ops/metrics.js';
import { bindingOf, policy, policyOf, providerMount, providerMountOf } from '../../src/ops/policy.js';
import { openDatabase } from '../../src/store/database.js';
import { createConsentCounter, createSqliteActivityRepository } from '../../src/store/sqlite/activity.js';
import { createTransactor } from '../../src/store/transaction.js';

describe('ops: policy declarations', () => {
  it('carries the declaration on a pass-through middleware', async () => {
    const p = policy({ auth: 'mtls+bound-token', scopes: ['accounts'], returns: 'accounts' });
    assert.deepEqual(policyOf(p), { auth: 'mtls+bound-token', scopes: ['accounts'], returns: 'accounts' });
    assert.ok(Object.isFrozen(policyOf(p)));
    let called = false;
    p({} as never, {} as never, () => (called = true));
    assert.equal(called, true);
    assert.equal(policyOf(() => undefined), undefined);
    assert.equal(policyOf(undefined), undefined);
    assert.deepEqual(providerMountOf(providerMount({ endpoints: 'all' })), { endpoints: 'all' });
    assert.equal(providerMountOf(p), undefined);
  });

  it('refuses an unknown authentication and a declaration that says nothing about what it returns', () => {
    assert.throws(() => policy({ auth: 'basic' as never, returns: 'x' }), { name: 'TypeError', message: /unknown authentication basic/ });
    assert.throws(() => policy({ auth: 'none', returns: '  ' }), { name: 'TypeError', message: /what the route returns/ });
  });

  it('derives the token binding from the authentication unless declared', () => {
    assert.match(bindingOf({ auth: 'mtls+bound-token' }), /^cnf\.x5t#S256/);
    assert.equal(bindingOf({ auth: 'session:staff' }), 'none');
    assert.equal(bindingOf({ auth: 'mtls-client-auth', binding: 'issues bound tokens' }), 'issues bound tokens');
  });

  it('lists an Express route without a declaration as undeclared, with nested routers and .all() methods', () => {
    const pub = express();
    const nested = Router();
    nested.get('/a/:id', policy({ auth: 'none', returns: 'a' }), (_req, res) => void res.end());
    nested.post('/b', (_req, res) => void res.end());
    const inner = Router();
    inner.all('/c', policy({ auth: 'session:any', methods: ['GET', 'PUT'], returns: 'c' }), (_req, res) => void res.end());
    pub.use(nested);
    pub.use('/mount', inner);
    const mtls = express();
    mtls.delete('/d', (_req, res) => void res.end());
    const inv = buildInventory({ apps: { public: pub, mtls } });
    assert.deepEqual(
      inv.entries.map((e) => `${e.listener} ${e.method} ${e.path} ${e.authentication}`),
      ['public GET /a/:id none', 'public GET /mount/c session:any', 'public PUT /mount/c session:any'],
    );
    assert.deepEqual(
      inv.undeclared.map((u) => `${u.listener} ${u.method} ${u.path}`),
      ['mtls DELETE /d', 'public POST /b'],
    );
    assert.equal(inv.providerListed, false);
  });
});

describe('ops: route patterns for metric labels', () => {
  const m = new RouteMatcher([
    { method: 'GET', path: '/api/v1/accounts' },
    { method: 'GET', path: '/api/v1/accounts/:accountId' },
    { method: 'GET', path: '/api/v1/accounts/:accountId/balances' },
    { method: 'POST', path: '/staff/partners/:id/suspend' },
    { method: '*', path: '/oauth/register/:clientId' },
    { method: 'GET', path: '/' },
    { method: 'GET', path: '/x/*splat' },
  ]);

  it('answers the pattern, never the concrete path', () => {
    assert.equal(m.match('GET', '/api/v1/accounts/acc-123'), '/api/v1/accounts/:accountId');
    assert.equal(m.match('GET', '/api/v1/accounts/acc-123/balances'), '/api/v1/accounts/:accountId/balances');
    assert.equal(m.match('GET', '/api/v1/accounts/'), '/api/v1/accounts');
    assert.equal(m.match('HEAD', '/api/v1/accounts'), '/api/v1/accounts');
    assert.equal(m.match('DELETE', '/oauth/register/abc'), '/oauth/register/:clientId');
    assert.equal(m.match('GET', '/'), '/');
  });

  it('keeps the pattern for a wrong method, and answers null for unknown paths and empty segments', () => {
    assert.equal(m.match('GET', '/staff/partners/p1/suspend'), '/staff/partners/:id/suspend');
    assert.equal(m.match('GET', '/random-4f1c'), null);
    assert.equal(m.match('GET', '/api/v1/accounts//balances'), null);
    assert.equal(m.match('GET', '/x/anything'), null, 'wildcard patterns are not guessed at');
  });
});

describe('ops: refusal reasons', () => {
  it('reads the error code of OAuth, consent and problem bodies, bounded', () => {
    assert.equal(reasonOf(200, { error: 'x' }), '');
    assert.equal(reasonOf(403, { error: 'consent.revoked', error_description: 'The customer withdrew this consent.' }), 'consent.revoked');
    assert.equal(reasonOf(401, { error: 'invalid_token', error_description: 'the authorisation behind this access token was revoked' }, 'grant.active'), 'token.grant_revoked');
    // The description alone decides nothing: only the guard's named check does.
    assert.equal(reasonOf(401, { error: 'invalid_token', error_description: 'the authorisation behind this access token was revoked' }), 'invalid_token');
    assert.equal(reasonOf(401, { error: 'invalid_token', error_description: 'the access token has expired' }), 'invalid_token');
    assert.equal(reasonOf(404, { type: 'about:blank', code: 'not_found' }), 'not_found');
    assert.equal(reasonOf(400, { error: 'x'.repeat(65) }), 'other');
    assert.equal(reasonOf(400, { error: 'drop table;' }), 'other');
    assert.equal(reasonOf(500, 'text'), '');
    assert.equal(reasonOf(500, null), '');
  });
});

describe('ops: anomaly rules', () => {
  const quiet = { lastHour: { calls: 0, authRefusals: 0 }, revokedConsentRecent: 0 };
  const kinds = (f: Parameters<typeof anomalyFlags>[0]) => anomalyFlags(f).map((x) => x.kind);

  it('spike: above 3 × the 7-day mean and above 50, both strictly', () => {
    assert.deepEqual(kinds({ ...quiet, today: 51, baseline: [0, 0, 0, 0, 0, 0, 0] }), ['spike']);
    assert.deepEqual(kinds({ ...quiet, today: 50, baseline: [0, 0, 0, 0, 0, 0, 0] }), [], 'not above 50');
    // mean 20 → 3 × 20 = 60: 60 is not a spike, 61 is.
    assert.deepEqual(kinds({ ...quiet, today: 60, baseline: [20, 20, 20, 20, 20, 20, 20] }), []);
    assert.deepEqual(kinds({ ...quiet, today: 61, baseline: [20, 20, 20, 20, 20, 20, 20] }), ['spike']);
    // Days without calls count: 140 calls on one day is a mean of 20.
    assert.deepEqual(kinds({ ...quiet, today: 61, baseline: [140, 0, 0, 0, 0, 0, 0] }), ['spike']);
  });

  it('burst: more than 20 refusals in the hour, or more than 30 % of at least 10 calls', () => {
    const at = (calls: number, authRefusals: number) => kinds({ today: 0, baseline: [], lastHour: { calls, authRefusals }, revokedConsentRecent: 0 });
    assert.deepEqual(at(1000, 21), ['auth_burst']);
    assert.deepEqual(at(1000, 20), []);
    assert.deepEqual(at(10, 4), ['auth_burst'], '40 % of 10');
    assert.deepEqual(at(10, 3), [], '30 % is not more than 30 %');
    assert.deepEqual(at(9, 9), [], `fewer than ${ANOMALY.burstMinCalls} calls: the share rule does not apply`);
  });

  it('revoked consent: any refused call for a revoked or expired consent', () => {
    assert.deepEqual(kinds({ today: 0, baseline: [], lastHour: { calls: 0, authRefusals: 0 }, revokedConsentRecent: 1 }), ['revoked_consent']);
    const all = anomalyFlags({ today: 500, baseline: [1], lastHour: { calls: 100, authRefusals: 90 }, revokedConsentRecent: 2 });
    assert.deepEqual(all.map((f) => f.kind), ['spike', 'auth_burst', 'revoked_consent']);
    assert.match(all[1]!.text, /90 of 100 calls in the last hour were refused with 401 or 403 \(90 %\)/);
  });

  it('minutes and days are UTC text that orders like time', () => {
    const d = new Date('2026-03-01T23:59:30.000Z');
    assert.equal(minuteOf(d), '2026-03-01T23:59');
    assert.equal(dayOf(d), '2026-03-01');
  });
});

describe('ops: activity repository and consent counter (SQLite)', () => {
  const db = openDatabase(':memory:');
  const tx = createTransactor(db);
  const repo = createSqliteActivityRepository(db);
  after(() => db.close());

  const row = (minute: string, status: number, calls: number, reason = '', clientId = 'c1') => ({
    minute,
    partnerId: 'p1',
    clientId,
    method: 'GET',
    route: '/api/v1/accounts',
    status,
    reason,
    calls,
    lastAt: `${minute}:30.000Z`,
  });

  it('sums the same combination into one row and keeps the latest call time', async () => {
    await tx.run(() => repo.add([row('2026-03-01T10:00', 200, 2)]));
    await tx.run(() => repo.add([{ ...row('2026-03-01T10:00', 200, 3), lastAt: '2026-03-01T10:00:10.000Z' }]));
    const rows = db.prepare('SELECT calls, last_at FROM api_activity').all();
    assert.deepEqual(rows, [{ calls: 5, last_at: '2026-03-01T10:00:30.000Z' }]);
  });

  it('answers days, windows, breakdowns and last seen; prunes by age', async () => {
    await tx.run(() =>
      repo.add([
        row('2026-03-01T10:05', 401, 4, 'invalid_token', '-'),
        row('2026-03-01T10:06', 403, 1, 'consent.revoked'),
        row('2026-03-01T10:07', 401, 1, 'token.grant_revoked'),
        row('2026-03-01T10:08', 500, 1, 'internal'),
        row('2026-02-27T09:00', 200, 7),
      ]),
    );
    assert.deepEqual(await repo.daily('p1', '2026-02-28'), [{ day: '2026-03-01', calls: 12, clientErrors: 6, serverErrors: 1, authRefusals: 6 }]);
    assert.deepEqual(await repo.window('p1', '2026-03-01T10:06'), { calls: 3, authRefusals: 2, revokedConsent: 2 });
    assert.deepEqual(await repo.window('nobody', '2026-01-01T00:00'), { calls: 0, authRefusals: 0, revokedConsent: 0 });
    const clients = await repo.byClient('p1', '2026-01-01T00:00');
    assert.deepEqual(clients.map((c) => [c.key, c.calls]), [['c1', 15], ['-', 4]]);
    assert.equal(await repo.lastSeen('p1'), '2026-03-01T10:08:30.000Z');
    assert.equal(await repo.lastSeen('nobody'), null);
    assert.equal(await tx.run(() => repo.prune('2026-03-01T00:00')), 1);
    assert.deepEqual(await repo.daily('p1', '2026-01-01'), [{ day: '2026-03-01', calls: 12, clientErrors: 6, serverErrors: 1, authRefusals: 6 }]);
  });

  it('refuses rows that break the table rules, and keeps what was there', async () => {
    const before = db.prepare('SELECT COUNT(*) AS n, SUM(calls) AS s FROM api_activity').get();
    await assert.rejects(tx.run(() => repo.add([row('2026-03-02T00:00', 200, 1), row('2026-03-02T00:01', 200, 0)])), /CHECK constraint failed/);
    await assert.rejects(tx.run(() => repo.add([row('2026-03-02T00:00', 99, 1)])), /CHECK constraint failed/);
    assert.deepEqual(db.prepare('SELECT COUNT(*) AS n, SUM(calls) AS s FROM api_activity').get(), before);
  });

  it('counts consents by state, every state present', () => {
    const counts = createConsentCounter(db)();
    assert.deepEqual(counts, { awaiting_authorisation: 0, authorised: 0, rejected: 0, revoked: 0, expired: 0, consumed: 0 });
  });

  it('exposes the consent gauge with every state from the counter', async () => {
    const metrics = createMetrics({ consentCounts: () => ({ authorised: 3, revoked: 1 }), defaultMetrics: false });
    const text = await metrics.text();
    assert.match(text, /^portal_consents\{state="authorised"\} 3$/m);
    assert.match(text, /^portal_consents\{state="revoked"\} 1$/m);
    assert.match(text, /^portal_consents\{state="expired"\} 0$/m);
    assert.doesNotMatch(text, /process_cpu/, 'default metrics off when asked');
  });
});

describe('audit.onRecorded (the metrics feed)', () => {
  const db = openDatabase(':memory:');
  const tx = createTransactor(db);
  const audit = createAuditService({ db, tx });
  const actor = { type: 'system' as const, id: null };
  after(() => db.close());

  it('calls each listener with the written event; a throwing listener changes nothing; unsubscribing stops it', async () => {
    const seen: AuditEvent[] = [];
    const off = audit.onRecorded((e) => seen.push(e));
    const offBad = audit.onRecorded(() => {
      throw new Error('observer failed');
    });
    const event = await audit.record({ actor, action: 'monitor.suspend', data: { partnerId: 'p1' } });
    assert.deepEqual(seen, [event]);
    assert.equal((db.prepare('SELECT COUNT(*) AS n FROM audit_events').get() as { n: number }).n, 1);
    off();
    offBad();
    await audit.record({ actor, action: 'monitor.task', data: {} });
    assert.equal(seen.length, 1);
    assert.equal((await audit.verify()).ok, true);
  });

  it('is not called for an event that was refused, and is called after the commit of its own transaction', async () => {
    const seen: string[] = [];
    const off = audit.onRecorded((e) => seen.push(`${e.action} in-tx=${tx.active()} rows=${(db.prepare('SELECT COUNT(*) AS n FROM audit_events WHERE seq = ?').get(e.seq) as { n: number }).n}`));
    await assert.rejects(audit.record({ actor, action: 'Not.Dotted' }), TypeError);
    await audit.record({ actor, action: 'oauth.client.registered', data: {} });
    off();
    assert.deepEqual(seen, ['oauth.client.registered in-tx=false rows=1']);
  });
});
