import assert from 'node:assert/strict';
import * as oid from '../../../src/eidas/oids.js';
import { x509 } from '../../../src/eidas/x509.js';
import { check, codes, expectCodes, messageOf, qsealSpec, qwacSpec, withQc } from './helpers.js';

const KU = x509.KeyUsageFlags;

describe('profile: type determination and per-type rules', () => {
  it('a golden PSD2 QWAC has no finding and reads as QWAC', async () => {
    const r = await expectCodes(qwacSpec(), [], 'qwac');
    assert.equal(r.type, 'QWAC');
    assert.deepEqual(r.psd2, { roles: ['PSP_AI', 'PSP_PI'], ncaName: 'Federal Financial Supervisory Authority', ncaId: 'DE-BAFIN' });
    assert.deepEqual(r.organizationIdentifier, {
      raw: 'PSDDE-BAFIN-123456',
      scheme: 'PSD',
      country: 'DE',
      nca: 'BAFIN',
      authorisationNumber: '123456',
    });
    assert.equal(r.qc?.compliance, true);
    assert.deepEqual(r.qc?.types, ['web']);
    assert.equal(r.qc?.semanticsId, oid.id_etsi_qcs_semanticsId_Legal);
  });

  it('a golden PSD2 QSealC has no finding and reads as QSealC', async () => {
    const r = await expectCodes(qsealSpec(), [], 'qseal');
    assert.equal(r.type, 'QSealC');
    assert.equal(r.qc?.sscd, true);
    assert.equal(r.qc?.retentionPeriod, 10);
  });

  it('a QSealC presented as a QWAC is qc.type-mismatch', async () => {
    const r = await expectCodes(qsealSpec(), ['qc.type-mismatch'], 'qwac');
    assert.match(messageOf(r, 'qc.type-mismatch'), /QSealC \(QcType eseal\) but is presented as a QWAC/);
  });

  it('a QWAC presented as a QSealC is qc.type-mismatch', async () => {
    await expectCodes(qwacSpec(), ['qc.type-mismatch'], 'qseal');
  });

  it('QcType with web and eseal is qc.type-multiple; the type follows expect, else the first listed', async () => {
    const spec = withQc(qwacSpec(), { types: [oid.id_etsi_qct_web, oid.id_etsi_qct_eseal] });
    const r = await expectCodes(spec, ['qc.type-multiple']);
    assert.equal(r.type, 'QWAC');
    // As a QSealC the QWAC's usages (serverAuth, no nonRepudiation) do not fit either.
    const asSeal = await check(spec, 'qseal');
    assert.equal(asSeal.type, 'QSealC');
    assert.deepEqual(codes(asSeal), ['eku.invalid', 'keyusage.invalid', 'policy.missing', 'qc.type-mismatch', 'qc.type-multiple']);
  });

  it('no QcType: type other and qc.type-missing (plus qc.type-mismatch when a type is expected)', async () => {
    const spec = withQc(qwacSpec(), { types: undefined });
    const r = await expectCodes(spec, ['qc.type-missing']);
    assert.equal(r.type, 'other');
    await expectCodes(spec, ['qc.type-missing', 'qc.type-mismatch'], 'qwac');
  });

  it('QcType esign alone is qc.type-mismatch (not a PSD2 certificate type)', async () => {
    const r = await expectCodes(withQc(qwacSpec(), { types: [oid.id_etsi_qct_esign] }), ['qc.type-mismatch']);
    assert.equal(r.type, 'other');
    assert.deepEqual(r.qc?.types, ['esign']);
  });

  it('QcType without QcCompliance keeps its type and is qc.not-compliant ("QWAC-like, not qualified")', async () => {
    const r = await expectCodes(withQc(qwacSpec(), { compliance: false }), ['qc.not-compliant']);
    assert.equal(r.type, 'QWAC');
  });

  it('QcSSCD in a QWAC is qc.sscd-not-allowed', async () => {
    await expectCodes(withQc(qwacSpec(), { sscd: true }), ['qc.sscd-not-allowed']);
  });

  it('a QWAC without a SAN dNSName is san.missing', async () => {
    await expectCodes({ ...qwacSpec(), san: undefined }, ['san.missing']);
    const r = await expectCodes({ ...qwacSpec(), san: { ip: ['192.0.2.1'] } }, ['san.missing']);
    assert.match(messageOf(r, 'san.missing'), /no dNSName/);
  });

  it('a QWAC needs QCP-w, QNCP-w or QNCP-w-gen', async () => {
    await expectCodes({ ...qwacSpec(), policies: [oid.cabf_ev] }, ['policy.missing']);
    await expectCodes({ ...qwacSpec(), policies: undefined }, ['policy.missing']);
    await expectCodes({ ...qwacSpec(), policies: [oid.qncp_web_gen] }, []);
    await expectCodes({ ...qwacSpec(), policies: [oid.qncp_web] }, []);
  });

  it('a QSealC needs QCP-l or QCP-l-qscd', async () => {
    await expectCodes({ ...qsealSpec(), policies: [oid.qcp_web] }, ['policy.missing']);
    await expectCodes({ ...qsealSpec(), policies: [oid.qcp_legal] }, []);
  });

  it('QCP-w-psd2 without a PSD2 statement is policy.psd2-not-allowed', async () => {
    await expectCodes(withQc(qwacSpec(), { psd2: undefined }), ['psd2.missing', 'policy.psd2-not-allowed']);
  });

  it('key usage per type', async () => {
    await expectCodes({ ...qwacSpec(), keyUsage: KU.nonRepudiation }, ['keyusage.invalid']);
    await expectCodes({ ...qwacSpec(), keyUsage: KU.digitalSignature | KU.keyCertSign }, ['keyusage.invalid']);
    await expectCodes({ ...qwacSpec(), keyUsage: undefined }, ['keyusage.invalid']);
    await expectCodes({ ...qsealSpec(), keyUsage: KU.digitalSignature }, ['keyusage.invalid']);
    await expectCodes({ ...qsealSpec(), keyUsage: KU.nonRepudiation }, []);
  });

  it('extended key usage per type', async () => {
    await expectCodes({ ...qwacSpec(), eku: [oid.id_kp_serverAuth] }, ['eku.invalid']);
    await expectCodes({ ...qwacSpec(), eku: undefined }, ['eku.invalid']);
    // QcType web but no TLS usage at all: the type contradicts the usages.
    await expectCodes({ ...qwacSpec(), eku: [oid.id_kp_emailProtection] }, ['eku.invalid', 'qc.type-mismatch']);
    await expectCodes({ ...qsealSpec(), eku: [oid.id_kp_serverAuth] }, ['eku.invalid', 'qc.type-mismatch']);
    // clientAuth and document signing are seen in real QSealCs (QuoVadis) and accepted.
    await expectCodes({ ...qsealSpec(), eku: [oid.id_kp_clientAuth, oid.ms_documentSigning] }, []);
  });

  it('type other is not held to the QWAC/QSealC usage rules', async () => {
    const spec = { ...withQc(qwacSpec(), { types: undefined }), keyUsage: undefined, eku: undefined, san: undefined, policies: [oid.qcp_web] };
    await expectCodes(spec, ['qc.type-missing']);
  });
});
