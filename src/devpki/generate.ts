/**
 * The dev PKI, built in memory: a test QTSP (root, QWAC CA, QSealC CA), a rogue CA, the portal's TLS
 * server certificate, two demo PSD2 partners (QWAC + QSealC each), CRLs, an unsigned TS 119 612 trusted
 * list and a set of bad certificates with one defect each. Keys are generated at run time.
 */
import type { FindingCode } from '../eidas/findings.js';
import * as oids from '../eidas/oids.js';
import { PSD2_ROLES } from '../eidas/profile/psd2.js';
import type { ExpectedType, Psd2RoleName } from '../eidas/types.js';
import { x509 } from '../eidas/x509.js';
import { type CertSpec, type CryptoKeyPair, type KeyAlgorithm, type QcSpec, issueCertificate } from './builder.js';
import { type CrlEntry, type RevocationReason, buildCrl } from './crl.js';
import { buildTrustedList } from './trusted-list.js';

export type CaSlug = 'root' | 'qwac-ca' | 'qseal-ca' | 'rogue-ca';
export const CA_SLUGS: readonly CaSlug[] = ['root', 'qwac-ca', 'qseal-ca', 'rogue-ca'];

export interface IssuedCert {
  cert: x509.X509Certificate;
  keys: CryptoKeyPair;
}

export interface DevCa extends IssuedCert {
  slug: CaSlug;
  /** Human name (the CN). */
  name: string;
  /** The CA that signed this one; null for self-signed. */
  issuer: CaSlug | null;
  /** TS 119 612 additional service information of its trusted-list service; null when not on the list. */
  trustedListService: 'ForWebSiteAuthentication' | 'ForeSeals' | null;
}

/** One certificate a CA issued, and its revocation status (what the CRL and OCSP responder serve). */
export interface IssuedEntry {
  /** Lowercase hex, as x509.X509Certificate.serialNumber. */
  serial: string;
  subject: string;
  /** Path of the certificate inside the dev PKI directory. */
  file: string;
  status: 'good' | 'revoked';
  revokedAt?: Date;
  reason?: RevocationReason;
}

export interface DevPartner {
  slug: string;
  /** Legal name (subject O). */
  name: string;
  country: string;
  organizationIdentifier: string;
  ncaId: string;
  ncaName: string;
  roles: Psd2RoleName[];
  /** DNS name of the partner's API host (QWAC SAN). */
  dns: string;
  qwac: IssuedCert;
  qseal: IssuedCert;
}

export interface BadCert extends IssuedCert {
  /** File stem under bad/, e.g. "expired". */
  name: string;
  /** The one defect, in plain English. */
  description: string;
  issuer: CaSlug;
  /** The use to validate it for (validateCertificate's `expect`). */
  validateAs: ExpectedType;
  /** The error finding codes a validation (at generatedAt, with the dev trusted list) must produce. */
  expect: FindingCode[];
}

export interface DevPki {
  generatedAt: Date;
  responderBaseUrl: string;
  cas: Record<CaSlug, DevCa>;
  server: IssuedCert & { dns: string[]; ip: string[] };
  partners: DevPartner[];
  bad: BadCert[];
  /** Issued certificates per CA with their status; the responder reads and updates this. */
  issued: Record<CaSlug, IssuedEntry[]>;
  /** DER CRLs as generated (the responder issues fresh ones). */
  crls: Record<CaSlug, Uint8Array>;
  trustedListXml: string;
}

const DAY = 86_400_000;
const PDS = [{ url: 'https://pki.dev-qtsp.test/pds/pds-en.pdf', language: 'en' }];
const QTSP = 'Dev Test QTSP';

const ROLE_OIDS = Object.fromEntries(PSD2_ROLES.map((r) => [r.name, r.oid])) as Record<Psd2RoleName, string>;

interface PartnerDef {
  slug: string;
  name: string;
  country: string;
  ncaId: string;
  ncaName: string;
  authorisationNumber: string;
  roles: Psd2RoleName[];
  dns: string;
}

const PARTNERS: PartnerDef[] = [
  {
    slug: 'acme-payments',
    name: 'Acme Payments GmbH',
    country: 'DE',
    ncaId: 'DE-BAFIN',
    ncaName: 'Federal Financial Supervisory Authority',
    authorisationNumber: '152645',
    roles: ['PSP_AI', 'PSP_PI'],
    dns: 'api.acme-payments.test',
  },
  {
    slug: 'nordic-insights',
    name: 'Nordic Insights AB',
    country: 'SE',
    // TS 119 495 Annex D: Finansinspektionen is SE-FINA.
    ncaId: 'SE-FINA',
    ncaName: 'Swedish Financial Supervision Authority',
    authorisationNumber: '44059',
    roles: ['PSP_AI'],
    dns: 'api.nordic-insights.test',
  },
];

/** Bad certificates are issued to this (otherwise valid) PSD2 subject. */
const BAD_SUBJECT: PartnerDef = {
  slug: 'bad',
  name: 'Broken Fintech GmbH',
  country: 'DE',
  ncaId: 'DE-BAFIN',
  ncaName: 'Federal Financial Supervisory Authority',
  authorisationNumber: '999001',
  roles: ['PSP_AI', 'PSP_PI'],
  dns: 'api.broken-fintech.test',
};

function orgId(p: PartnerDef): string {
  // TS 119 495 GEN-5.2.1-3: PSD + country of the NCA + '-' + NCA id + '-' + authorisation number.
  const [country, nca] = p.ncaId.split('-');
  return `PSD${country}-${nca}-${p.authorisationNumber}`;
}

function psd2Of(p: PartnerDef): NonNullable<QcSpec['psd2']> {
  return { roles: p.roles.map((r) => ({ oid: ROLE_OIDS[r], name: r })), ncaName: p.ncaName, ncaId: p.ncaId };
}

export async function generateDevPki(opts: {
  responderBaseUrl: string;
  now?: Date;
  keyAlgorithm?: KeyAlgorithm;
}): Promise<DevPki> {
  const now = opts.now ?? new Date();
  const base = opts.responderBaseUrl.replace(/\/+$/, '');
  const alg = opts.keyAlgorithm ?? 'RSA-2048';
  const at = (days: number) => new Date(now.getTime() + days * DAY);
  const isRsa = (a: KeyAlgorithm) => a.startsWith('RSA');
  const pointers = (ca: CaSlug) => ({
    crlUrl: `${base}/crl/${ca}.crl`,
    ocspUrl: `${base}/ocsp/${ca}`,
    caIssuersUrl: `${base}/ca/${ca}.cer`,
  });

  const issued: Record<CaSlug, IssuedEntry[]> = { root: [], 'qwac-ca': [], 'qseal-ca': [], 'rogue-ca': [] };
  const record = (ca: CaSlug, cert: x509.X509Certificate, file: string, revoked?: { at: Date; reason: RevocationReason }) => {
    const entry: IssuedEntry = { serial: cert.serialNumber, subject: cert.subject, file, status: 'good' };
    if (revoked) Object.assign(entry, { status: 'revoked', revokedAt: revoked.at, reason: revoked.reason });
    issued[ca].push(entry);
  };

  // --- CAs: validity starts two years back so backdated leaves (the expired one) nest inside it ---------
  const caValidity = { notBefore: at(-730), notAfter: at(3650) };
  const root = await issueCertificate({
    subject: `C=ZZ, O=${QTSP}, 2.5.4.97=NTRZZ-000001, CN=${QTSP} Root CA`,
    keyAlgorithm: alg,
    ...caValidity,
    notBefore: at(-731),
    ca: {},
  });
  const subCa = async (cn: string) =>
    issueCertificate({
      subject: `C=ZZ, O=${QTSP}, 2.5.4.97=NTRZZ-000001, CN=${cn}`,
      issuer: root,
      keyAlgorithm: alg,
      ...caValidity,
      ca: { pathLength: 0 },
      policies: [oids.anyPolicy],
      ...pointers('root'),
    });
  const qwacCa = await subCa(`${QTSP} QWAC CA`);
  const qsealCa = await subCa(`${QTSP} QSealC CA`);
  const rogue = await issueCertificate({
    subject: 'C=ZZ, O=Rogue Trust Services, 2.5.4.97=NTRZZ-666666, CN=Rogue Qualified CA',
    keyAlgorithm: alg,
    ...caValidity,
    ca: {},
  });
  record('root', qwacCa.cert, 'ca/qwac-ca.pem');
  record('root', qsealCa.cert, 'ca/qseal-ca.pem');

  const cas: Record<CaSlug, DevCa> = {
    root: { ...root, slug: 'root', name: `${QTSP} Root CA`, issuer: null, trustedListService: null },
    'qwac-ca': { ...qwacCa, slug: 'qwac-ca', name: `${QTSP} QWAC CA`, issuer: 'root', trustedListService: 'ForWebSiteAuthentication' },
    'qseal-ca': { ...qsealCa, slug: 'qseal-ca', name: `${QTSP} QSealC CA`, issuer: 'root', trustedListService: 'ForeSeals' },
    'rogue-ca': { ...rogue, slug: 'rogue-ca', name: 'Rogue Qualified CA', issuer: null, trustedListService: null },
  };

  // --- profiles --------------------------------------------------------------------------------------
  const qwacSpec = (p: PartnerDef, issuer: CaSlug, keyAlgorithm: KeyAlgorithm): CertSpec => ({
    subject: `C=${p.country}, O=${p.name}, 2.5.4.97=${orgId(p)}, CN=${p.dns}`,
    issuer: cas[issuer],
    keyAlgorithm,
    notBefore: at(-1),
    notAfter: at(365),
    // EN 319 412-4 §4.2 / CABF BR: digitalSignature, plus keyEncipherment for RSA key transport.
    keyUsage: x509.KeyUsageFlags.digitalSignature | (isRsa(keyAlgorithm) ? x509.KeyUsageFlags.keyEncipherment : 0),
    eku: [oids.id_kp_serverAuth, oids.id_kp_clientAuth],
    san: { dns: [p.dns] },
    // EN 319 411-2 QCP-w, TS 119 495 OVR-6.1-3 QCP-w-psd2.
    policies: [oids.qcp_web, oids.qcp_web_psd2],
    qc: {
      compliance: true,
      types: [oids.id_etsi_qct_web],
      pds: PDS,
      semanticsId: oids.id_etsi_qcs_semanticsId_Legal,
      psd2: psd2Of(p),
    },
    ...pointers(issuer),
  });
  const qsealSpec = (p: PartnerDef, issuer: CaSlug, keyAlgorithm: KeyAlgorithm): CertSpec => ({
    subject: `C=${p.country}, O=${p.name}, 2.5.4.97=${orgId(p)}, CN=${p.name}`,
    issuer: cas[issuer],
    keyAlgorithm,
    notBefore: at(-1),
    notAfter: at(365),
    // EN 319 412-3 §4.3: a seal key commits to content (nonRepudiation); no TLS EKU.
    keyUsage: x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation,
    policies: [oids.qcp_legal],
    qc: {
      compliance: true,
      types: [oids.id_etsi_qct_eseal],
      pds: PDS,
      semanticsId: oids.id_etsi_qcs_semanticsId_Legal,
      psd2: psd2Of(p),
    },
    ...pointers(issuer),
  });

  // --- portal TLS server -----------------------------------------------------------------------------
  const serverDns = ['localhost'];
  const serverIp = ['127.0.0.1', '::1'];
  const server = await issueCertificate({
    subject: `C=ZZ, O=${QTSP} Dev Portal, CN=localhost`,
    issuer: cas['qwac-ca'],
    keyAlgorithm: alg,
    notBefore: at(-1),
    notAfter: at(365),
    keyUsage: x509.KeyUsageFlags.digitalSignature | (isRsa(alg) ? x509.KeyUsageFlags.keyEncipherment : 0),
    eku: [oids.id_kp_serverAuth],
    san: { dns: serverDns, ip: serverIp },
    ...pointers('qwac-ca'),
  });
  record('qwac-ca', server.cert, 'server/server.pem');

  // --- partners ----------------------------------------------------------------------------------------
  const partners: DevPartner[] = [];
  for (const p of PARTNERS) {
    const qwac = await issueCertificate(qwacSpec(p, 'qwac-ca', alg));
    const qseal = await issueCertificate(qsealSpec(p, 'qseal-ca', alg));
    record('qwac-ca', qwac.cert, `partners/${p.slug}/qwac.pem`);
    record('qseal-ca', qseal.cert, `partners/${p.slug}/qseal.pem`);
    partners.push({
      slug: p.slug,
      name: p.name,
      country: p.country,
      organizationIdentifier: orgId(p),
      ncaId: p.ncaId,
      ncaName: p.ncaName,
      roles: [...p.roles],
      dns: p.dns,
      qwac,
      qseal,
    });
  }

  // --- bad certificates: a valid QWAC (or QSealC) with exactly one defect ------------------------------
  const good = () => qwacSpec(BAD_SUBJECT, 'qwac-ca', alg);
  const withQc = (spec: CertSpec, qc: Partial<QcSpec>): CertSpec => ({ ...spec, qc: { ...spec.qc, ...qc } });
  const revokedAt = new Date(Math.floor(now.getTime() / 1000) * 1000 - 3_600_000);
  const badDefs: {
    name: string;
    description: string;
    issuer: CaSlug;
    validateAs: ExpectedType;
    expect: FindingCode[];
    spec: CertSpec;
    revoked?: { at: Date; reason: RevocationReason };
  }[] = [
    {
      name: 'expired',
      description: 'Valid QWAC whose notAfter is one day before the generation time.',
      issuer: 'qwac-ca',
      validateAs: 'qwac',
      expect: ['expired'],
      spec: { ...good(), notBefore: at(-366), notAfter: at(-1) },
    },
    {
      name: 'not-yet-valid',
      description: 'Valid QWAC whose notBefore is one day after the generation time.',
      issuer: 'qwac-ca',
      validateAs: 'qwac',
      expect: ['not-yet-valid'],
      spec: { ...good(), notBefore: at(1), notAfter: at(366) },
    },
    {
      name: 'revoked',
      description: 'Valid QWAC revoked (keyCompromise) one hour before the generation time; listed in the QWAC CA CRL and OCSP.',
      issuer: 'qwac-ca',
      validateAs: 'qwac',
      expect: ['revoked'],
      spec: good(),
      revoked: { at: revokedAt, reason: 'keyCompromise' },
    },
    {
      name: 'eseal-as-qwac',
      description: 'A correct QSealC (QcType eseal) from the QSealC CA, presented where a QWAC is expected.',
      issuer: 'qseal-ca',
      validateAs: 'qwac',
      expect: ['qc.type-mismatch'],
      spec: qsealSpec(BAD_SUBJECT, 'qseal-ca', alg),
    },
    {
      name: 'no-qc-compliance',
      description: 'QWAC without the QcCompliance statement.',
      issuer: 'qwac-ca',
      validateAs: 'qwac',
      expect: ['qc.not-compliant'],
      spec: withQc(good(), { compliance: false }),
    },
    {
      name: 'no-psd2-statement',
      description: 'QWAC without the PSD2 QCStatement (and so without QCP-w-psd2).',
      issuer: 'qwac-ca',
      validateAs: 'qwac',
      expect: ['psd2.missing'],
      spec: { ...withQc(good(), { psd2: undefined }), policies: [oids.qcp_web] },
    },
    {
      name: 'role-name-mismatch',
      description: 'PSD2 role OID 0.4.0.19495.1.3 (PSP_AI) named "PSP_PI".',
      issuer: 'qwac-ca',
      validateAs: 'qwac',
      expect: ['psd2.role-name-mismatch'],
      spec: withQc(good(), {
        psd2: { ...psd2Of(BAD_SUBJECT), roles: [{ oid: oids.id_psd2_role_psp_ai, name: 'PSP_PI' }] },
      }),
    },
    {
      name: 'roles-empty',
      description: 'PSD2 statement with an empty RolesOfPSP.',
      issuer: 'qwac-ca',
      validateAs: 'qwac',
      expect: ['psd2.roles-empty'],
      spec: withQc(good(), { psd2: { ...psd2Of(BAD_SUBJECT), roles: [] } }),
    },
    {
      name: 'bad-nca-id',
      description: 'NCAId "DE" (the Member State instead of CC-NCA); the organizationIdentifier is the correct PSDDE-BAFIN-….',
      issuer: 'qwac-ca',
      validateAs: 'qwac',
      expect: ['psd2.nca-id-invalid'],
      spec: withQc(good(), { psd2: { ...psd2Of(BAD_SUBJECT), ncaId: 'DE' } }),
    },
    {
      name: 'bad-organization-identifier',
      description: 'organizationIdentifier "DE-BAFIN-999001" (no PSD scheme prefix).',
      issuer: 'qwac-ca',
      validateAs: 'qwac',
      expect: ['orgid.invalid'],
      spec: {
        ...good(),
        subject: `C=DE, O=${BAD_SUBJECT.name}, 2.5.4.97=DE-BAFIN-${BAD_SUBJECT.authorisationNumber}, CN=${BAD_SUBJECT.dns}`,
      },
    },
    {
      name: 'rogue-ca',
      description: 'Well-formed QWAC issued by the rogue CA, which no trusted list names.',
      issuer: 'rogue-ca',
      validateAs: 'qwac',
      expect: ['chain.untrusted'],
      spec: qwacSpec(BAD_SUBJECT, 'rogue-ca', alg),
    },
    {
      name: 'rsa-1024',
      description: 'QWAC with a 1024-bit RSA key.',
      issuer: 'qwac-ca',
      validateAs: 'qwac',
      expect: ['key.weak'],
      spec: qwacSpec(BAD_SUBJECT, 'qwac-ca', 'RSA-1024'),
    },
    {
      name: 'precertificate',
      description: 'QWAC carrying the RFC 6962 CT poison extension (a pre-certificate).',
      issuer: 'qwac-ca',
      validateAs: 'qwac',
      expect: ['precertificate'],
      spec: { ...good(), precertPoison: true },
    },
    {
      name: 'bare-qcstatements',
      description: 'qcStatements holding the PSD2 QCStatement alone instead of a SEQUENCE OF QCStatement (adorsys generator style).',
      issuer: 'qwac-ca',
      validateAs: 'qwac',
      // A bare extension can carry one statement only: QcCompliance and QcType are then really absent.
      expect: ['qcstatements.malformed', 'qc.not-compliant', 'qc.type-missing', 'qc.type-mismatch'],
      spec: withQc(good(), { encoding: 'bare' }),
    },
  ];

  const bad: BadCert[] = [];
  for (const def of badDefs) {
    const { cert, keys } = await issueCertificate(def.spec);
    record(def.issuer, cert, `bad/${def.name}.pem`, def.revoked);
    bad.push({
      name: def.name,
      description: def.description,
      issuer: def.issuer,
      validateAs: def.validateAs,
      expect: def.expect,
      cert,
      keys,
    });
  }

  // --- CRLs and trusted list ---------------------------------------------------------------------------
  const crls = {} as Record<CaSlug, Uint8Array>;
  for (const slug of CA_SLUGS) {
    const crl = await buildCrl({
      issuer: cas[slug],
      entries: crlEntries(issued[slug]),
      thisUpdate: now,
      nextUpdate: at(30),
      crlNumber: 1,
    });
    crls[slug] = new Uint8Array(crl.rawData);
  }

  const trustedListXml = buildTrustedList({
    operator: `${QTSP} Scheme Operator`,
    tspName: QTSP,
    issued: now,
    nextUpdate: at(180),
    services: [cas['qwac-ca'], cas['qseal-ca']].map((ca) => ({
      name: ca.name,
      cert: ca.cert,
      statusStartingTime: ca.cert.notBefore,
      additionalServiceInformation: ca.trustedListService ?? 'ForWebSiteAuthentication',
    })),
  });

  return {
    generatedAt: now,
    responderBaseUrl: base,
    cas,
    server: { ...server, dns: serverDns, ip: serverIp },
    partners,
    bad,
    issued,
    crls,
    trustedListXml,
  };
}

export function crlEntries(entries: IssuedEntry[]): CrlEntry[] {
  return entries
    .filter((e) => e.status === 'revoked')
    .map((e) => ({ serial: e.serial, revokedAt: e.revokedAt ?? new Date(0), reason: e.reason ?? 'unspecified' }));
}
