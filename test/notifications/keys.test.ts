/**
 * The webhook signing key on disk and its published JWKS.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { calculateJwkThumbprint } from 'jose';
import { createWebhookKeys } from '../../src/notifications/keys.js';
import { verifyWebhook } from '../../src/notifications/verify.js';
import { outbox, T0 } from './helpers.js';

describe('notifications: the webhook key', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'webhook-keys-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is generated on first start into DATA_DIR/notifications/webhook-keys.json (0600 in 0700) and kept across restarts', async () => {
    const a = await createWebhookKeys({ dataDir: dir, now: () => T0 });
    const file = path.join(dir, 'notifications', 'webhook-keys.json');
    assert.equal(statSync(path.dirname(file)).mode & 0o777, 0o700);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const stored = JSON.parse(readFileSync(file, 'utf8')) as { keys: { jwk: Record<string, string>; createdAt: string }[] };
    assert.equal(stored.keys.length, 1);
    assert.equal(stored.keys[0]!.createdAt, T0.toISOString());
    assert.equal(stored.keys[0]!.jwk.crv, 'P-256');
    assert.equal(a.signingKid(), await calculateJwkThumbprint(stored.keys[0]!.jwk));
    const b = await createWebhookKeys({ dataDir: dir });
    assert.equal(b.signingKid(), a.signingKid());
    // A signature made before the restart verifies with the keys published after it.
    const body = new TextEncoder().encode('{"id":"d1","event":"client.reinstated","occurred_at":"x","partner_id":null,"data":{}}');
    const sig = await a.sign(body, T0);
    assert.equal((await verifyWebhook(body, sig, b.publicJwks(), { now: T0 })).id, 'd1');
  });

  it('publishes public members only', async () => {
    const k = await createWebhookKeys({ dataDir: dir });
    const set = k.publicJwks();
    assert.equal(set.keys.length, 1);
    assert.deepEqual(Object.keys(set.keys[0]!).sort(), ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
    assert.equal(set.keys[0]!.alg, 'ES256');
    assert.equal(set.keys[0]!.use, 'sig');
  });

  it('a damaged key file stops start-up with the file named, and is not replaced', async () => {
    await createWebhookKeys({ dataDir: dir });
    const file = path.join(dir, 'notifications', 'webhook-keys.json');
    const good = readFileSync(file, 'utf8');
    for (const bad of ['{not json', JSON.stringify({ version: 1, keys: [] }), good.replace(/"kid": "[^"]+"/, '"kid": "AAAA"')]) {
      writeFileSync(file, bad);
      await assert.rejects(createWebhookKeys({ dataDir: dir }), (e: unknown) => e instanceof Error && e.message.startsWith(`${file} is damaged (`));
      assert.equal(readFileSync(file, 'utf8'), bad);
    }
  });

  it('GET /notifications/jwks.json serves them as a cacheable JWK Set', async () => {
    const o = await outbox();
    try {
      const res = await fetch(await o.jwksUrl());
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'application/jwk-set+json');
      assert.equal(res.headers.get('cache-control'), 'public, max-age=300');
      assert.deepEqual(await res.json(), o.keys.publicJwks());
    } finally {
      await o.close();
    }
  });
});
