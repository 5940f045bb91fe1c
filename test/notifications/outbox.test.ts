/**
 * The outbox: enqueue inside the caller's transaction, fan-out to e-mail recipients and the partner's
 * webhook, dedupe, redaction, refusals that write nothing.
 */
import assert from 'node:assert/strict';
import { createMailer } from '../../src/notifications/mailer.js';
import { AppError } from '../../src/errors.js';
import type { NotificationRequest } from '../../src/notifications/types.js';
import { outbox, rows, T0, type Outbox } from './helpers.js';

const PARTNER = 'partner-acme';

function expiring(over: Partial<NotificationRequest> = {}): NotificationRequest {
  return {
    event: 'certificate.expiring',
    partnerId: PARTNER,
    email: { to: ['tech@acme.test', 'SEC@acme.test', 'tech@acme.test'], subject: 'Your QWAC expires in 30 days', text: 'Renew it.' },
    data: { kind: 'qwac', thresholdDays: 30, notAfter: '2026-04-01T00:00:00.000Z' },
    dedupeKey: 'certificate.expiring:abc:30',
    ...over,
  };
}

function counts(o: Outbox) {
  return { notifications: rows(o.db, 'notifications').length, deliveries: rows(o.db, 'notification_deliveries').length };
}

describe('notifications: the outbox', () => {
  let o: Outbox;
  beforeEach(async () => {
    o = await outbox();
  });
  afterEach(() => o.close());

  it('queues one delivery per distinct recipient and one for the partner webhook, with the exact signed body stored', async () => {
    await o.endpoint(PARTNER, 'https://hooks.acme.test/portal');
    const r = await o.tx.run(() => o.service.enqueue(expiring()));
    assert.deepEqual(r, { queued: true });
    const [n] = rows(o.db, 'notifications');
    assert.equal(n!.event, 'certificate.expiring');
    assert.equal(n!.partner_id, PARTNER);
    assert.equal(n!.occurred_at, T0.toISOString());
    const ds = await o.service.deliveriesForNotification(String(n!.id));
    assert.deepEqual(
      ds.map((d) => [d.channel, d.target, d.status, d.attempts, d.nextAttemptAt]),
      [
        ['email', 'sec@acme.test', 'pending', 0, T0.toISOString()],
        ['email', 'tech@acme.test', 'pending', 0, T0.toISOString()],
        ['webhook', 'https://hooks.acme.test/portal', 'pending', 0, T0.toISOString()],
      ],
    );
    const hook = ds.find((d) => d.channel === 'webhook')!;
    const payload = (o.db.prepare('SELECT payload FROM notification_deliveries WHERE id = ?').get(hook.id) as { payload: string }).payload;
    assert.deepEqual(JSON.parse(payload), {
      id: hook.id,
      event: 'certificate.expiring',
      occurred_at: T0.toISOString(),
      partner_id: PARTNER,
      data: { kind: 'qwac', thresholdDays: 30, notAfter: '2026-04-01T00:00:00.000Z' },
    });
  });

  it('the same dedupeKey twice gives one notification: the second is not queued and writes nothing', async () => {
    assert.deepEqual(await o.service.enqueue(expiring()), { queued: true });
    const before = counts(o);
    o.clock.now = new Date(T0.getTime() + 86_400_000);
    assert.deepEqual(await o.service.enqueue(expiring({ data: { other: true } })), { queued: false });
    assert.deepEqual(counts(o), before);
    // A different key is a different notification.
    assert.deepEqual(await o.service.enqueue(expiring({ dedupeKey: 'certificate.expiring:abc:14' })), { queued: true });
    assert.equal(counts(o).notifications, before.notifications + 1);
  });

  it('commits and rolls back with the caller: a caller that fails after enqueue leaves no notification behind', async () => {
    await assert.rejects(
      o.tx.run(async () => {
        await o.service.enqueue(expiring());
        throw new Error('the caller failed');
      }),
      /the caller failed/,
    );
    assert.deepEqual(counts(o), { notifications: 0, deliveries: 0 });
    // The key is free again.
    assert.deepEqual(await o.tx.run(() => o.service.enqueue(expiring())), { queued: true });
  });

  it('without a webhook URL and without e-mail nothing is queued (recorded for dedupe only)', async () => {
    const r = await o.service.enqueue({ event: 'consent.revoked', partnerId: PARTNER, data: { consent_id: 'c1' }, dedupeKey: 'consent.revoked:c1' });
    assert.deepEqual(r, { queued: false });
    assert.deepEqual(counts(o), { notifications: 1, deliveries: 0 });
  });

  it('a removed endpoint gets nothing; a partner without a partnerId gets e-mail only', async () => {
    const ep = await o.endpoint(PARTNER, 'https://hooks.acme.test/portal');
    await o.tx.run(() => o.repo.removeEndpoint(ep, T0.toISOString(), 'test'));
    await o.service.enqueue(expiring({ email: undefined, dedupeKey: undefined }));
    assert.equal(counts(o).deliveries, 0);
    await o.service.enqueue(expiring({ partnerId: null, dedupeKey: undefined }));
    assert.deepEqual(
      rows(o.db, 'notification_deliveries').map((d) => d.channel),
      ['email', 'email'],
    );
  });

  it('redacts secret-looking keys from the webhook data, at any depth', async () => {
    await o.endpoint(PARTNER, 'https://hooks.acme.test/portal');
    await o.service.enqueue(expiring({ email: undefined, data: { ok: 1, access_token: 'eyJ…', nested: { clientSecret: 's', password: 'p', keep: 'yes' } } }));
    const [d] = rows(o.db, 'notification_deliveries');
    assert.deepEqual(JSON.parse(String(d!.payload)).data, {
      ok: 1,
      access_token: '[redacted]',
      nested: { clientSecret: '[redacted]', password: '[redacted]', keep: 'yes' },
    });
    const [n] = rows(o.db, 'notifications');
    assert.doesNotMatch(String(n!.data), /eyJ|"s"|"p"/);
  });

  it('refuses malformed requests with notifications.invalid_request and writes nothing', async () => {
    const bad: unknown[] = [
      { ...expiring(), event: 'application.deleted' },
      { ...expiring(), email: { to: ['not an address'], subject: 'x', text: 'y' } },
      { ...expiring(), email: { to: [], subject: 'x', text: 'y' } },
      { ...expiring(), email: { to: ['a@b.test'], subject: 'Bcc: evil@x.test\r\nSubject: hi', text: 'y' } },
      { ...expiring(), email: { to: Array.from({ length: 11 }, (_, i) => `a${i}@b.test`), subject: 'x', text: 'y' } },
      { ...expiring(), data: { big: 'x'.repeat(17 * 1024) } },
      { ...expiring(), data: ['not', 'an', 'object'] },
      { ...expiring(), dedupeKey: '' },
    ];
    for (const req of bad) {
      await assert.rejects(
        o.service.enqueue(req as NotificationRequest),
        (e: unknown) => e instanceof AppError && e.code === 'notifications.invalid_request' && e.status === 500,
        JSON.stringify(req).slice(0, 120),
      );
    }
    assert.deepEqual(counts(o), { notifications: 0, deliveries: 0 });
  });

  it('without a mailer (SMTP_URL=off) e-mail is not queued; the webhook still is', async () => {
    const p = await outbox({ emailEnabled: false });
    try {
      await p.endpoint(PARTNER, 'https://hooks.acme.test/portal');
      assert.deepEqual(await p.service.enqueue(expiring()), { queued: true });
      assert.deepEqual(rows(p.db, 'notification_deliveries').map((d) => d.channel), ['webhook']);
    } finally {
      await p.close();
    }
  });

  it('SMTP_URL=off means no mailer in every environment; unset means the .eml file sink outside production only', () => {
    const base = { smtpUrl: null, from: 'Portal <no-reply@bank.test>', dataDir: '/nonexistent' };
    for (const env of ['development', 'test', 'production'] as const) assert.equal(createMailer({ ...base, off: true, env }), null, env);
    assert.equal(createMailer({ ...base, env: 'development' })?.kind, 'file');
    assert.equal(createMailer({ ...base, env: 'production' }), null);
  });

  it('the partner history lists its deliveries newest first, never another partner’s', async () => {
    await o.endpoint(PARTNER, 'https://hooks.acme.test/portal');
    await o.endpoint('partner-other', 'https://hooks.other.test/x');
    await o.service.enqueue(expiring({ email: undefined, dedupeKey: 'a' }));
    o.clock.now = new Date(T0.getTime() + 1000);
    await o.service.enqueue(expiring({ email: undefined, dedupeKey: 'b', event: 'client.suspended' }));
    await o.service.enqueue(expiring({ email: undefined, dedupeKey: 'c', partnerId: 'partner-other' }));
    const mine = await o.service.deliveriesForPartner(PARTNER);
    assert.deepEqual(mine.map((d) => d.event), ['client.suspended', 'certificate.expiring']);
    assert.ok(mine.every((d) => d.partnerId === PARTNER && d.target === 'https://hooks.acme.test/portal'));
  });
});
