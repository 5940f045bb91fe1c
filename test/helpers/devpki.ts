/**
 * A dev PKI generated at test time with its OCSP/CRL responder on an ephemeral loopback port, and the
 * sandbox trust profile read from its trusted list, as `npm start` would use them.
 */
import { generateDevPki, type DevPki } from '../../src/devpki/generate.js';
import { issueCertificate, type KeyAlgorithm } from '../../src/devpki/builder.js';
import * as oids from '../../src/eidas/oids.js';
import { x509 } from '../../src/eidas/x509.js';
import { startResponder } from '../../src/devpki/responder.js';
import { parseTrustedList, type TrustProfile } from '../../src/eidas/trust/index.js';

export type Responder = Awaited<ReturnType<typeof startResponder>>;

/** A free loopback port: certificates carry the responder URL, so it must be known before issuing. */
export { freePort } from '../../src/demo/throwaway.js';
import { freePort } from '../../src/demo/throwaway.js';

export async function devPkiWithResponder(opts: { keyAlgorithm?: KeyAlgorithm } = {}): Promise<{
  pki: DevPki;
  responder: Responder;
  trust: TrustProfile;
}> {
  const port = await freePort();
  const pki = await generateDevPki({
    responderBaseUrl: `http://127.0.0.1:${port}`,
    keyAlgorithm: opts.keyAlgorithm ?? 'EC-P256',
  });
  const responder = await startResponder({ pki, port });
  return { pki, responder, trust: sandboxTrust(pki) };
}

export function sandboxTrust(pki: DevPki): TrustProfile {
  const tl = parseTrustedList(pki.trustedListXml, { at: pki.generatedAt });
  return { name: 'sandbox', anchors: tl.anchors.filter((a) => a.status === 'granted'), sources: ['dev trusted list'] };
}

const DAY = 86_400_000;

/**
 * A renewed certificate for one of the dev partners, as its QTSP would issue it: the same subject (so the same
 * organizationIdentifier), a new key and serial, the dev profile of its kind, from the dev QTSP's CA of that
 * kind (or `issuer`). The responder is told about it (status good), so revocation checks pass.
 * `roles` overrides the PSD2 roles; `subject` the subject (another organisation).
 */
export async function renewedPartnerCertificate(
  pki: DevPki,
  slug: string,
  kind: 'qwac' | 'qseal',
  opts: { notBefore?: Date; notAfter?: Date; roles?: ('PSP_AI' | 'PSP_PI' | 'PSP_IC' | 'PSP_AS')[]; subject?: string; issuer?: 'qwac-ca' | 'qseal-ca' | 'rogue-ca' } = {},
): Promise<{ cert: x509.X509Certificate; key: string; pem: string }> {
  const partner = pki.partners.find((p) => p.slug === slug);
  if (!partner) throw new Error(`no dev partner ${slug}`);
  const caSlug = opts.issuer ?? (kind === 'qwac' ? 'qwac-ca' : 'qseal-ca');
  const ca = pki.cas[caSlug];
  const base = pki.responderBaseUrl;
  const roleOid = { PSP_AI: oids.id_psd2_role_psp_ai, PSP_PI: oids.id_psd2_role_psp_pi, PSP_IC: oids.id_psd2_role_psp_ic, PSP_AS: oids.id_psd2_role_psp_as };
  const roles = (opts.roles ?? (partner.roles as ('PSP_AI' | 'PSP_PI' | 'PSP_IC' | 'PSP_AS')[])).map((name) => ({ oid: roleOid[name], name }));
  const psd2 = { roles, ncaName: partner.ncaName, ncaId: partner.ncaId };
  const now = Date.now();
  const { cert, keys } = await issueCertificate({
    subject: opts.subject ?? partner[kind].cert.subject,
    issuer: ca,
    keyAlgorithm: 'EC-P256',
    notBefore: opts.notBefore ?? new Date(now - DAY),
    notAfter: opts.notAfter ?? new Date(now + 2 * 365 * DAY),
    ...(kind === 'qwac'
      ? {
          keyUsage: x509.KeyUsageFlags.digitalSignature,
          eku: [oids.id_kp_serverAuth, oids.id_kp_clientAuth],
          san: { dns: [partner.dns] },
          policies: [oids.qcp_web, oids.qcp_web_psd2],
          qc: { compliance: true, types: [oids.id_etsi_qct_web], pds: PDS, semanticsId: oids.id_etsi_qcs_semanticsId_Legal, psd2 },
        }
      : {
          keyUsage: x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation,
          policies: [oids.qcp_legal],
          qc: { compliance: true, types: [oids.id_etsi_qct_eseal], pds: PDS, semanticsId: oids.id_etsi_qcs_semanticsId_Legal, psd2 },
        }),
    crlUrl: `${base}/crl/${caSlug}.crl`,
    ocspUrl: `${base}/ocsp/${caSlug}`,
    caIssuersUrl: `${base}/ca/${caSlug}.cer`,
  });
  pki.issued[caSlug].push({ serial: cert.serialNumber, subject: cert.subject, file: `test/renewed-${slug}-${kind}.pem`, status: 'good' });
  const key = x509.PemConverter.encode(await globalThis.crypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY');
  return { cert, key, pem: `${cert.toString('pem')}\n${ca.cert.toString('pem')}\n` };
}

const PDS = [{ url: 'https://pki.dev-qtsp.test/pds/pds-en.pdf', language: 'en' }];
