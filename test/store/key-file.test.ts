/** The shared key-file store: private modes, validation that names the file, atomic writes, one winner when two create at once. */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { calculateJwkThumbprint, compactVerify, CompactSign, generateKeyPair, importJWK } from 'jose';
import { z } from 'zod';
import { DamagedKeyFileError, keyFile, loadOrCreateJwks, publicMembers, type JwkListSpec } from '../../src/store/key-file.js';

const T0 = new Date('2026-03-01T12:00:00.000Z');
const ADVICE = 'restore it from a backup.';

describe('store: key files', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'key-file-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  describe('keyFile', () => {
    const schema = z.object({ version: z.literal(1), secret: z.string().min(8) });
    type Secret = z.infer<typeof schema>;
    const spec = (extra: { check?: (d: Secret) => Promise<string | null> } = {}) =>
      keyFile<Secret>({ dataDir: dir, dir: 'area', name: 'secret.json', schema, whenDamaged: ADVICE, ...extra });
    const file = () => path.join(dir, 'area', 'secret.json');
    let calls: number;
    const make = (secret: string) => async (): Promise<Secret> => {
      calls++;
      return { version: 1, secret };
    };
    beforeEach(() => {
      calls = 0;
    });

    it('touches nothing until used, then creates the file 0600 in a 0700 directory and reloads it unchanged', async () => {
      const kf = spec();
      assert.equal(kf.file, file());
      assert.deepEqual(readdirSync(dir), []);
      assert.equal(await kf.read(), null);
      assert.deepEqual(await kf.loadOrCreate(make('first-secret')), { version: 1, secret: 'first-secret' });
      assert.equal(statSync(file()).mode & 0o777, 0o600);
      assert.equal(statSync(path.dirname(file())).mode & 0o777, 0o700);
      const text = readFileSync(file(), 'utf8');
      assert.equal(text, `${JSON.stringify({ version: 1, secret: 'first-secret' }, null, 2)}\n`);

      assert.deepEqual(await spec().loadOrCreate(make('second-secret')), { version: 1, secret: 'first-secret' });
      assert.equal(calls, 1, 'an existing file is never regenerated');
      assert.equal(readFileSync(file(), 'utf8'), text);
      assert.deepEqual(readdirSync(path.dirname(file())), ['secret.json'], 'no temporary file is left behind');
    });

    it('tightens an existing directory to 0700', async () => {
      mkdirSync(path.join(dir, 'area'), { mode: 0o755 });
      chmodSync(path.join(dir, 'area'), 0o755);
      await spec().loadOrCreate(make('first-secret'));
      assert.equal(statSync(path.join(dir, 'area')).mode & 0o777, 0o700);
    });

    it('refuses bad JSON, a wrong shape and a failed check with an error naming the file, and leaves the file alone', async () => {
      const cases: [string, string, RegExp][] = [
        ['not JSON', '{"version": 1, "secr', /\(not JSON\)/],
        ['empty', '', /\(not JSON\)/],
        ['wrong shape', JSON.stringify({ version: 1, secret: 'short' }), /\(secret: /],
        ['wrong version', JSON.stringify({ version: 2, secret: 'long-enough' }), /\(version: /],
        ['not an object', '[]', /\(file: /],
      ];
      mkdirSync(path.join(dir, 'area'));
      for (const [what, text, reason] of cases) {
        writeFileSync(file(), text);
        for (const attempt of [() => spec().loadOrCreate(make('replacement')), () => spec().read()]) {
          await assert.rejects(attempt(), (e: unknown) => {
            assert.ok(e instanceof DamagedKeyFileError, what);
            assert.equal(e.file, file(), what);
            assert.ok(e.message.startsWith(`${file()} is damaged (`), what);
            assert.match(e.message, reason, what);
            assert.ok(e.message.endsWith(`: ${ADVICE}`), what);
            return true;
          });
        }
        assert.equal(readFileSync(file(), 'utf8'), text, `${what}: the file was replaced`);
      }
      assert.equal(calls, 0);

      writeFileSync(file(), JSON.stringify({ version: 1, secret: 'long-enough' }));
      const checked = spec({ check: async (d) => (d.secret === 'long-enough' ? 'secret was revoked' : null) });
      await assert.rejects(checked.read(), { name: 'DamagedKeyFileError', message: `${file()} is damaged (secret was revoked): ${ADVICE}` });
    });

    it('write replaces the content atomically, 0600, with no temporary file left', async () => {
      const kf = spec();
      await kf.loadOrCreate(make('first-secret'));
      chmodSync(file(), 0o644);
      kf.write({ version: 1, secret: 'rotated-secret' });
      assert.deepEqual(await kf.read(), { version: 1, secret: 'rotated-secret' });
      assert.equal(statSync(file()).mode & 0o777, 0o600);
      assert.deepEqual(readdirSync(path.dirname(file())), ['secret.json']);
    });

    it('two loads at once with no file: both generate, one file wins, and both return it', async () => {
      // Both calls pass the "no file yet" check before either writes: the second must lose the race cleanly.
      const [a, b] = await Promise.all([spec().loadOrCreate(make('secret-a-1')), spec().loadOrCreate(make('secret-b-2'))]);
      assert.equal(calls, 2);
      assert.deepEqual(a, b);
      assert.deepEqual(JSON.parse(readFileSync(file(), 'utf8')), a);
      assert.deepEqual(readdirSync(path.dirname(file())), ['secret.json']);
    });
  });

  describe('loadOrCreateJwks', () => {
    const b64url = z.string().min(1).regex(/^[A-Za-z0-9_-]+$/);
    const ecJwk = z.object({
      kty: z.literal('EC'),
      crv: z.literal('P-256'),
      kid: b64url,
      alg: z.literal('ES256'),
      use: z.literal('sig'),
      x: b64url,
      y: b64url,
      d: b64url,
    });
    const spec = (): JwkListSpec<z.infer<typeof ecJwk>> => ({
      dataDir: dir,
      dir: 'signer',
      name: 'keys.json',
      alg: 'ES256',
      jwk: ecJwk,
      generate: async () => (await generateKeyPair('ES256', { extractable: true })).privateKey,
      now: () => T0,
      whenDamaged: ADVICE,
    });
    const file = () => path.join(dir, 'signer', 'keys.json');

    it('creates one key (kid = thumbprint) in the stored format, signs with it, and reloads the same key', async () => {
      const first = await loadOrCreateJwks(spec());
      assert.equal(first.file, file());
      assert.equal(statSync(file()).mode & 0o777, 0o600);
      assert.equal(statSync(path.dirname(file())).mode & 0o777, 0o700);
      const stored = JSON.parse(readFileSync(file(), 'utf8')) as { version: number; keys: { jwk: Record<string, string>; createdAt: string }[] };
      assert.equal(stored.version, 1);
      assert.equal(stored.keys.length, 1);
      assert.deepEqual(Object.keys(stored.keys[0]!).sort(), ['createdAt', 'jwk']);
      assert.equal(stored.keys[0]!.createdAt, T0.toISOString());
      assert.deepEqual(stored.keys[0]!.jwk, first.keys[0]!.jwk);
      assert.equal(first.keys[0]!.jwk.kid, await calculateJwkThumbprint(first.keys[0]!.jwk));

      const pub = publicMembers(first.keys[0]!.jwk, ['kty', 'crv', 'x', 'y', 'kid']);
      assert.deepEqual(Object.keys(pub), ['kty', 'crv', 'x', 'y', 'kid'], 'only the listed members, in that order');
      const jws = await new CompactSign(new TextEncoder().encode('hello')).setProtectedHeader({ alg: 'ES256' }).sign(first.signingKey);
      await compactVerify(jws, await importJWK(pub, 'ES256'));

      const text = readFileSync(file(), 'utf8');
      const again = await loadOrCreateJwks({ ...spec(), now: () => new Date() });
      assert.deepEqual(again.keys, first.keys);
      assert.equal(readFileSync(file(), 'utf8'), text);
    });

    it('two loads at once end up with the same key', async () => {
      const [a, b] = await Promise.all([loadOrCreateJwks(spec()), loadOrCreateJwks(spec())]);
      assert.equal(a.keys[0]!.jwk.kid, b.keys[0]!.jwk.kid);
      const stored = JSON.parse(readFileSync(file(), 'utf8')) as { keys: { jwk: { kid: string } }[] };
      assert.deepEqual(stored.keys.map((k) => k.jwk.kid), [a.keys[0]!.jwk.kid]);
    });

    it('refuses a damaged list with the file named, and does not replace it', async () => {
      const first = await loadOrCreateJwks(spec());
      const good = JSON.parse(readFileSync(file(), 'utf8')) as { version: 1; keys: { jwk: Record<string, string>; createdAt: string }[] };
      const k = good.keys[0]!;
      const other = await loadOrCreateJwks({ ...spec(), dataDir: path.join(dir, 'other') });
      const damages: [string, unknown, RegExp][] = [
        ['no keys', { version: 1, keys: [] }, /\(keys: /],
        ['too many keys', { version: 1, keys: Array.from({ length: 21 }, () => k) }, /\(keys: /],
        ['private part missing', { ...good, keys: [{ ...k, jwk: { ...k.jwk, d: undefined } }] }, /jwk\.d: /],
        ['another algorithm', { ...good, keys: [{ ...k, jwk: { ...k.jwk, alg: 'ES384' } }] }, /jwk\.alg: /],
        ['bad date', { ...good, keys: [{ ...k, createdAt: 'yesterday' }] }, /keys\.0\.createdAt: /],
        ['kid edited', { ...good, keys: [{ ...k, jwk: { ...k.jwk, kid: 'edited' } }] }, /key edited does not match its thumbprint/],
        ['x of another key', { ...good, keys: [{ ...k, jwk: { ...k.jwk, x: other.keys[0]!.jwk.x } }] }, /does not (load|match its thumbprint)/],
      ];
      for (const [what, content, reason] of damages) {
        const text = JSON.stringify(content);
        writeFileSync(file(), text);
        await assert.rejects(loadOrCreateJwks(spec()), (e: unknown) => {
          assert.ok(e instanceof DamagedKeyFileError, what);
          assert.ok(e.message.startsWith(`${file()} is damaged (`), `${what}: ${e.message}`);
          assert.match(e.message, reason, what);
          return true;
        });
        assert.equal(readFileSync(file(), 'utf8'), text, `${what}: the file was replaced`);
      }
      assert.equal(first.keys.length, 1);
    });
  });
});
