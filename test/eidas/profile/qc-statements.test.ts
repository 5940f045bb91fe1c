import assert from 'node:assert/strict';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Iso4217CurrencyCode, QcCClegislation, QcEuLimitValue } from '@peculiar/asn1-x509-qualified-etsi';
import * as oid from '../../../src/eidas/oids.js';
import { expectCodes, messageOf, qsealSpec, qwacSpec, rawExtension, withQc } from './helpers.js';

const der = (v: ArrayBuffer) => new Uint8Array(v);

describe('profile: qcStatements (RFC 3739, EN 319 412-5)', () => {
  it('the bare single-QCStatement encoding is qcstatements.malformed, and still read', async () => {
    const r = await expectCodes(withQc(qwacSpec(), { encoding: 'bare' }), [
      'qcstatements.malformed',
      // The bare value can carry one statement only (here the PSD2 one), so the rest is missing.
      'qc.not-compliant',
      'qc.type-missing',
      'qc.pds-missing',
    ]);
    assert.match(messageOf(r, 'qcstatements.malformed'), /single QCStatement .* instead of a SEQUENCE OF QCStatement/);
    assert.deepEqual(r.psd2?.roles, ['PSP_AI', 'PSP_PI']);
    assert.equal(r.type, 'other');
  });

  it('a critical qcStatements extension is qcstatements.critical', async () => {
    await expectCodes(withQc(qwacSpec(), { critical: true }), ['qcstatements.critical']);
  });

  it('an undecodable qcStatements value is qcstatements.malformed only (nothing else can be said)', async () => {
    const spec = { ...qwacSpec(), qc: undefined, extraExtensions: [rawExtension(oid.id_pe_qcStatements, new Uint8Array([0x04, 0x01, 0x00]))] };
    const r = await expectCodes(spec, ['qcstatements.malformed']);
    assert.equal(r.qc, null);
    assert.equal(r.psd2, null);
    assert.match(messageOf(r, 'qcstatements.malformed'), /an OCTET STRING, not a SEQUENCE OF QCStatement/);
  });

  it('no qcStatements at all: not compliant, no type, no PDS, no PSD2', async () => {
    const r = await expectCodes({ ...qwacSpec(), qc: undefined }, [
      'qc.not-compliant',
      'qc.type-missing',
      'qc.pds-missing',
      'psd2.missing',
      'policy.psd2-not-allowed',
    ]);
    assert.equal(r.qc, null);
  });

  it('a statement with an unreadable statementInfo is qcstatements.malformed', async () => {
    const spec = withQc(qwacSpec(), { types: undefined, extraStatements: [{ oid: oid.id_etsi_qcs_QcType, value: new Uint8Array([0x05, 0x00]) }] });
    const r = await expectCodes(spec, ['qcstatements.malformed', 'qc.type-missing']);
    assert.match(messageOf(r, 'qcstatements.malformed'), /QcType statementInfo is not a SEQUENCE OF OBJECT IDENTIFIER/);
  });

  it('a statement that appears twice is qcstatements.malformed', async () => {
    const spec = withQc(qwacSpec(), { extraStatements: [{ oid: oid.id_etsi_qcs_QcCompliance }] });
    const r = await expectCodes(spec, ['qcstatements.malformed']);
    assert.match(messageOf(r, 'qcstatements.malformed'), /QcCompliance appears 2 times/);
  });

  it('QcPDS: missing, not https, no English', async () => {
    await expectCodes(withQc(qwacSpec(), { pds: undefined }), ['qc.pds-missing']);
    const http = await expectCodes(withQc(qwacSpec(), { pds: [{ url: 'http://qtsp.example/pds', language: 'en' }] }), ['qc.pds-invalid']);
    assert.match(messageOf(http, 'qc.pds-invalid'), /"http:\/\/qtsp.example\/pds" is not an https URL/);
    const noEn = await expectCodes(withQc(qwacSpec(), { pds: [{ url: 'https://qtsp.example/pds', language: 'de' }] }), ['qc.pds-invalid']);
    assert.match(messageOf(noEn, 'qc.pds-invalid'), /no PDS is in English/);
    // e-Szigno writes "EN": accepted (ISO 639-1 codes are case-insensitive here).
    await expectCodes(withQc(qwacSpec(), { pds: [{ url: 'https://qtsp.example/pds', language: 'EN' }] }), []);
  });

  it('QcCClegislation is qc.legislation-present', async () => {
    const value = der(AsnConvert.serialize(new QcCClegislation(['CH'])));
    const r = await expectCodes(withQc(qsealSpec(), { extraStatements: [{ oid: oid.id_etsi_qcs_QcCClegislation, value }] }), ['qc.legislation-present']);
    assert.deepEqual(r.qc?.legislation, ['CH']);
  });

  it('an unknown statement is qc.statement-unknown (info) and listed', async () => {
    const r = await expectCodes(withQc(qwacSpec(), { extraStatements: [{ oid: '1.2.3.4.5' }] }), ['qc.statement-unknown']);
    assert.equal(r.findings[0]?.severity, 'info');
    assert.deepEqual(r.qc?.unknownStatements, ['1.2.3.4.5']);
  });

  it('QcLimitValue and QcRetentionPeriod are read', async () => {
    const limit = new QcEuLimitValue({ currency: new Iso4217CurrencyCode('EUR'), amount: 1000, exponent: 2 });
    const spec = withQc(qsealSpec(), { extraStatements: [{ oid: oid.id_etsi_qcs_QcLimitValue, value: der(AsnConvert.serialize(limit)) }] });
    const r = await expectCodes(spec, []);
    assert.deepEqual(r.qc?.limitValue, { currency: 'EUR', amount: 1000, exponent: 2 });
    assert.equal(r.qc?.retentionPeriod, 10);
  });
});
