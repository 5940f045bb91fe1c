/**
 * The worker against a real HTTPS receiver on 127.0.0.1: signed deliveries that verify with the served
 * JWKS, retries with backoff on an injected clock, dead after the last attempt, SSRF refusal in production,
 * bounded answers and timeouts, and the .eml file sink.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { decodeProtectedHeader } from 'jose';
import { verifyWebhook, WebhookVerificationError } from '../../src/notifications/verify.js';
import { excerpt, MAX_ATTEMPTS, nextAttemptAfter, RETRY_DELAYS_MS } from '../../src/notifications/worker.js';
import { fetchJwks, outbox, receiver, T0, type Outbox, type Receiver } from './helpers.js';

const PARTNER = 'partner-acme';

async function queueWebhook(o: Outbox, over: Record<string, unknown> = {}) {
  await o.service.enqueue({
    event: 'client.suspended',
    partnerId: PARTNER,
    data: { status: 'suspended', reason_code: 'CERTIFICATE_REVOKED', ...over },
  });
  const ds = await o.service.deliveriesForPartner(PARTNER);
  return ds[0]!;
}

describe('notifications: the worker', function () {
  this.timeout(30_000);
  let o: Outbox;
  let rx: Receiver;
  beforeEach(async () => {
    o = await outbox();
    rx = await receiver([200]);
  });
  afterEach(async () => {
    await rx.close();
    await o.close();
  });

  it('delivers a signed POST that the receiver verifies with verifyWebhook against the served JWKS', async () => {
    await o.endpoint(PARTNER, rx.url);
    const d = await queueWebhook(o);
    const result = await o.worker({ ca: rx.ca }).tick();
    assert.deepEqual(result, { claimed: 1, delivered: 1, failed: 0, dead: 0 });
    assert.equal(rx.received.length, 1);
    const got = rx.received[0]!;
    assert.equal(got.headers['content-type'], 'application/json');
    assert.equal(got.headers['x-portal-event'], 'client.suspended');
    assert.equal(got.headers['x-portal-delivery'], d.id);

    const jwks = await fetchJwks(await o.jwksUrl());
    const sig = String(got.headers['x-portal-signature']);
    assert.match(sig, /^[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]+$/); // detached payload
    assert.deepEqual(decodeProtectedHeader(sig), { alg: 'ES256', kid: o.keys.signingKid(), typ: 'portal-webhook+jws', iat: T0.getTime() / 1000 });
    const v = await verifyWebhook(got.body, sig, jwks, { now: T0 });
    assert.deepEqual(
      { id: v.id, event: v.event, occurred_at: v.occurred_at, partner_id: v.partner_id, data: v.data, kid: v.kid },
      {
        id: d.id,
        event: 'client.suspended',
        occurred_at: T0.toISOString(),
        partner_id: PARTNER,
        data: { status: 'suspended', reason_code: 'CERTIFICATE_REVOKED' },
        kid: o.keys.signingKid(),
      },
    );
    const after = (await o.service.getDelivery(d.id))!;
    assert.equal(after.status, 'delivered');
    assert.equal(after.attempts, 1);
    assert.equal(after.deliveredAt, T0.toISOString());
    assert.equal(after.lastStatus, 200);
    assert.equal(after.responseExcerpt, 'ok');
    assert.equal(after.nextAttemptAt, null);
    // Nothing left to do.
    assert.deepEqual(await o.worker({ ca: rx.ca }).tick(), { claimed: 0, delivered: 0, failed: 0, dead: 0 });
  });

  it('a tampered body, a body signed for another delivery, or a foreign key fails verification', async () => {
    await o.endpoint(PARTNER, rx.url);
    await queueWebhook(o, { n: 1 });
    await queueWebhook(o, { n: 2 });
    await o.worker({ ca: rx.ca }).tick();
    const jwks = await fetchJwks(await o.jwksUrl());
    const byN = (n: number) => rx.received.find((r) => (JSON.parse(r.body.toString('utf8')) as { data: { n: number } }).data.n === n);
    const [a, b] = [byN(1), byN(2)];
    const sigA = String(a!.headers['x-portal-signature']);
    const tampered = Buffer.from(a!.body.toString('utf8').replace('CERTIFICATE_REVOKED', 'OTHER'));
    for (const [body, sig] of [
      [tampered, sigA],
      [b!.body, sigA],
      [Buffer.concat([a!.body, Buffer.from(' ')]), sigA],
    ] as const) {
      await assert.rejects(verifyWebhook(body, sig, jwks, { now: T0 }), (e: unknown) => e instanceof WebhookVerificationError && e.code === 'webhook.signature_invalid');
    }
    const other = await outbox();
    try {
      const foreign = await fetchJwks(await other.jwksUrl());
      await assert.rejects(verifyWebhook(a!.body, sigA, foreign, { now: T0 }), (e: unknown) => e instanceof WebhookVerificationError && e.code === 'webhook.signature_invalid');
    } finally {
      await other.close();
    }
    // The untampered one still verifies.
    assert.equal((await verifyWebhook(a!.body, sigA, jwks, { now: T0 })).data.n, 1);
  });

  it('verifyWebhook refuses stale or future signatures, a missing or malformed header, and an attached payload', async () => {
    await o.endpoint(PARTNER, rx.url);
    await queueWebhook(o);
    await o.worker({ ca: rx.ca }).tick();
    const jwks = await fetchJwks(await o.jwksUrl());
    const { body, headers } = rx.received[0]!;
    const sig = String(headers['x-portal-signature']);
    const code = (c: string) => (e: unknown) => e instanceof WebhookVerificationError && e.code === c;
    await assert.rejects(verifyWebhook(body, sig, jwks, { now: new Date(T0.getTime() + 301_000) }), code('webhook.signature_stale'));
    await assert.rejects(verifyWebhook(body, sig, jwks, { now: new Date(T0.getTime() - 61_000) }), code('webhook.signature_stale'));
    assert.ok(await verifyWebhook(body, sig, jwks, { now: new Date(T0.getTime() + 3_600_000), maxAgeSeconds: 3700 }));
    await assert.rejects(verifyWebhook(body, undefined, jwks, { now: T0 }), code('webhook.signature_malformed'));
    await assert.rejects(verifyWebhook(body, 'not a jws', jwks, { now: T0 }), code('webhook.signature_malformed'));
    const [h, , s] = sig.split('.');
    const attached = `${h}.${body.toString('base64url')}.${s}`;
    await assert.rejects(verifyWebhook(body, attached, jwks, { now: T0 }), code('webhook.signature_malformed'));
  });

  it('retries with growing backoff on the injected clock: 500, 500, then 200 is three attempts', async () => {
    rx.script = [500, 500, 200];
    rx.answer = 'Internal error\u0000 at line 3\n\tstack…';
    await o.endpoint(PARTNER, rx.url);
    const d = await queueWebhook(o);
    const worker = o.worker({ ca: rx.ca, random: () => 0.5 });

    assert.deepEqual(await worker.tick(), { claimed: 1, delivered: 0, failed: 1, dead: 0 });
    const first = (await o.service.getDelivery(d.id))!;
    assert.equal(first.status, 'failed');
    assert.equal(first.attempts, 1);
    assert.equal(first.lastError, 'HTTP 500');
    assert.equal(first.lastStatus, 500);
    assert.equal(first.responseExcerpt, 'Internal error? at line 3 stack…');
    const gap1 = Date.parse(first.nextAttemptAt!) - T0.getTime();
    assert.equal(gap1, 33_000); // 30 s + 10 % jitter (random 0.5 of 20 %)

    // Not due yet: nothing is sent.
    o.clock.now = new Date(Date.parse(first.nextAttemptAt!) - 1);
    assert.deepEqual(await worker.tick(), { claimed: 0, delivered: 0, failed: 0, dead: 0 });
    assert.equal(rx.received.length, 1);

    o.clock.now = new Date(first.nextAttemptAt!);
    const t1 = o.clock.now.getTime();
    assert.deepEqual(await worker.tick(), { claimed: 1, delivered: 0, failed: 1, dead: 0 });
    const second = (await o.service.getDelivery(d.id))!;
    assert.equal(second.attempts, 2);
    const gap2 = Date.parse(second.nextAttemptAt!) - t1;
    assert.equal(gap2, 132_000);
    assert.ok(gap2 > gap1);

    o.clock.now = new Date(second.nextAttemptAt!);
    assert.deepEqual(await worker.tick(), { claimed: 1, delivered: 1, failed: 0, dead: 0 });
    const third = (await o.service.getDelivery(d.id))!;
    assert.equal(third.status, 'delivered');
    assert.equal(third.attempts, 3);
    assert.equal(third.lastError, null);
    assert.equal(third.deliveredAt, o.clock.now.toISOString());
    // Every attempt carried the same delivery id and body, signed afresh.
    assert.equal(rx.received.length, 3);
    assert.deepEqual(new Set(rx.received.map((r) => r.headers['x-portal-delivery'])), new Set([d.id]));
    assert.deepEqual(new Set(rx.received.map((r) => r.body.toString('utf8'))).size, 1);
    const iats = rx.received.map((r) => decodeProtectedHeader(String(r.headers['x-portal-signature'])).iat);
    assert.deepEqual(iats, [T0.getTime() / 1000, t1 / 1000, o.clock.now.getTime() / 1000]);
  });

  it(`is dead after ${MAX_ATTEMPTS} failed attempts, each delay longer than the one before`, async () => {
    rx.script = [503];
    await o.endpoint(PARTNER, rx.url);
    const d = await queueWebhook(o);
    const worker = o.worker({ ca: rx.ca, random: () => 0 });
    const gaps: number[] = [];
    for (let i = 1; i <= MAX_ATTEMPTS; i++) {
      const r = await worker.tick();
      assert.equal(r.claimed, 1, `attempt ${i}`);
      const v = (await o.service.getDelivery(d.id))!;
      assert.equal(v.attempts, i);
      if (i < MAX_ATTEMPTS) {
        assert.equal(v.status, 'failed');
        gaps.push(Date.parse(v.nextAttemptAt!) - o.clock.now.getTime());
        o.clock.now = new Date(v.nextAttemptAt!);
      } else {
        assert.deepEqual(r, { claimed: 1, delivered: 0, failed: 0, dead: 1 });
        assert.equal(v.status, 'dead');
        assert.equal(v.nextAttemptAt, null);
        assert.equal(v.lastError, 'HTTP 503');
      }
    }
    assert.deepEqual(gaps, [...RETRY_DELAYS_MS]);
    o.clock.now = new Date(o.clock.now.getTime() + 30 * 86_400_000);
    assert.deepEqual(await worker.tick(), { claimed: 0, delivered: 0, failed: 0, dead: 0 });
    assert.equal(rx.received.length, MAX_ATTEMPTS);
  });

  it('in production refuses a webhook URL that resolves to a loopback address (SSRF): dead at once, nothing sent', async () => {
    // Registered while the host was allowed (or re-pointed by DNS since): the check is at delivery.
    await o.endpoint(PARTNER, rx.url);
    await o.endpoint('partner-localhost', rx.url.replace('127.0.0.1', 'localhost'));
    const d = await queueWebhook(o);
    await o.service.enqueue({ event: 'client.reinstated', partnerId: 'partner-localhost', data: {} });
    const r = await o.worker({ env: 'production', ca: rx.ca }).tick();
    assert.deepEqual(r, { claimed: 2, delivered: 0, failed: 0, dead: 2 });
    assert.equal(rx.received.length, 0);
    const v = (await o.service.getDelivery(d.id))!;
    assert.equal(v.status, 'dead');
    assert.equal(v.attempts, 1);
    assert.equal(v.lastError, 'refused to connect to 127.0.0.1: 127.0.0.1 is a private or loopback address');
    const [local] = await o.service.deliveriesForPartner('partner-localhost');
    assert.match(local!.lastError!, /^refused to connect to localhost: (127\.0\.0\.1|::1) is a private or loopback address$/);
  });

  it('never contacts link-local or metadata addresses, even outside production', async () => {
    await o.endpoint(PARTNER, 'https://169.254.169.254/latest/meta-data');
    const d = await queueWebhook(o);
    await o.worker({ env: 'development' }).tick();
    const v = (await o.service.getDelivery(d.id))!;
    assert.equal(v.status, 'dead');
    assert.equal(v.lastError, 'refused to connect to 169.254.169.254: 169.254.169.254 is a link-local, metadata or non-unicast address');
  });

  it('gives up on a slow receiver after the timeout and retries later; keeps only a bounded excerpt of a large answer', async () => {
    await o.endpoint(PARTNER, rx.url);
    rx.delayMs = 1500;
    const d = await queueWebhook(o);
    const started = Date.now();
    await o.worker({ ca: rx.ca, timeoutMs: 300 }).tick();
    assert.ok(Date.now() - started < 1400, 'the worker waited for the slow receiver');
    const v = (await o.service.getDelivery(d.id))!;
    assert.equal(v.status, 'failed');
    assert.equal(v.lastError, 'no answer within 300 ms');

    rx.delayMs = 0;
    rx.answer = Buffer.alloc(1024 * 1024, 'A');
    o.clock.now = new Date(v.nextAttemptAt!);
    await o.worker({ ca: rx.ca }).tick();
    const w = (await o.service.getDelivery(d.id))!;
    assert.equal(w.status, 'delivered');
    assert.equal(w.responseExcerpt, `${'A'.repeat(200)}…`);
  });

  it('an untrusted receiver certificate is a retryable failure with its TLS code', async () => {
    await o.endpoint(PARTNER, rx.url);
    const d = await queueWebhook(o);
    await o.worker().tick(); // no `ca`: the throwaway certificate is not trusted
    const v = (await o.service.getDelivery(d.id))!;
    assert.equal(v.status, 'failed');
    assert.match(v.lastError!, /^connection to 127\.0\.0\.1:\d+ failed \([A-Z_]+\)$/);
  });

  it('drops deliveries for an endpoint removed after they were queued', async () => {
    const ep = await o.endpoint(PARTNER, rx.url);
    const d = await queueWebhook(o);
    await o.tx.run(() => o.repo.removeEndpoint(ep, T0.toISOString(), 'test'));
    await o.worker({ ca: rx.ca }).tick();
    const v = (await o.service.getDelivery(d.id))!;
    assert.equal(v.status, 'dead');
    assert.equal(v.lastError, 'the webhook endpoint was removed');
    assert.equal(rx.received.length, 0);
  });

  it('claims under a lease: a second worker does not send what the first is sending', async () => {
    await o.endpoint(PARTNER, rx.url);
    rx.delayMs = 300;
    await queueWebhook(o);
    const a = o.worker({ ca: rx.ca });
    const b = o.worker({ ca: rx.ca });
    const [ra, rb] = await Promise.all([a.tick(), b.tick()]);
    assert.equal(ra.claimed + rb.claimed, 1);
    assert.equal(rx.received.length, 1);
  });

  it('writes each e-mail as one .eml file (0600) under DATA_DIR/mail without SMTP', async () => {
    await o.service.enqueue({
      event: 'certificate.expiring',
      partnerId: PARTNER,
      email: { to: ['tech@acme.test', 'sec@acme.test'], subject: 'Your QWAC expires in 30 days', text: 'Renew it before 1 April.' },
      data: {},
    });
    const r = await o.worker().tick();
    assert.deepEqual(r, { claimed: 2, delivered: 2, failed: 0, dead: 0 });
    const dir = path.join(o.dataDir, 'mail');
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    const files = readdirSync(dir).filter((f) => f.endsWith('.eml'));
    assert.equal(files.length, 2);
    const ds = await o.service.deliveriesForPartner(PARTNER);
    for (const d of ds) {
      const f = files.find((x) => x.includes(d.id));
      assert.ok(f, `no .eml for ${d.id}`);
      assert.equal(statSync(path.join(dir, f)).mode & 0o777, 0o600);
      const eml = readFileSync(path.join(dir, f), 'utf8');
      assert.match(eml, new RegExp(`^To: ${d.target}$`, 'm'));
      assert.match(eml, /^From: Portal <no-reply@bank\.test>$/m);
      assert.match(eml, /^Subject: Your QWAC expires in 30 days$/m);
      assert.match(eml, new RegExp(`^Message-ID: <${d.id}@bank\\.test>$`, 'm'));
      assert.match(eml, /^X-Portal-Event: certificate\.expiring$/m);
      assert.match(eml, /^Auto-Submitted: auto-generated$/m);
      assert.match(eml, /Renew it before 1 April\./);
      assert.equal(d.status, 'delivered');
    }
  });

  it('start() ticks on its interval and stop() waits for the running tick', async () => {
    await o.endpoint(PARTNER, rx.url);
    await queueWebhook(o);
    const w = o.worker({ ca: rx.ca });
    w.start(20);
    const deadline = Date.now() + 5000;
    while (rx.received.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await w.stop();
    assert.equal(rx.received.length, 1);
    assert.throws(() => o.worker().start(0), RangeError);
  });

  it('backoff and excerpt helpers: bounds of the jitter, the end of the schedule, printable excerpts', () => {
    const at = new Date(T0);
    assert.equal(nextAttemptAfter(1, at, () => 0)!.getTime() - at.getTime(), 30_000);
    assert.equal(nextAttemptAfter(1, at, () => 0.999999)!.getTime() - at.getTime(), 36_000);
    assert.equal(nextAttemptAfter(5, at, () => 0)!.getTime() - at.getTime(), 6 * 3_600_000);
    assert.equal(nextAttemptAfter(MAX_ATTEMPTS, at, () => 0), null);
    assert.equal(excerpt(new Uint8Array(), 10), null);
    assert.equal(excerpt(Buffer.from('  \n '), 10), null);
    assert.equal(excerpt(Buffer.from('abc\u001b[31mdef'), 20), 'abc?[31mdef');
    assert.equal(excerpt(Buffer.from([0xff, 0x41]), 10), '?A');
  });
});
