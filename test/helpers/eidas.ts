/**
 * Test fixtures for the eIDAS engine: a small hierarchy built at test time (keys never leave memory),
 * with a QWAC and a QSealC that pass the full profile, and the trust profile that anchors them.
 */
import { type CryptoKeyPair, type KeyAlgorithm, issueCertificate } from '../../src/devpki/builder.js';
import type { TrustAnchor } from '../../src/eidas/chain/index.js';
import * as oid from '../../src/eidas/oids.js';
import { pemAnchor, type TrustProfile } from '../../src/eidas/trust/index.js';
import { x509 } from '../../src/eidas/x509.js';

export interface QwacFixture {
  at: Date;
  ca: { cert: x509.X509Certificate; keys: CryptoKeyPair };
  leaf: { cert: x509.X509Certificate; keys: CryptoKeyPair };
  leafDer: Uint8Array;
  trust: TrustProfile;
}

const DAY = 86_400_000;

/** A PEM-style anchor, or with `qualifiers` one that stands for a granted trusted-list service. */
export function anchorFrom(cert: x509.X509Certificate, qualifiers: TrustAnchor['qualifiers'] = null): TrustAnchor {
  const anchor = pemAnchor(new Uint8Array(cert.rawData), 'pem:test');
  return qualifiers ? { ...anchor, source: 'tl:ZZ:test service', qualifiers, status: 'granted' } : anchor;
}

export const QWAC_QC = {
  compliance: true,
  types: [oid.id_etsi_qct_web],
  pds: [{ url: 'https://qtsp.example/pds/en', language: 'en' }],
  psd2: {
    roles: [
      { oid: oid.id_psd2_role_psp_ai, name: 'PSP_AI' },
      { oid: oid.id_psd2_role_psp_pi, name: 'PSP_PI' },
    ],
    ncaName: 'Federal Financial Supervisory Authority',
    ncaId: 'DE-BAFIN',
  },
};

/** A QWAC (TS 119 495 profile) issued by a CA that is the trust anchor of a web-qualified TL service. */
export async function generateQwacFixture(keyAlgorithm: KeyAlgorithm = 'EC-P256'): Promise<QwacFixture> {
  const at = new Date();
  const ca = await issueCertificate({
    subject: 'CN=Test QWAC CA, O=Test QTSP, 2.5.4.97=NTRDE-HRB0001, C=DE',
    keyAlgorithm,
    notBefore: new Date(at.getTime() - 30 * DAY),
    notAfter: new Date(at.getTime() + 3650 * DAY),
    ca: { pathLength: 0 },
  });
  const leaf = await issueCertificate({
    subject: 'CN=api.acme.test, O=Acme Payments GmbH, 2.5.4.97=PSDDE-BAFIN-123456, C=DE',
    issuer: ca,
    keyAlgorithm,
    notBefore: new Date(at.getTime() - DAY),
    notAfter: new Date(at.getTime() + 365 * DAY),
    keyUsage: x509.KeyUsageFlags.digitalSignature,
    eku: [oid.id_kp_serverAuth, oid.id_kp_clientAuth],
    san: { dns: ['api.acme.test'] },
    policies: [oid.qcp_web, oid.qcp_web_psd2],
    qc: QWAC_QC,
  });
  return {
    at,
    ca,
    leaf,
    leafDer: new Uint8Array(leaf.cert.rawData),
    trust: { name: 'test', anchors: [anchorFrom(ca.cert, { web: true, eseal: false, esign: false })], sources: ['test'] },
  };
}
