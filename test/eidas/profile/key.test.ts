import assert from 'node:assert/strict';
import type { ParsedCertificate } from '../../../src/eidas/certificate.js';
import { runProfileChecks } from '../../../src/eidas/profile/index.js';
import { buildParsed, codes, expectCodes, messageOf, qwacSpec } from './helpers.js';

/** The same certificate with a different key as the check sees it (kinds webcrypto cannot generate). */
function withKey(cert: ParsedCertificate, key: Partial<ParsedCertificate['publicKey']>): ParsedCertificate {
  return { ...cert, publicKey: { ...cert.publicKey, ...key } };
}

describe('profile: keys and signature algorithm (TS 119 312)', () => {
  let golden: ParsedCertificate;
  before(async () => {
    golden = await buildParsed(qwacSpec());
  });

  it('EC P-256 and P-384 keys are accepted', async () => {
    assert.equal(golden.publicKey.algorithm, 'EC');
    assert.equal(golden.publicKey.curve, '1.2.840.10045.3.1.7');
    await expectCodes({ ...qwacSpec(), keyAlgorithm: 'EC-P384' }, []);
  });

  it('RSA under 2048 bits is key.weak', async function () {
    this.timeout(20000);
    const r = await expectCodes({ ...qwacSpec(), keyAlgorithm: 'RSA-1024' }, ['key.weak']);
    assert.match(messageOf(r, 'key.weak'), /the RSA key is 1024 bits/);
  });

  it('an RSA exponent of 1 or an even exponent is key.weak', () => {
    for (const exponent of [1n, 65536n]) {
      const r = runProfileChecks(withKey(golden, { algorithm: 'RSA', bits: 2048, curve: null, exponent }), {});
      assert.deepEqual(codes(r), ['key.weak']);
      assert.match(messageOf(r, 'key.weak'), new RegExp(`exponent ${exponent} is not an odd number`));
    }
    const ok = runProfileChecks(withKey(golden, { algorithm: 'RSA', bits: 3072, curve: null, exponent: 65537n }), {});
    assert.deepEqual(codes(ok), []);
  });

  it('EC curves other than P-256/384/521 and Brainpool r1 are key.weak', () => {
    const k1 = runProfileChecks(withKey(golden, { curve: '1.3.132.0.10' }), {});
    assert.deepEqual(codes(k1), ['key.weak']);
    const explicit = runProfileChecks(withKey(golden, { curve: null }), {});
    assert.match(messageOf(explicit, 'key.weak'), /explicit curve parameters/);
    for (const curve of ['1.3.132.0.35', '1.3.36.3.3.2.8.1.1.7']) {
      assert.deepEqual(codes(runProfileChecks(withKey(golden, { curve }), {})), []);
    }
  });

  it('DSA and unknown key algorithms are key.weak', () => {
    assert.deepEqual(codes(runProfileChecks(withKey(golden, { algorithm: 'DSA', oid: '1.2.840.10040.4.1' }), {})), ['key.weak']);
    assert.deepEqual(codes(runProfileChecks(withKey(golden, { algorithm: 'unknown', oid: '1.2.3.4' }), {})), ['key.weak']);
  });

  it('a SHA-1 signature is signature.weak-algorithm', async () => {
    const r = await expectCodes({ ...qwacSpec(), signingHash: 'SHA-1' }, ['signature.weak-algorithm']);
    assert.match(messageOf(r, 'signature.weak-algorithm'), /ecdsa-with-SHA1 \(SHA-1\)/);
  });

  it('MD5 is signature.weak-algorithm', () => {
    const md5 = { ...golden, signatureAlgorithm: { oid: '1.2.840.113549.1.1.4', name: 'md5WithRSAEncryption', hash: 'MD5' } };
    assert.deepEqual(codes(runProfileChecks(md5, {})), ['signature.weak-algorithm']);
  });
});
