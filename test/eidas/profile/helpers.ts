/**
 * Profile-check fixtures: a golden PSD2 QWAC and QSealC built at test time, and helpers to build a variant,
 * parse it and run the checks. One EC key pair per process (keys never leave memory).
 */
import assert from 'node:assert/strict';
import {
  type CertSpec,
  type CryptoKeyPair,
  generateKeys,
  issueCertificate,
  type QcSpec,
} from '../../../src/devpki/builder.js';
import { type ParsedCertificate, parseCertificate } from '../../../src/eidas/certificate.js';
import * as oid from '../../../src/eidas/oids.js';
import { type ProfileResult, runProfileChecks } from '../../../src/eidas/profile/index.js';
import type { ExpectedType } from '../../../src/eidas/types.js';
import { x509 } from '../../../src/eidas/x509.js';

const DAY = 86_400_000;
export const NOW = new Date('2025-06-01T00:00:00Z');

let keys: Promise<CryptoKeyPair> | undefined;
export function ecKeys(): Promise<CryptoKeyPair> {
  keys ??= generateKeys('EC-P256');
  return keys;
}

export const PSD2_DE = {
  roles: [
    { oid: oid.id_psd2_role_psp_ai, name: 'PSP_AI' },
    { oid: oid.id_psd2_role_psp_pi, name: 'PSP_PI' },
  ],
  ncaName: 'Federal Financial Supervisory Authority',
  ncaId: 'DE-BAFIN',
};

export const PDS_EN = [{ url: 'https://qtsp.example/pds/en.pdf', language: 'en' }];

const KU = x509.KeyUsageFlags;

/** A QWAC that passes every profile check. */
export function qwacSpec(): Omit<CertSpec, 'keys'> {
  return {
    subject: 'CN=api.tpp.example, O=Example TPP GmbH, 2.5.4.97=PSDDE-BAFIN-123456, C=DE',
    notBefore: new Date(NOW.getTime() - DAY),
    notAfter: new Date(NOW.getTime() + 365 * DAY),
    keyUsage: KU.digitalSignature,
    eku: [oid.id_kp_serverAuth, oid.id_kp_clientAuth],
    san: { dns: ['api.tpp.example'] },
    policies: [oid.qcp_web, oid.qcp_web_psd2],
    qc: {
      compliance: true,
      types: [oid.id_etsi_qct_web],
      pds: PDS_EN,
      semanticsId: oid.id_etsi_qcs_semanticsId_Legal,
      psd2: PSD2_DE,
    },
  };
}

/** A QSealC that passes every profile check. */
export function qsealSpec(): Omit<CertSpec, 'keys'> {
  return {
    subject: 'CN=Example TPP GmbH seal, O=Example TPP GmbH, 2.5.4.97=PSDDE-BAFIN-123456, C=DE',
    notBefore: new Date(NOW.getTime() - DAY),
    notAfter: new Date(NOW.getTime() + 365 * DAY),
    keyUsage: KU.digitalSignature | KU.nonRepudiation,
    policies: [oid.qcp_legal_qscd],
    qc: {
      compliance: true,
      types: [oid.id_etsi_qct_eseal],
      sscd: true,
      pds: PDS_EN,
      retentionPeriod: 10,
      psd2: PSD2_DE,
    },
  };
}

export function withQc(spec: Omit<CertSpec, 'keys'>, qc: Partial<QcSpec>): Omit<CertSpec, 'keys'> {
  return { ...spec, qc: { ...spec.qc, ...qc } };
}

export async function buildDer(spec: Omit<CertSpec, 'keys'>): Promise<Uint8Array> {
  const needsOwnKey = spec.keyAlgorithm !== undefined && spec.keyAlgorithm !== 'EC-P256';
  const { cert } = await issueCertificate(needsOwnKey ? spec : { ...spec, keys: await ecKeys() });
  return new Uint8Array(cert.rawData);
}

export async function buildParsed(spec: Omit<CertSpec, 'keys'>): Promise<ParsedCertificate> {
  const parsed = parseCertificate(await buildDer(spec));
  assert.ok(parsed.ok, parsed.ok ? '' : parsed.finding.message);
  return parsed.cert;
}

export async function check(spec: Omit<CertSpec, 'keys'>, expect?: ExpectedType): Promise<ProfileResult> {
  return runProfileChecks(await buildParsed(spec), expect ? { expect } : {});
}

export function codes(result: ProfileResult): string[] {
  return result.findings.map((f) => f.code).sort();
}

/** Asserts the exact set of finding codes (order-insensitive) and returns the result for more checks. */
export async function expectCodes(
  spec: Omit<CertSpec, 'keys'>,
  expected: string[],
  expect?: ExpectedType,
): Promise<ProfileResult> {
  const result = await check(spec, expect);
  assert.deepEqual(codes(result), [...expected].sort(), result.findings.map((f) => `${f.code}: ${f.message}`).join('\n'));
  return result;
}

export function messageOf(result: ProfileResult, code: string): string {
  const f = result.findings.find((x) => x.code === code);
  assert.ok(f, `no ${code} finding`);
  return f.message;
}

/** An extension with a value built by the test (for encodings the builder cannot express). */
export function rawExtension(extnId: string, value: Uint8Array | ArrayBuffer, critical = false): x509.Extension {
  return new x509.Extension(extnId, critical, value);
}
