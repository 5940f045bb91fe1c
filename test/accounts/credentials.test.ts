/**
 * Password hashing and policy, TOTP matching and the encryption of TOTP secrets at rest.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  CURRENT_PARAMS,
  dummyVerify,
  hashPassword,
  needsRehash,
  passwordProblem,
  verifyPassword,
} from '../../src/accounts/passwords.js';
import {
  decryptSecret,
  encryptSecret,
  enrolmentFor,
  matchTotp,
  newTotpSecret,
  toBase32,
  totpCode,
  totpStep,
} from '../../src/accounts/totp.js';

describe('accounts: passwords', () => {
  it('stores scrypt hashes in a self-describing form and verifies them', async () => {
    const h = await hashPassword('correct horse battery staple');
    assert.match(h, /^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    assert.equal(await verifyPassword('correct horse battery staple', h), true);
    assert.equal(await verifyPassword('correct horse battery stapl', h), false);
    // Same password, new salt: a different hash.
    assert.notEqual(await hashPassword('correct horse battery staple'), h);
  });

  it('flags hashes made with other parameters for re-hashing, and rejects damaged ones', async () => {
    const old = await hashPassword('correct horse battery staple', { N: 2 ** 14, r: 8, p: 1 });
    assert.equal(await verifyPassword('correct horse battery staple', old), true);
    assert.equal(needsRehash(old), true);
    assert.equal(needsRehash(await hashPassword('x'.repeat(12), CURRENT_PARAMS)), false);
    for (const bad of ['', 'scrypt$1$8$1$aaaa$bbbb', 'bcrypt$x', 'scrypt$33554432$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA']) {
      assert.equal(await verifyPassword('anything', bad), false, bad);
    }
  });

  it('spends scrypt work for unknown users too (dummy verification)', async () => {
    const h = await hashPassword('correct horse battery staple');
    const time = async (fn: () => Promise<unknown>) => {
      const t = process.hrtime.bigint();
      await fn();
      return Number(process.hrtime.bigint() - t) / 1e6;
    };
    await dummyVerify('warm-up');
    const real: number[] = [];
    const dummy: number[] = [];
    for (let i = 0; i < 3; i++) {
      real.push(await time(() => verifyPassword('wrong password here', h)));
      dummy.push(await time(() => dummyVerify('wrong password here')));
    }
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[1]!;
    // The same scrypt cost: the dummy path is within a factor of the real one (generous for a shared CI box).
    assert.ok(median(dummy) > median(real) * 0.5, `dummy ${median(dummy)} ms vs real ${median(real)} ms`);
    assert.ok(median(dummy) < median(real) * 2, `dummy ${median(dummy)} ms vs real ${median(real)} ms`);
  });

  it('applies the policy: 12-256 characters, not the e-mail, not a common password', () => {
    const email = 'dana@fintech.example';
    assert.match(passwordProblem('short', email)!, /at least 12/);
    assert.match(passwordProblem('x'.repeat(257), email)!, /at most 256/);
    assert.match(passwordProblem('DANA@fintech.example', email)!, /e-mail/);
    assert.match(passwordProblem('password1234', email)!, /common/);
    assert.match(passwordProblem('abababababab', email)!, /common/);
    assert.equal(passwordProblem('blue kettle on mars', email), null);
    // Length counts characters, not UTF-16 units.
    assert.match(passwordProblem('🔑🔐🔒🔓 mars', email)!, /at least 12/); // 9 characters, 13 UTF-16 units
    assert.equal(passwordProblem('🔑🔐🔒🔓 on mars', email), null); // 12 characters
  });
});

describe('accounts: TOTP', () => {
  const secret = Buffer.from('12345678901234567890'); // the RFC 6238 SHA-1 test secret

  it('matches the RFC 6238 test vector and returns the code time step', () => {
    const at = new Date(59_000);
    const code = totpCode(toBase32(secret), at);
    assert.equal(code, '287082'); // RFC 6238 Appendix B, T=59, 8 digits 94287082 -> 6 digits
    assert.equal(matchTotp(secret, code, at), totpStep(at));
  });

  it('accepts one step either side and nothing further', () => {
    const at = new Date('2026-11-22T10:00:15Z');
    const b32 = toBase32(secret);
    const step = totpStep(at);
    for (const d of [-1, 0, 1]) assert.equal(matchTotp(secret, totpCode(b32, new Date(at.getTime() + d * 30_000)), at), step + d);
    for (const d of [-2, 2]) assert.equal(matchTotp(secret, totpCode(b32, new Date(at.getTime() + d * 30_000)), at), null);
    assert.equal(matchTotp(secret, '12345', at), null);
    assert.equal(matchTotp(secret, 'abcdef', at), null);
  });

  it('encrypts secrets with AES-256-GCM bound to the user id and the key', () => {
    const key = randomBytes(32);
    const s = newTotpSecret();
    assert.equal(s.length, 20);
    const enc = encryptSecret(key, s, 'user-1');
    assert.match(enc, /^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{27}$/);
    assert.ok(!enc.includes(toBase32(s)));
    assert.deepEqual(decryptSecret(key, enc, 'user-1'), s);
    assert.throws(() => decryptSecret(key, enc, 'user-2'));
    assert.throws(() => decryptSecret(randomBytes(32), enc, 'user-1'));
    const [v, iv, tag, ct] = enc.split('.');
    const flipped = Buffer.from(ct!, 'base64url');
    flipped[0]! ^= 1;
    assert.throws(() => decryptSecret(key, [v, iv, tag, flipped.toString('base64url')].join('.'), 'user-1'));
  });

  it('builds the enrolment: otpauth URI with the issuer, base32 secret, QR code as a PNG data URL', async () => {
    const e = await enrolmentFor(secret, 'dana@fintech.example');
    const uri = new URL(e.otpauthUri);
    assert.equal(uri.protocol, 'otpauth:');
    assert.equal(uri.host, 'totp');
    assert.equal(decodeURIComponent(uri.pathname), '/Partner Portal:dana@fintech.example');
    assert.equal(uri.searchParams.get('issuer'), 'Partner Portal');
    assert.equal(uri.searchParams.get('secret'), e.secretBase32);
    assert.equal(uri.searchParams.get('digits'), '6');
    assert.equal(uri.searchParams.get('period'), '30');
    assert.equal(uri.searchParams.get('algorithm'), 'SHA1');
    assert.equal(e.secretBase32, toBase32(secret));
    assert.match(e.qrDataUrl, /^data:image\/png;base64,[A-Za-z0-9+/]+=*$/);
  });
});
