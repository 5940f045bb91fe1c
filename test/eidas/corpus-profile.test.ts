/**
 * Profile checks over the third-party corpus (real and synthetic eIDAS certificates written by others,
 * described in SOURCES.md next to them). Pending when the corpus folder is absent.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCertificate } from '../../src/eidas/certificate.js';
import { readCertificates } from '../../src/eidas/input.js';
import { type ProfileResult, runProfileChecks } from '../../src/eidas/profile/index.js';
import type { CertType, ExpectedType } from '../../src/eidas/types.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const corpus = resolve(root, process.env.EIDAS_CORPUS_DIR ?? '../shared/fixtures/third-party-certs');

interface Expectation {
  type: CertType;
  roles?: string[];
  ncaId?: string;
  orgId: string | null;
  codes: string[];
  why: string;
}

/** Leaf certificates: what SOURCES.md says about each, as findings. */
const LEAVES: Record<string, Expectation> = {
  'dss-harica-qwac-ev-nonpsd2.pem': {
    type: 'QWAC',
    orgId: 'VATGR-099028220',
    codes: ['psd2.missing'],
    why: 'real qualified QWAC without PSD2 roles',
  },
  'dss-ec-digit-qseal-nonpsd2.pem': {
    type: 'QSealC',
    orgId: 'VATBE-0949.383.342',
    codes: ['psd2.missing'],
    why: 'real qualified seal without PSD2 statement',
  },
  'dss-nowina-good-user-nonqc.pem': {
    type: 'other',
    orgId: null,
    codes: ['qc.not-compliant', 'qc.type-missing', 'qc.pds-missing', 'psd2.missing', 'orgid.missing'],
    why: 'ordinary certificate: not qualified',
  },
  'forgerock-multicert-safeconnect-qwac.pem': {
    type: 'QWAC',
    roles: ['PSP_AI', 'PSP_PI'],
    ncaId: 'GB-FCA',
    orgId: 'PSDGB-FCA-827001',
    codes: [],
    why: 'real production PSD2 QWAC (pre-Brexit GB-FCA)',
  },
  'forgerock-ob-preprod-transport-psd2.pem': {
    type: 'QWAC',
    roles: ['PSP_AI'],
    ncaId: 'GB-FCA',
    orgId: 'PSDGB-TEST-123456',
    codes: ['qc.not-compliant', 'qc.pds-missing', 'orgid.nca-mismatch', 'san.missing', 'policy.missing'],
    why: 'OB transport certificate: QcType web + PSD2 but no QcCompliance; orgId NCA TEST vs GB-FCA',
  },
  'pkilint-moneymonk-qwac-precert-good.pem': {
    type: 'QWAC',
    roles: ['PSP_AI'],
    ncaId: 'NL-DNB',
    orgId: 'PSDNL-DNB-R161162',
    codes: ['precertificate'],
    why: 'CT pre-certificate of an otherwise good PSD2 QWAC (cabfOrganizationIdentifier matches)',
  },
  'wso2-berlin-aisp-qwac.pem': {
    type: 'QWAC',
    // SOURCES.md reads PSP_AS only: the two roles are flattened into one RoleOfPSP SEQUENCE.
    roles: ['PSP_AS', 'PSP_AI'],
    ncaId: 'GB-FCA',
    orgId: 'PSDGB-OB-Unknown1234567891HQQrZAAX',
    codes: ['qc.not-compliant', 'qc.pds-missing', 'psd2.malformed', 'orgid.nca-mismatch', 'san.missing', 'policy.missing', 'signature.weak-algorithm'],
    why: 'WSO2 test QWAC: no QcCompliance, flattened roles, orgId NCA OB, SHA-1',
  },
  'wso2-berlin-aisp-qseal.pem': {
    type: 'QSealC',
    roles: ['PSP_AS', 'PSP_AI'],
    ncaId: 'GB-FCA',
    orgId: 'PSDGB-OB-Unknown1234567891HQQrZAAX',
    codes: ['qc.not-compliant', 'qc.pds-missing', 'psd2.malformed', 'orgid.nca-mismatch', 'policy.missing', 'signature.weak-algorithm'],
    why: 'WSO2 test QSealC: same defects as its QWAC',
  },
  'wso2-berlin-pisp-qwac.pem': {
    type: 'QWAC',
    roles: ['PSP_PI', 'PSP_IC'],
    ncaId: 'GB-FCA',
    orgId: 'PSDGB-OB-Unknown001122334HQQrZAAX',
    codes: ['qc.not-compliant', 'qc.pds-missing', 'psd2.malformed', 'orgid.nca-mismatch', 'san.missing', 'policy.missing', 'signature.weak-algorithm'],
    why: 'WSO2 test QWAC (PISP)',
  },
  'xs2a-eszigno-psd2-qseal-expired.pem': {
    type: 'QSealC',
    roles: ['PSP_AS', 'PSP_PI', 'PSP_AI'],
    ncaId: 'EU-NCA',
    orgId: 'PSDEU-NCA-1DFD21',
    codes: ['psd2.nca-id-invalid', 'orgid.invalid', 'policy.missing'],
    why: 'e-Szigno test QSealC: EU is not a country; only a TSP policy OID',
  },
  'zlint-mtg-psd2-qwac-valid.pem': {
    type: 'QWAC',
    roles: ['PSP_AS'],
    ncaId: 'DE-BAFIN',
    orgId: 'PSDDE-BAFIN-1234567890',
    codes: ['qc.pds-missing'],
    why: 'the structurally golden synthetic PSD2 QWAC (no QcPDS)',
  },
  'zlint-psd2-role-psp-cb-nca-id-na.pem': {
    type: 'other',
    roles: ['PSP_CB'],
    ncaId: 'NA',
    orgId: null,
    codes: ['qc.not-compliant', 'qc.type-missing', 'qc.pds-missing', 'psd2.role-not-tpp', 'orgid.missing', 'subject.country-invalid', 'subject.organization-missing'],
    why: 'V1.8.1 PSP_CB with NCAId NA: recognised, not a TPP role, NA allowed',
  },
  'zlint-psd2-statement-only-valid.pem': {
    type: 'other',
    roles: ['PSP_AS'],
    ncaId: 'ES-BDE',
    orgId: null,
    codes: ['qc.not-compliant', 'qc.type-missing', 'qc.pds-missing', 'orgid.missing', 'subject.country-invalid', 'subject.organization-missing'],
    why: 'PSD2 statement alone: well formed, not a qualified certificate',
  },
};

/** CA certificates of the corpus: read, but not eIDAS subjects. */
const CAS = [
  'dss-harica-qwac-issuing-ca.pem',
  'liamdennehy-digicert-sha2-secure-server-ca.pem',
  'wso2-dtrust-root-test-ca-2-2018.pem',
  'wso2-dtrust-test-ca-2-1-2018.pem',
  'xs2a-certgen-sample-tsp-root.pem',
  'xs2a-eszigno-test-ca3.pem',
];

function profile(file: string, expect?: ExpectedType): ProfileResult {
  const read = readCertificates(readFileSync(resolve(corpus, file)));
  assert.ok(read.ok, read.ok ? '' : read.finding.message);
  const [der] = read.ders;
  assert.ok(der);
  const parsed = parseCertificate(der);
  assert.ok(parsed.ok, parsed.ok ? '' : parsed.finding.message);
  return runProfileChecks(parsed.cert, expect ? { expect } : {});
}

function needs(ctx: Mocha.Context, file: string): void {
  if (!existsSync(resolve(corpus, file))) ctx.skip();
}

describe('eidas profile over the third-party corpus', () => {
  for (const [file, want] of Object.entries(LEAVES)) {
    it(`${file}: ${want.why}`, function () {
      needs(this, file);
      const r = profile(file);
      assert.equal(r.type, want.type);
      assert.deepEqual(r.psd2?.roles, want.roles);
      assert.equal(r.psd2?.ncaId, want.ncaId);
      assert.equal(r.organizationIdentifier?.raw ?? null, want.orgId);
      assert.deepEqual(
        r.findings.map((f) => f.code).sort(),
        [...want.codes].sort(),
        r.findings.map((f) => `${f.code}: ${f.message}`).join('\n'),
      );
    });
  }

  for (const file of CAS) {
    it(`${file}: a CA certificate reads as type other`, function () {
      needs(this, file);
      const r = profile(file);
      assert.equal(r.type, 'other');
      assert.equal(r.qc, null);
      assert.ok(r.findings.some((f) => f.code === 'qc.not-compliant'));
    });
  }

  it('the e-Szigno organizationIdentifier is parsed although invalid', function () {
    needs(this, 'xs2a-eszigno-psd2-qseal-expired.pem');
    const r = profile('xs2a-eszigno-psd2-qseal-expired.pem');
    assert.deepEqual(r.organizationIdentifier, { raw: 'PSDEU-NCA-1DFD21', scheme: 'PSD', country: 'EU', nca: 'NCA', authorisationNumber: '1DFD21' });
    assert.deepEqual(r.qc?.pds.map((p) => p.language), ['EN', 'HU']);
    assert.equal(r.qc?.retentionPeriod, 10);
  });

  it('a QSealC presented for mutual TLS is qc.type-mismatch; the HARICA QWAC is not', function () {
    needs(this, 'dss-ec-digit-qseal-nonpsd2.pem');
    needs(this, 'dss-harica-qwac-ev-nonpsd2.pem');
    assert.ok(profile('dss-ec-digit-qseal-nonpsd2.pem', 'qwac').findings.some((f) => f.code === 'qc.type-mismatch'));
    assert.ok(!profile('dss-harica-qwac-ev-nonpsd2.pem', 'qwac').findings.some((f) => f.code === 'qc.type-mismatch'));
  });

  it('every corpus PEM is read without a finding', function () {
    if (!existsSync(corpus)) this.skip();
    for (const file of [...Object.keys(LEAVES), ...CAS].filter((f) => existsSync(resolve(corpus, f)))) {
      const r = readCertificates(readFileSync(resolve(corpus, file), 'utf8'));
      assert.ok(r.ok, `${file}: ${r.ok ? '' : r.finding.message}`);
      assert.equal(r.ders.length, 1);
    }
  });
});
