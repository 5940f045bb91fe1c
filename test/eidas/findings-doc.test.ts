/** The finding vocabulary is a public contract: its documentation is generated and must be current. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { DOC_PATH, renderFindingsDoc } from '../../scripts/docs-findings.js';
import { FINDING_CODES, FINDINGS, finding } from '../../src/eidas/findings.js';

describe('finding catalogue and docs/certificate-findings.md', () => {
  it('the committed document is what `npm run docs:findings` generates', () => {
    assert.equal(readFileSync(DOC_PATH, 'utf8'), renderFindingsDoc());
  });

  it('contains every code the issue requires', () => {
    const required = [
      'malformed', 'qcstatements.malformed', 'qc.not-compliant', 'qc.type-missing', 'qc.type-mismatch',
      'psd2.missing', 'psd2.malformed', 'psd2.roles-empty', 'psd2.role-unknown', 'psd2.role-name-mismatch',
      'psd2.nca-id-invalid', 'orgid.missing', 'orgid.invalid', 'orgid.nca-mismatch', 'subject.country-invalid',
      'policy.missing', 'keyusage.invalid', 'eku.invalid', 'precertificate', 'key.weak', 'chain.untrusted',
      'chain.incomplete', 'signature.invalid', 'expired', 'not-yet-valid', 'revoked', 'revocation.unavailable',
    ];
    assert.deepEqual(required.filter((c) => !FINDING_CODES.includes(c as never)), []);
  });

  it('gives every code a clause, a summary and a fix, and builds messages as detail + fix', () => {
    for (const code of FINDING_CODES) {
      const spec = FINDINGS[code];
      assert.ok(spec.requirement.length > 3 && spec.summary.endsWith('.') && spec.fix.endsWith('.'), code);
    }
    const f = finding('expired', 'The certificate expired on 2020-01-01.', { certIndex: 1 });
    assert.deepEqual(f, {
      code: 'expired',
      severity: 'error',
      message: `The certificate expired on 2020-01-01. ${FINDINGS.expired.fix}`,
      requirement: FINDINGS.expired.requirement,
      certIndex: 1,
    });
  });
});
