import assert from 'node:assert/strict';
import * as asn1js from 'asn1js';
import * as oid from '../../../src/eidas/oids.js';
import { expectCodes, messageOf, PSD2_DE, qsealSpec, qwacSpec, withQc } from './helpers.js';

const AI = { oid: oid.id_psd2_role_psp_ai, name: 'PSP_AI' };
const CB = { oid: oid.id_psd2_role_psp_cb, name: 'PSP_CB' };
const PA = { oid: oid.id_psd2_role_psp_pa, name: 'PSP_PA' };

function psd2(over: Partial<typeof PSD2_DE>) {
  return withQc(qwacSpec(), { psd2: { ...PSD2_DE, ...over } });
}

/** A PSD2 statement written by hand, for encodings the TS 119 495 schema cannot produce. */
function psd2Raw(value: asn1js.AsnType, spec = qwacSpec()) {
  return withQc(spec, {
    psd2: undefined,
    extraStatements: [{ oid: oid.id_etsi_psd2_qcStatement, value: new Uint8Array(value.toBER()) }],
  });
}
const utf8 = (value: string) => new asn1js.Utf8String({ value });
const role = (o: string, name: asn1js.AsnType) =>
  new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: o }), name] });

describe('profile: PSD2 statement (TS 119 495 §5)', () => {
  it('no PSD2 statement is psd2.missing', async () => {
    await expectCodes(withQc(qsealSpec(), { psd2: undefined }), ['psd2.missing']);
  });

  it('an empty role list is psd2.roles-empty', async () => {
    await expectCodes(psd2({ roles: [] }), ['psd2.roles-empty']);
  });

  it('an undefined role OID is psd2.role-unknown; "unspecified" (…1.0) is called out', async () => {
    const r = await expectCodes(
      psd2({ roles: [AI, { oid: '0.4.0.19495.1.0', name: 'PSP_XX' }] }),
      ['psd2.role-unknown'],
    );
    assert.match(messageOf(r, 'psd2.role-unknown'), /0\.4\.0\.19495\.1\.0 \("PSP_XX"\).*unspecified/);
    assert.deepEqual(r.psd2?.roles, ['PSP_AI']);
  });

  it('a role name that does not match its OID is psd2.role-name-mismatch', async () => {
    const r = await expectCodes(psd2({ roles: [{ oid: oid.id_psd2_role_psp_ai, name: 'PSP_PI' }] }), ['psd2.role-name-mismatch']);
    assert.match(messageOf(r, 'psd2.role-name-mismatch'), /named "PSP_PI" instead of "PSP_AI"/);
    // The OID decides the role.
    assert.deepEqual(r.psd2?.roles, ['PSP_AI']);
    // Human-readable names (ForgeRock dev certificates) are a mismatch too.
    await expectCodes(psd2({ roles: [{ oid: oid.id_psd2_role_psp_ai, name: 'Account Information' }] }), ['psd2.role-name-mismatch']);
  });

  it('PSP_CB / PSP_PA (V1.8.1) are recognised but psd2.role-not-tpp; NA is then allowed', async () => {
    const spec = psd2({ roles: [CB, PA], ncaName: 'NA', ncaId: 'NA' });
    const r = await expectCodes(spec, ['psd2.role-not-tpp']);
    assert.equal(r.findings[0]?.severity, 'info');
    assert.deepEqual(r.psd2?.roles, ['PSP_CB', 'PSP_PA']);
  });

  it('NCAId NA with a PSD2 role is psd2.nca-id-invalid', async () => {
    const r = await expectCodes(psd2({ roles: [AI, CB], ncaId: 'NA' }), ['psd2.nca-id-invalid', 'psd2.role-not-tpp']);
    assert.match(messageOf(r, 'psd2.nca-id-invalid'), /only when every role is a non-PSD2 role/);
  });

  it('NCAId grammar: two capital letters, hyphen, 2-8 capital letters', async () => {
    // A malformed NCAId is not compared with the organizationIdentifier (no orgid.nca-mismatch).
    await expectCodes(psd2({ ncaId: 'DE-BaFin' }), ['psd2.nca-id-invalid']);
    await expectCodes(psd2({ ncaId: 'DEBAFIN' }), ['psd2.nca-id-invalid']);
    await expectCodes(psd2({ ncaId: 'DE-BAFIN-1' }), ['psd2.nca-id-invalid']);
    // The Member State alone (zlint issue #847's "ncaId holding a Member-State code").
    await expectCodes(psd2({ ncaId: 'DE' }), ['psd2.nca-id-invalid']);
  });

  it('an NCAId outside the EEA is psd2.nca-id-invalid', async () => {
    const spec = { ...psd2({ ncaId: 'US-SEC' }), subject: 'CN=api.tpp.example, O=TPP Inc, 2.5.4.97=PSDUS-SEC-1, C=US' };
    const r = await expectCodes(spec, ['psd2.nca-id-invalid', 'orgid.invalid']);
    assert.match(messageOf(r, 'psd2.nca-id-invalid'), /"US", which is not the ISO 3166 code of an EEA country/);
  });

  it('GB (historical) and EL (Greece) are accepted countries', async () => {
    const gb = { ...psd2({ ncaId: 'GB-FCA', ncaName: 'Financial Conduct Authority' }), subject: 'CN=a.example, O=TPP Ltd, 2.5.4.97=PSDGB-FCA-827001, C=GB' };
    await expectCodes(gb, []);
    const el = { ...psd2({ ncaId: 'EL-BOG', ncaName: 'Bank of Greece' }), subject: 'CN=a.example, O=TPP AE, 2.5.4.97=PSDGR-BOG-800000005, C=GR' };
    // EL-BOG is well formed and names the same country as PSDGR-…, but Annex D lists GR-BOG.
    await expectCodes(el, ['psd2.nca-unknown']);
  });

  it('a well-formed NCAId not in the NCA table is psd2.nca-unknown (warning)', async () => {
    const spec = { ...psd2({ ncaId: 'DE-XYZ' }), subject: 'CN=a.example, O=TPP GmbH, 2.5.4.97=PSDDE-XYZ-1, C=DE' };
    const r = await expectCodes(spec, ['psd2.nca-unknown']);
    assert.equal(r.findings[0]?.severity, 'warning');
  });

  it('Annex D and observed identifiers are known (ES-BE and ES-BDE)', async () => {
    for (const id of ['ES-BE', 'ES-BDE']) {
      const spec = { ...psd2({ ncaId: id, ncaName: 'Banco de España' }), subject: `CN=a.example, O=TPP SL, 2.5.4.97=PSD${id}-1, C=ES` };
      await expectCodes(spec, []);
    }
  });

  it('an NCA name not in Latin characters is psd2.nca-name-invalid', async () => {
    await expectCodes(psd2({ ncaName: 'Τράπεζα της Ελλάδος' }), ['psd2.nca-name-invalid']);
  });

  it('an empty NCA name violates SIZE (1..256) and is psd2.nca-name-invalid', async () => {
    const r = await expectCodes(psd2({ ncaName: '' }), ['psd2.malformed', 'psd2.nca-name-invalid']);
    assert.match(messageOf(r, 'psd2.malformed'), /nCAName is empty/);
  });

  it('a PrintableString NCAName is psd2.malformed, and the statement is still read', async () => {
    const value = new asn1js.Sequence({
      value: [
        new asn1js.Sequence({ value: [role(oid.id_psd2_role_psp_ai, utf8('PSP_AI'))] }),
        new asn1js.PrintableString({ value: 'Federal Financial Supervisory Authority' }),
        utf8('DE-BAFIN'),
      ],
    });
    const r = await expectCodes(psd2Raw(value), ['psd2.malformed']);
    assert.match(messageOf(r, 'psd2.malformed'), /nCAName "Federal Financial Supervisory Authority" is a PrintableString, not a UTF8String/);
    assert.deepEqual(r.psd2, { roles: ['PSP_AI'], ncaName: 'Federal Financial Supervisory Authority', ncaId: 'DE-BAFIN' });
  });

  it('a PrintableString role name is psd2.malformed', async () => {
    const value = new asn1js.Sequence({
      value: [
        new asn1js.Sequence({ value: [role(oid.id_psd2_role_psp_ai, new asn1js.PrintableString({ value: 'PSP_AI' }))] }),
        utf8('Federal Financial Supervisory Authority'),
        utf8('DE-BAFIN'),
      ],
    });
    const r = await expectCodes(psd2Raw(value), ['psd2.malformed']);
    assert.match(messageOf(r, 'psd2.malformed'), /role name "PSP_AI" is a PrintableString/);
  });

  it('roles flattened into one RoleOfPSP (WSO2 style) are psd2.malformed; both roles are read', async () => {
    const flat = new asn1js.Sequence({
      value: [
        new asn1js.ObjectIdentifier({ value: oid.id_psd2_role_psp_as }),
        utf8('PSP_AS'),
        new asn1js.ObjectIdentifier({ value: oid.id_psd2_role_psp_ai }),
        utf8('PSP_AI'),
      ],
    });
    const value = new asn1js.Sequence({ value: [new asn1js.Sequence({ value: [flat] }), utf8('Federal Financial Supervisory Authority'), utf8('DE-BAFIN')] });
    const r = await expectCodes(psd2Raw(value), ['psd2.malformed']);
    assert.match(messageOf(r, 'psd2.malformed'), /holds 2 roles flattened into one SEQUENCE/);
    assert.deepEqual(r.psd2?.roles, ['PSP_AS', 'PSP_AI']);
  });

  it('a PSD2 statement that is not a SEQUENCE is psd2.malformed with nothing read', async () => {
    const r = await expectCodes(psd2Raw(utf8('PSP_AI')), ['psd2.malformed']);
    assert.equal(r.psd2, null);
    assert.match(messageOf(r, 'psd2.malformed'), /is a UTF8String, not a SEQUENCE/);
  });

  it('a PSD2 statement with a missing NCAId is psd2.malformed', async () => {
    const value = new asn1js.Sequence({
      value: [new asn1js.Sequence({ value: [role(oid.id_psd2_role_psp_ai, utf8('PSP_AI'))] }), utf8('Federal Financial Supervisory Authority')],
    });
    const r = await expectCodes(psd2Raw(value), ['psd2.malformed']);
    assert.match(messageOf(r, 'psd2.malformed'), /has 2 components.*nCAId is missing/);
  });
});
