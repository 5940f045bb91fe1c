/**
 * The whole engine on certificates made by others: real chains to their real issuing CAs and to a real
 * EU trusted list, with the validation time pinned (most of these certificates have expired). The
 * profile-level expectations per certificate are in corpus-profile.test.ts; this file checks what only
 * the whole pipeline shows: paths, anchors, TL qualification and validity over time.
 * Fixtures: EIDAS_CORPUS_DIR and TRUSTED_LISTS_DIR (defaults under ../shared/fixtures); pending when absent.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { readCertificates } from '../../src/eidas/input.js';
import { parseTrustedList, pemAnchor, type TrustProfile } from '../../src/eidas/trust/index.js';
import type { CertificateReport, ExpectedType } from '../../src/eidas/types.js';
import { validateCertificate } from '../../src/eidas/validate.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const CORPUS = path.resolve(ROOT, process.env.EIDAS_CORPUS_DIR ?? '../shared/fixtures/third-party-certs');
const LISTS = path.resolve(ROOT, process.env.TRUSTED_LISTS_DIR ?? '../shared/fixtures/trusted-lists');

const read = (dir: string, file: string) => readFileSync(path.join(dir, file));

function trustIn(file: string): TrustProfile {
  const r = readCertificates(read(CORPUS, file));
  assert.ok(r.ok);
  return { name: 'corpus', anchors: [pemAnchor(r.ders[0]!, `pem:${file}`)], sources: [file] };
}

async function validate(file: string, trust: TrustProfile, at: string, expect?: ExpectedType): Promise<CertificateReport> {
  return validateCertificate(read(CORPUS, file), {
    trust,
    revocation: 'off',
    at: new Date(at),
    ...(expect ? { expect } : {}),
  });
}

const errorCodes = (r: CertificateReport) => [...new Set(r.findings.filter((f) => f.severity === 'error').map((f) => f.code))].sort();

describe('eIDAS engine over the third-party corpus (chains, trusted lists, time)', () => {
  before(function () {
    if (!existsSync(CORPUS)) this.skip();
  });

  it('HARICA QWAC (real, non-PSD2) chains to its issuing CA and fails only for the missing PSD2 statement', async () => {
    const r = await validate('dss-harica-qwac-ev-nonpsd2.pem', trustIn('dss-harica-qwac-issuing-ca.pem'), '2026-06-01T00:00:00Z', 'qwac');
    assert.equal(r.type, 'QWAC');
    assert.deepEqual(errorCodes(r), ['psd2.missing']);
    assert.equal(r.chain.length, 2);
    assert.equal(r.chain[1]?.anchor, true);
    assert.equal(r.organizationIdentifier?.raw, 'VATGR-099028220');
    // The same certificate after its notAfter (2026-12-01).
    const later = await validate('dss-harica-qwac-ev-nonpsd2.pem', trustIn('dss-harica-qwac-issuing-ca.pem'), '2027-01-01T00:00:00Z', 'qwac');
    assert.deepEqual(errorCodes(later), ['expired', 'psd2.missing']);
  });

  it('e-Szigno PSD2 QSealC (real test QTSP) chains to Test CA3 and shows its profile defects, then expires', async () => {
    const trust = trustIn('xs2a-eszigno-test-ca3.pem');
    const r = await validate('xs2a-eszigno-psd2-qseal-expired.pem', trust, '2018-04-01T00:00:00Z', 'qseal');
    assert.equal(r.type, 'QSealC');
    assert.equal(r.chain.length, 2);
    assert.deepEqual(r.psd2?.roles, ['PSP_AS', 'PSP_PI', 'PSP_AI']);
    assert.equal(r.psd2?.ncaId, 'EU-NCA');
    // "EU" is no ISO 3166 country (TS 119 495 GEN-5.2.1-3 / GEN-5.2.3-2); no QCP-l policy OID.
    assert.deepEqual(errorCodes(r), ['orgid.invalid', 'policy.missing', 'psd2.nca-id-invalid']);
    const later = await validate('xs2a-eszigno-psd2-qseal-expired.pem', trust, '2019-01-01T00:00:00Z', 'qseal');
    assert.deepEqual(errorCodes(later), ['expired', 'orgid.invalid', 'policy.missing', 'psd2.nca-id-invalid']);
  });

  it('EC_DIGIT QSealC chains to the QuoVadis service of the real Belgian trusted list (granted for e-seals)', async function () {
    if (!existsSync(LISTS)) this.skip();
    const at = new Date('2019-09-15T00:00:00Z');
    const tl = parseTrustedList(read(LISTS, 'tl-be-sn43.xml'), { at });
    const trust = { name: 'be-2019', anchors: tl.anchors.filter((a) => a.status === 'granted'), sources: ['tl-be-sn43.xml'] };
    const r = await validate('dss-ec-digit-qseal-nonpsd2.pem', trust, at.toISOString(), 'qseal');
    assert.equal(r.type, 'QSealC');
    assert.equal(r.chain.at(-1)?.anchorSource, 'tl:BE:QuoVadis BE PKI Certification Authority G2');
    // Qualified seal (the TL service grants e-seals), but not a PSD2 certificate.
    assert.deepEqual(errorCodes(r), ['psd2.missing']);
    // Presented as a QWAC it is the wrong type, and the service does not grant website authentication.
    const asQwac = await validate('dss-ec-digit-qseal-nonpsd2.pem', trust, at.toISOString(), 'qwac');
    assert.ok(errorCodes(asQwac).includes('qc.type-mismatch'), errorCodes(asQwac).join());
  });

  it('MULTICERT production QWAC without its issuing CA: chain.incomplete naming the missing issuer', async function () {
    if (!existsSync(LISTS)) this.skip();
    const at = new Date('2020-01-01T00:00:00Z');
    const tl = parseTrustedList(read(LISTS, 'tl-el-sn42.xml'), { at });
    const trust = { name: 'el-2019', anchors: tl.anchors, sources: ['tl-el-sn42.xml'] };
    const r = await validate('forgerock-multicert-safeconnect-qwac.pem', trust, at.toISOString(), 'qwac');
    assert.deepEqual(errorCodes(r), ['chain.incomplete']);
    assert.match(r.findings.find((f) => f.code === 'chain.incomplete')!.message, /MULTICERT SSL Certification Authority 001/);
    assert.deepEqual(r.psd2?.roles, ['PSP_AI', 'PSP_PI']);
    assert.equal(r.organizationIdentifier?.raw, 'PSDGB-FCA-827001');
  });

  it('D-TRUST Test CA 2-1 verifies against the D-TRUST test root (a real QTSP test hierarchy)', async () => {
    const r = await validate('wso2-dtrust-test-ca-2-1-2018.pem', trustIn('wso2-dtrust-root-test-ca-2-2018.pem'), '2020-01-01T00:00:00Z');
    assert.equal(r.chain.length, 2);
    assert.deepEqual(
      r.findings.filter((f) => f.code.startsWith('chain.') || f.code === 'signature.invalid' || f.code === 'expired'),
      [],
    );
  });

  it('a certificate with a signature that no longer verifies is signature.invalid', async () => {
    const r0 = readCertificates(read(CORPUS, 'dss-harica-qwac-ev-nonpsd2.pem'));
    assert.ok(r0.ok);
    const der = Uint8Array.from(r0.ders[0]!);
    der[der.length - 10]! ^= 0x01; // inside signatureValue
    const r = await validateCertificate(der, {
      trust: trustIn('dss-harica-qwac-issuing-ca.pem'),
      revocation: 'off',
      at: new Date('2026-06-01T00:00:00Z'),
      expect: 'qwac',
    });
    assert.deepEqual(errorCodes(r), ['psd2.missing', 'signature.invalid']);
  });
});
