import assert from 'node:assert/strict';
import { AsnConvert } from '@peculiar/asn1-schema';
import * as oid from '../../../src/eidas/oids.js';
import { CabfOrganizationIdentifier } from '../../../src/eidas/profile/organization-identifier.js';
import { expectCodes, messageOf, qwacSpec, rawExtension, withQc } from './helpers.js';

function withSubject(subject: string, psd2 = true) {
  const spec = { ...qwacSpec(), subject };
  return psd2 ? spec : { ...withQc(spec, { psd2: undefined }), policies: [oid.qcp_web] };
}

function cabf(scheme: string, country: string, reference: string, state?: string) {
  const v = Object.assign(new CabfOrganizationIdentifier(), {
    registrationSchemeIdentifier: scheme,
    registrationCountry: country,
    registrationReference: reference,
  });
  if (state !== undefined) v.registrationStateOrProvince = state;
  return rawExtension(oid.id_cabf_organizationIdentifier, AsnConvert.serialize(v));
}

describe('profile: organizationIdentifier (EN 319 412-1 §5.1.4, TS 119 495 §5.2.1)', () => {
  it('no organizationIdentifier is orgid.missing', async () => {
    const r = await expectCodes(withSubject('CN=api.tpp.example, O=Example TPP GmbH, C=DE'), ['orgid.missing']);
    assert.equal(r.organizationIdentifier, null);
  });

  it('the PSD form is parsed into scheme, country, NCA and authorisation number', async () => {
    const r = await expectCodes(withSubject('CN=a.example, O=X, 2.5.4.97=PSDDE-BAFIN-12-34 AB, C=DE'), []);
    assert.deepEqual(r.organizationIdentifier, { raw: 'PSDDE-BAFIN-12-34 AB', scheme: 'PSD', country: 'DE', nca: 'BAFIN', authorisationNumber: '12-34 AB' });
  });

  it('PSDEU-NCA-… (adorsys / e-Szigno): EU is not a country', async () => {
    const spec = { ...withQc(qwacSpec(), { psd2: { roles: [{ oid: oid.id_psd2_role_psp_ai, name: 'PSP_AI' }], ncaName: 'European Authority', ncaId: 'EU-NCA' } }), subject: 'CN=a.example, O=X, 2.5.4.97=PSDEU-NCA-1DFD21, C=DE' };
    const r = await expectCodes(spec, ['orgid.invalid', 'psd2.nca-id-invalid']);
    assert.match(messageOf(r, 'orgid.invalid'), /"EU" is not the ISO 3166 code of an EEA country/);
    assert.equal(r.organizationIdentifier?.country, 'EU');
  });

  it('identifiers that do not follow the grammar are orgid.invalid', async () => {
    // Indice-style: no PSD prefix.
    const r = await expectCodes(withSubject('CN=a.example, O=X, 2.5.4.97=DE-BAFIN-800000005, C=DE'), ['orgid.invalid']);
    assert.equal(r.organizationIdentifier, null);
    assert.match(messageOf(r, 'orgid.invalid'), /"DE-BAFIN-800000005" is not <3-letter scheme>/);
    await expectCodes(withSubject('CN=a.example, O=X, 2.5.4.97=PSDDE-BAFIN1-1, C=DE'), ['orgid.invalid']);
    await expectCodes(withSubject('CN=a.example, O=X, 2.5.4.97=ABCDE-12345, C=DE'), ['orgid.invalid']);
  });

  it('VAT, NTR, LEI and local XX: schemes are accepted for non-PSD2 certificates', async () => {
    for (const [value, scheme, country] of [
      ['VATBE-0949.383.342', 'VAT', 'BE'],
      ['NTRDE-HRB74346', 'NTR', 'DE'],
      ['LEIXG-5493001KJTIIGC8Y1R12', 'LEI', 'XG'],
      ['VATEL-099028220', 'VAT', 'EL'],
      ['HU:HU-01-09-123456', 'HU:', 'HU'],
    ] as const) {
      const r = await expectCodes(withSubject(`CN=a.example, O=X, 2.5.4.97=${value}, C=DE`, false), ['psd2.missing']);
      assert.equal(r.organizationIdentifier?.scheme, scheme);
      assert.equal(r.organizationIdentifier?.country, country);
    }
  });

  it('a PSD2 certificate whose identifier is not in the PSD scheme is orgid.invalid (GEN-5.2.1-3)', async () => {
    const r = await expectCodes(withSubject('CN=a.example, O=X, 2.5.4.97=VATDE-123456789, C=DE'), ['orgid.invalid']);
    assert.match(messageOf(r, 'orgid.invalid'), /should use the PSD scheme, not "VAT"/);
  });

  it('an identifier naming another NCA than the PSD2 statement is orgid.nca-mismatch', async () => {
    const r = await expectCodes(withSubject('CN=a.example, O=X, 2.5.4.97=PSDGB-OB-Unknown123, C=GB'), ['orgid.nca-mismatch']);
    assert.match(messageOf(r, 'orgid.nca-mismatch'), /names "GB-OB" but the PSD2 statement's NCAId is "DE-BAFIN"/);
  });

  it('a cabfOrganizationIdentifier that differs from the subject is orgid.cabf-mismatch (warning)', async () => {
    await expectCodes({ ...qwacSpec(), extraExtensions: [cabf('PSD', 'DE', 'BAFIN-123456')] }, []);
    const r = await expectCodes({ ...qwacSpec(), extraExtensions: [cabf('NTR', 'DE', 'HRB 1')] }, ['orgid.cabf-mismatch']);
    assert.equal(r.findings[0]?.severity, 'warning');
    assert.match(messageOf(r, 'orgid.cabf-mismatch'), /says "NTRDE-HRB 1" but the subject organizationIdentifier is "PSDDE-BAFIN-123456"/);
    await expectCodes({ ...qwacSpec(), extraExtensions: [rawExtension(oid.id_cabf_organizationIdentifier, new Uint8Array([0x05, 0x00]))] }, ['orgid.cabf-mismatch']);
  });

  it('the CABF state part (NTRUS+CA-…) is compared too', async () => {
    const spec = { ...withSubject('CN=a.example, O=X, 2.5.4.97=NTRUS\\+CA-12345, C=US', false), extraExtensions: [cabf('NTR', 'US', '12345', 'CA')] };
    await expectCodes(spec, ['psd2.missing']);
  });
});
