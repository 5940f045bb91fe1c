/**
 * Rotating the portal's key lists (directory, webhook, evidence): a new key in front signs from the next load,
 * every older key stays published so that what it signed keeps verifying; a damaged file or a full list is an
 * error naming the file, with nothing written. Also `npm run keys:rotate` itself, as a child process.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { createEvidenceKeys, rotateEvidenceKeys } from '../../src/evidence/keys.js';
import { createWebhookKeys, rotateWebhookKeys } from '../../src/notifications/keys.js';
import { verifyWebhook } from '../../src/notifications/verify.js';
import { createDirectory, DIRECTORY_ISSUER, rotateDirectoryKeys } from '../../src/registration/directory.js';
import { DamagedKeyFileError, KeyListFullError } from '../../src/store/key-file.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('store: key rotation', function () {
  this.timeout(60_000);
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'key-rotation-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('webhook: the new key signs after the next load; a body signed before still verifies against the published set', async () => {
    const before = await createWebhookKeys({ dataDir });
    const body = Buffer.from(JSON.stringify({ id: 'n-1', event: 'client.suspended', occurred_at: new Date().toISOString(), partner_id: 'p-1', data: {} }));
    const at = new Date();
    const oldSignature = await before.sign(body, at);
    const r = await rotateWebhookKeys({ dataDir });
    assert.deepEqual(r.published, [r.added, before.signingKid()]);
    const after = await createWebhookKeys({ dataDir });
    assert.equal(after.signingKid(), r.added);
    assert.deepEqual(after.publicJwks().keys.map((k) => k.kid), r.published);
    assert.ok(after.publicJwks().keys.every((k) => !('d' in k)), 'no private member published');
    const jwks = after.publicJwks();
    assert.equal((await verifyWebhook(body, oldSignature, jwks, { now: at })).kid, before.signingKid());
    const newSignature = await after.sign(body, at);
    assert.equal((await verifyWebhook(body, newSignature, jwks, { now: at })).kid, r.added);
  });

  it('directory: statements signed before the rotation still verify; new ones carry the new kid', async () => {
    const before = await createDirectory({ dataDir, issuer: DIRECTORY_ISSUER });
    const oldSsa = await before.sign({ iss: DIRECTORY_ISSUER, software_id: 'sw-1' });
    const r = await rotateDirectoryKeys({ dataDir });
    const after = await createDirectory({ dataDir, issuer: DIRECTORY_ISSUER });
    assert.equal(after.signingKid(), r.added);
    const jwks = createLocalJWKSet(after.publicJwks());
    assert.equal((await jwtVerify(oldSsa, jwks)).protectedHeader.kid, before.signingKid());
    assert.equal((await jwtVerify(await after.sign({ iss: DIRECTORY_ISSUER }), jwks)).protectedHeader.kid, r.added);
  });

  it('evidence: the signer changes, every earlier key stays published; with no file, rotation creates the first key', async () => {
    const first = await rotateEvidenceKeys({ dataDir });
    assert.deepEqual(first.published, [first.added]);
    const before = await createEvidenceKeys({ dataDir }).signer();
    assert.equal(before.kid, first.added);
    const second = await rotateEvidenceKeys({ dataDir });
    const keys = createEvidenceKeys({ dataDir });
    assert.equal((await keys.signer()).kid, second.added);
    assert.deepEqual((await keys.publicJwks()).keys.map((k) => k.kid), [second.added, first.added]);
  });

  it('a damaged file: DamagedKeyFileError naming it, the file untouched', async () => {
    await createWebhookKeys({ dataDir });
    const file = path.join(dataDir, 'notifications', 'webhook-keys.json');
    writeFileSync(file, '{"version":1,"keys":[]}');
    await assert.rejects(rotateWebhookKeys({ dataDir }), (e: unknown) => e instanceof DamagedKeyFileError && e.message.startsWith(`${file} is damaged`));
    assert.equal(readFileSync(file, 'utf8'), '{"version":1,"keys":[]}');
  });

  it('a list at its limit (20 keys): KeyListFullError naming the file, nothing written', async () => {
    for (let i = 0; i < 20; i++) await rotateEvidenceKeys({ dataDir });
    const file = path.join(dataDir, 'evidence', 'keys.json');
    const full = readFileSync(file, 'utf8');
    assert.equal((JSON.parse(full) as { keys: unknown[] }).keys.length, 20);
    await assert.rejects(rotateEvidenceKeys({ dataDir }), (e: unknown) => e instanceof KeyListFullError && e.message.startsWith(`${file} already holds 20 keys`));
    assert.equal(readFileSync(file, 'utf8'), full);
  });

  describe('npm run keys:rotate', () => {
    const run = (...args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', 'scripts/keys-rotate.ts', ...args], {
        cwd: ROOT,
        env: { ...process.env, NODE_ENV: 'test', DATA_DIR: dataDir, CERTS_DIR: path.join(dataDir, 'certs') },
        encoding: 'utf8',
      });

    it('-- webhook rotates the webhook keys and says to restart; the file then holds both keys', async () => {
      const before = await createWebhookKeys({ dataDir });
      const r = run('webhook');
      assert.equal(r.status, 0, r.stderr);
      const kid = /^new webhook key \(webhook signatures\): (\S+)$/m.exec(r.stdout)?.[1];
      assert.ok(kid, r.stdout);
      assert.match(r.stdout, new RegExp(`published now, newest first .*: ${kid}, ${before.signingKid()}$`, 'm'));
      assert.match(r.stdout, /Restart the portal to sign with the new key\./);
      assert.equal((await createWebhookKeys({ dataDir })).signingKid(), kid);
    });

    it('an unknown target or an extra argument: exit 2 with the usage, nothing written', () => {
      for (const args of [['tokens'], ['webhook', 'evidence']]) {
        const r = run(...args);
        assert.equal(r.status, 2, args.join(' '));
        assert.match(r.stderr, /^usage: npm run keys:rotate \[-- oauth\|directory\|webhook\|evidence\]/);
        assert.equal(r.stdout, '');
      }
      assert.deepEqual(spawnSync('ls', ['-A', dataDir], { encoding: 'utf8' }).stdout, '');
    });
  });
});
