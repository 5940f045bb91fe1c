/**
 * Mutation tests over random and damaged DER. Every mutant of a valid QWAC must come back as a report
 * with verdict `fail` (DER is canonical and the signature covers the TBS part, so no single change may
 * leave a valid certificate), never as a crash or a hang, and each within a bounded time.
 */
import assert from 'node:assert/strict';
import { generateQwacFixture, type QwacFixture } from '../helpers/eidas.js';
import { validateCertificate } from '../../src/eidas/validate.js';

/** Deterministic PRNG (mulberry32) so a failing mutant can be reproduced from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PER_INPUT_MS = 1000;

describe('eIDAS engine: mutation tests (random and bit-flipped DER)', function () {
  this.timeout(120_000);
  let fx: QwacFixture;

  before(async () => {
    fx = await generateQwacFixture();
  });

  async function expectFail(input: Uint8Array, label: string): Promise<string[]> {
    const started = performance.now();
    const report = await validateCertificate(input, { trust: fx.trust, revocation: 'off', at: fx.at, expect: 'qwac' });
    const ms = performance.now() - started;
    assert.ok(ms < PER_INPUT_MS, `${label}: took ${ms.toFixed(0)} ms`);
    assert.equal(report.verdict, 'fail', `${label}: a mutant passed validation`);
    assert.ok(report.findings.some((f) => f.severity === 'error'), `${label}: fail without an error finding`);
    return report.findings.map((f) => f.code);
  }

  it('the unmutated certificate passes (the baseline the mutants are compared with)', async () => {
    const report = await validateCertificate(fx.leafDer, { trust: fx.trust, revocation: 'off', at: fx.at, expect: 'qwac' });
    assert.deepEqual(report.findings.filter((f) => f.severity === 'error'), []);
    assert.equal(report.verdict, 'pass');
  });

  it('fails every single-bit flip at 400 positions spread over the certificate', async () => {
    const der = fx.leafDer;
    const codes = new Map<string, number>();
    for (let i = 0; i < 400; i++) {
      const pos = Math.floor((i * der.length) / 400);
      const bit = i % 8;
      const mutant = Uint8Array.from(der);
      mutant[pos]! ^= 1 << bit;
      for (const c of await expectFail(mutant, `flip byte ${pos} bit ${bit}`)) codes.set(c, (codes.get(c) ?? 0) + 1);
    }
    // Damage shows up as structure errors or as a signature that no longer verifies.
    assert.ok((codes.get('signature.invalid') ?? 0) + (codes.get('malformed') ?? 0) > 0, JSON.stringify([...codes]));
  });

  it('fails every truncation and every random byte overwrite (seeded)', async () => {
    const der = fx.leafDer;
    const rnd = prng(0x5eed);
    for (let i = 0; i < 60; i++) {
      const cut = Math.floor(rnd() * (der.length - 1));
      await expectFail(der.slice(0, cut), `truncated at ${cut}`);
    }
    for (let i = 0; i < 120; i++) {
      const mutant = Uint8Array.from(der);
      const n = 1 + Math.floor(rnd() * 4);
      for (let j = 0; j < n; j++) {
        const pos = Math.floor(rnd() * der.length);
        let v = Math.floor(rnd() * 256);
        if (v === der[pos]) v ^= 0xff;
        mutant[pos] = v;
      }
      await expectFail(mutant, `overwrite #${i}`);
    }
  });

  it('answers random blobs and random PEM with `malformed`', async () => {
    const rnd = prng(42);
    for (let i = 0; i < 100; i++) {
      const len = 1 + Math.floor(rnd() * 4096);
      const blob = new Uint8Array(len);
      for (let j = 0; j < len; j++) blob[j] = Math.floor(rnd() * 256);
      // Half of them start like a DER SEQUENCE so the parser goes deeper than the first byte.
      if (i % 2 === 0) blob.set([0x30, 0x82, (len >> 8) & 0xff, len & 0xff].slice(0, len));
      const codes = await expectFail(blob, `random blob #${i}`);
      assert.deepEqual(codes, ['malformed'], `random blob #${i}`);
    }
    const b64 = Buffer.from(fx.leafDer).toString('base64');
    const pem = `-----BEGIN CERTIFICATE-----\n${b64.slice(0, 40)}!!${b64.slice(42)}\n-----END CERTIFICATE-----\n`;
    assert.deepEqual(await expectFail(new TextEncoder().encode(pem), 'corrupted PEM'), ['malformed']);
  });
});
