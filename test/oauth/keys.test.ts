/** Signing keys: created once with private file modes, rotated with the retired key still published. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadSigningKeys, rotateSigningKeys } from '../../src/oauth/keys.js';

describe('oauth: signing keys', function () {
  this.timeout(30_000);
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'keys-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates one PS256 key on first load, mode 0600 in a 0700 directory, and loads the same key again', async () => {
    const first = await loadSigningKeys(dir);
    assert.equal(first.keys.length, 1);
    assert.equal(first.keys[0]!.alg, 'PS256');
    assert.equal(statSync(first.file).mode & 0o777, 0o600);
    assert.equal(statSync(path.dirname(first.file)).mode & 0o777, 0o700);
    const again = await loadSigningKeys(dir);
    assert.equal(again.keys[0]!.kid, first.keys[0]!.kid);
  });

  it('publishes public members only', async () => {
    const keys = await loadSigningKeys(dir);
    for (const k of keys.publicJwks.keys) {
      for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi']) assert.equal(member in k, false, member);
      assert.ok(k.n && k.e && k.kid);
    }
  });

  it('rotation signs with the new key first and keeps the retired one published until its tokens expired', async () => {
    const t0 = new Date('2026-12-01T00:00:00Z');
    const original = (await loadSigningKeys(dir, { now: t0 })).keys[0]!.kid!;
    const r1 = await rotateSigningKeys(dir, { retainSeconds: 3600, now: new Date(t0.getTime() + 1000) });
    assert.deepEqual(r1.retired, [original]);
    assert.deepEqual(r1.dropped, []);
    const after1 = await loadSigningKeys(dir);
    assert.deepEqual(after1.keys.map((k) => k.kid), [r1.added, original]);
    // Within the retention the retired key stays; past it the next rotation drops it.
    const r2 = await rotateSigningKeys(dir, { retainSeconds: 3600, now: new Date(t0.getTime() + 2000) });
    assert.deepEqual(r2.dropped, []);
    const r3 = await rotateSigningKeys(dir, { retainSeconds: 3600, now: new Date(t0.getTime() + 2 * 3600_000) });
    assert.deepEqual(r3.dropped.sort(), [original, r1.added].sort());
    assert.deepEqual((await loadSigningKeys(dir)).keys.map((k) => k.kid), [r3.added, r2.added]);
  });

  it('refuses a damaged keys file instead of replacing the keys', async () => {
    const keys = await loadSigningKeys(dir);
    writeFileSync(keys.file, '{"version":1,"keys":[{"jwk":{"kty":"RSA"}}]}');
    await assert.rejects(loadSigningKeys(dir), /damaged/);
    await assert.rejects(rotateSigningKeys(dir, { retainSeconds: 60 }), /damaged/);
    assert.match(readFileSync(keys.file, 'utf8'), /"kty":"RSA"/);
  });
});
