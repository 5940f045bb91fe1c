import assert from 'node:assert/strict';
import * as oid from '../../../src/eidas/oids.js';
import { x509 } from '../../../src/eidas/x509.js';
import { check, codes, expectCodes, messageOf, qwacSpec, rawExtension, withQc } from './helpers.js';

describe('profile: certificate structure', () => {
  it('a CT pre-certificate is refused', async () => {
    await expectCodes({ ...qwacSpec(), precertPoison: true }, ['precertificate']);
  });

  it('an extension that appears twice is extension.duplicate', async () => {
    const r = await expectCodes(
      { ...qwacSpec(), extraExtensions: [new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true)] },
      ['extension.duplicate'],
    );
    assert.match(messageOf(r, 'extension.duplicate'), /2\.5\.29\.15 \(2 times\)/);
  });

  it('a known extension that does not decode is malformed, and its rule fails too', async () => {
    const spec = { ...qwacSpec(), policies: undefined, extraExtensions: [rawExtension(oid.id_ce_certificatePolicies, new Uint8Array([0x04, 0x00]))] };
    const r = await expectCodes(spec, ['malformed', 'policy.missing']);
    assert.match(messageOf(r, 'malformed'), /certificatePolicies extension \(2\.5\.29\.32\) could not be decoded/);
    assert.match(messageOf(r, 'policy.missing'), /could not be decoded/);
  });

  it('every code appears when its condition holds, whatever else is wrong', async function () {
    this.timeout(20000);
    const spec = {
      ...withQc(qwacSpec(), {
        compliance: false,
        critical: true,
        sscd: true,
        pds: [{ url: 'http://qtsp.example/pds', language: 'de' }],
        psd2: { roles: [{ oid: oid.id_psd2_role_psp_ai, name: 'PSP_PI' }, { oid: '0.4.0.19495.1.9', name: 'X' }], ncaName: 'Τράπεζα', ncaId: 'EU-NCA' },
        extraStatements: [{ oid: '1.2.3.4' }],
      }),
      subject: 'CN=api.tpp.example, 2.5.4.97=PSDGB-FCA-1, C=Germany',
      keyAlgorithm: 'RSA-1024' as const,
      signingHash: 'SHA-1' as const,
      keyUsage: x509.KeyUsageFlags.keyCertSign,
      eku: [oid.id_kp_emailProtection],
      san: undefined,
      policies: [oid.cabf_ev],
      precertPoison: true,
    };
    const r = await check(spec, 'qseal');
    assert.deepEqual(codes(r), [
      'eku.invalid',
      'key.weak',
      'keyusage.invalid',
      'orgid.nca-mismatch',
      'policy.missing',
      'precertificate',
      'psd2.nca-id-invalid',
      'psd2.nca-name-invalid',
      'psd2.role-name-mismatch',
      'psd2.role-unknown',
      'qc.not-compliant',
      'qc.pds-invalid',
      'qc.sscd-not-allowed',
      'qc.statement-unknown',
      'qc.type-mismatch',
      'qcstatements.critical',
      'san.missing',
      'signature.weak-algorithm',
      'subject.country-invalid',
      'subject.organization-missing',
    ]);
    assert.equal(r.type, 'QWAC');
    assert.equal(r.psd2?.ncaId, 'EU-NCA');
  });
});
