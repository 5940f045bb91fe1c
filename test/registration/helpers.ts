/**
 * Registration evaluator on real parts: the partners harness (SQLite in a temp dir, audit, register, the
 * eIDAS engine on the dev PKI with its OCSP/CRL responder), the SQLite replay store, a test directory (a
 * jose PS256 key pair), a software product map, and PresentedCertificate objects validated by the engine
 * exactly as the mutual-TLS listener would validate them.
 */
import { createHash, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose';
import { issueCertificate } from '../../src/devpki/builder.js';
import type { DevPki } from '../../src/devpki/generate.js';
import * as oids from '../../src/eidas/oids.js';
import type { EidasService } from '../../src/eidas/service.js';
import { x509 } from '../../src/eidas/x509.js';
import type { PresentedCertificate } from '../../src/oauth/types.js';
import type { ApplicationView, PartnerView, RequestedRole } from '../../src/partners/types.js';
import { createRegistrationEvaluator, type RegistrationEvaluator, type RegistrationPartners } from '../../src/registration/evaluate.js';
import { STATEMENT_ROLES } from '../../src/registration/software.js';
import type { RegistrationRequestInput, SoftwareProduct } from '../../src/registration/types.js';
import { createSqliteRegistrationJtiStore } from '../../src/store/sqlite/registration-jti.js';
import {
  acmeProfile,
  applicant,
  APPROVER_A,
  APPROVER_B,
  count,
  file,
  goodAnswers,
  harness,
  partnerCert,
  PDF,
  REVIEWER,
  type Harness,
} from '../partners/helpers.js';

export const AUDIENCE = 'https://as.bank.test';
export const DIRECTORY_ISSUER = 'https://portal.bank.test/directory';
export const SSA_MAX_AGE_DAYS = 30;

type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>;

export interface SigningKey {
  privateKey: KeyPair['privateKey'];
  publicJwk: JWK;
  kid: string;
  alg: 'PS256' | 'ES256';
}

export async function signingKey(alg: 'PS256' | 'ES256', kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { privateKey, publicJwk, kid, alg };
}

/** DER → PresentedCertificate with the engine's QWAC report, as the mutual-TLS certificate context builds it. */
export async function present(eidas: EidasService, certs: x509.X509Certificate[]): Promise<PresentedCertificate> {
  const ders = certs.map((c) => new Uint8Array(c.rawData));
  const report = await eidas.validate(x509.PemConverter.encode(ders, 'CERTIFICATE'), { expect: 'qwac' });
  const issuer = report.chain.length > 1 && ders[1] ? new x509.X509Certificate(ders[1]) : null;
  return {
    ders,
    pem: x509.PemConverter.encode([ders[0]!], 'CERTIFICATE'),
    thumbprint: createHash('sha256').update(ders[0]!).digest('base64url'),
    source: 'tls',
    report,
    issuerKeySha256: issuer ? createHash('sha256').update(Buffer.from(issuer.publicKey.rawData)).digest('hex') : null,
  };
}

export function devPartner(pki: DevPki, slug: string) {
  const p = pki.partners.find((x) => x.slug === slug);
  if (!p) throw new Error(`no dev partner ${slug}`);
  return p;
}

export function qwacOf(pki: DevPki, slug: string): x509.X509Certificate[] {
  return [devPartner(pki, slug).qwac.cert, pki.cas['qwac-ca'].cert];
}

export function qsealX5c(pki: DevPki, slug: string): string[] {
  return [devPartner(pki, slug).qseal.cert, pki.cas['qseal-ca'].cert].map((c) => Buffer.from(c.rawData).toString('base64'));
}

export function badQwac(pki: DevPki, name: string): x509.X509Certificate[] {
  const b = pki.bad.find((x) => x.name === name);
  if (!b) throw new Error(`no bad cert ${name}`);
  return [b.cert, pki.cas[b.issuer].cert];
}

/**
 * A valid QWAC whose organizationIdentifier is not a PSD2 authorisation (NTR scheme): its PSD2 statement
 * names only a role outside PSD2 (PSP_CB) with NCA "NA", as TS 119 495 V1.8.1 allows. Recorded with the
 * responder so that OCSP says good.
 */
export async function nonPsdQwac(pki: DevPki): Promise<x509.X509Certificate[]> {
  const now = Date.now();
  const ca = pki.cas['qwac-ca'];
  const base = pki.responderBaseUrl;
  const { cert } = await issueCertificate({
    subject: 'C=DE, O=Plain Fintech GmbH, 2.5.4.97=NTRDE-HRB654321, CN=api.plain-fintech.test',
    issuer: ca,
    keyAlgorithm: 'EC-P256',
    notBefore: new Date(now - 86_400_000),
    notAfter: new Date(now + 365 * 86_400_000),
    keyUsage: x509.KeyUsageFlags.digitalSignature,
    eku: [oids.id_kp_serverAuth, oids.id_kp_clientAuth],
    san: { dns: ['api.plain-fintech.test'] },
    policies: [oids.qcp_web, oids.qcp_web_psd2],
    qc: {
      compliance: true,
      types: [oids.id_etsi_qct_web],
      pds: [{ url: 'https://pki.dev-qtsp.test/pds/pds-en.pdf', language: 'en' }],
      semanticsId: oids.id_etsi_qcs_semanticsId_Legal,
      psd2: { roles: [{ oid: oids.id_psd2_role_psp_cb, name: 'PSP_CB' }], ncaName: 'Not applicable', ncaId: 'NA' },
    },
    crlUrl: `${base}/crl/qwac-ca.crl`,
    ocspUrl: `${base}/ocsp/qwac-ca`,
    caIssuersUrl: `${base}/ca/qwac-ca.cer`,
  });
  pki.issued['qwac-ca'].push({ serial: cert.serialNumber, subject: cert.subject, file: 'test/non-psd.pem', status: 'good' });
  return [cert, ca.cert];
}

// --- approved partners through the real partners service ---------------------------------------------------

/** Acme Payments, regulated track, approved by policy (AIS + PIS unless told otherwise). */
export async function approvedRegulated(h: Harness, roles: RequestedRole[] = ['AIS', 'PIS']): Promise<PartnerView> {
  return (await approvedRegulatedApplication(h, roles)).partner;
}

export async function approvedRegulatedApplication(
  h: Harness,
  roles: RequestedRole[] = ['AIS', 'PIS'],
): Promise<{ applicationId: string; partner: PartnerView }> {
  const a = applicant();
  const app = await h.service.createApplication(a);
  await h.service.saveProfile(a, app.id, acmeProfile({ requestedRoles: roles }));
  await h.service.uploadCertificate(a, app.id, 'qwac', partnerCert(h.pki, 'acme-payments', 'qwac'));
  await h.service.uploadCertificate(a, app.id, 'qseal', partnerCert(h.pki, 'acme-payments', 'qseal'));
  const view = await h.service.submit(a, app.id);
  if (view.state !== 'approved' || !view.partner) throw new Error(`acme not approved: ${view.state} ${JSON.stringify(view.autoApproval)}`);
  return { applicationId: app.id, partner: view.partner };
}

/** Acme Payments on the partner track, approved with conditions by two approvers: AIS only. */
export async function conditionallyApproved(h: Harness): Promise<PartnerView> {
  const a = applicant();
  const app = await h.service.createApplication(a);
  await h.service.saveProfile(a, app.id, acmeProfile({ track: 'partner', requestedRoles: ['AIS', 'PIS'] }));
  await h.service.uploadCertificate(a, app.id, 'qwac', partnerCert(h.pki, 'acme-payments', 'qwac'));
  await h.service.uploadCertificate(a, app.id, 'qseal', partnerCert(h.pki, 'acme-payments', 'qseal'));
  await h.service.saveAnswers(a, app.id, {
    ...goodAnswers(h.clock.now),
    'q.monitoring': 'always',
    'q.continuity': 'tested_12m',
    'q.fraud_controls': ['payee_check', 'velocity_limits', 'anomaly_detection'],
  });
  for (const q of ['q.iso27001', 'q.soc2', 'q.pentest_date']) {
    await h.service.uploadEvidence(a, app.id, q, file(PDF, 'x.pdf', 'application/pdf'));
  }
  await h.service.submit(a, app.id);
  await h.service.startReview(REVIEWER, app.id);
  const due = new Date(h.clock.now.getTime() + 90 * 86_400_000).toISOString().slice(0, 10);
  await h.service.approveWithConditions(APPROVER_A, app.id, {
    allowedRoles: ['AIS'],
    remediation: [{ text: 'Run a fraud-control audit.', dueDate: due }],
    text: 'PIS after the audit.',
  });
  const done: ApplicationView = await h.service.secondApprove(APPROVER_B, app.id, { text: null });
  if (done.state !== 'conditionally_approved' || !done.partner) throw new Error(`not conditionally approved: ${done.state}`);
  return done.partner;
}

// --- the world of one test -----------------------------------------------------------------------------------

export interface World {
  h: Harness;
  evaluator: RegistrationEvaluator;
  partners: RegistrationPartners;
  directoryKey: SigningKey;
  softwareKey: SigningKey;
  products: Map<string, SoftwareProduct>;
  clients: Map<string, string>;
  fetched: string[];
  endpoints: Map<string, { keys: JWK[] }>;
  clock: { now: Date };
  acme: PresentedCertificate;
  close(): void;
}

export async function world(opts: Parameters<typeof harness>[0] = {}): Promise<World> {
  const h = await harness(opts);
  const directoryKey = await signingKey('PS256', 'directory-1');
  const softwareKey = await signingKey('ES256', 'software-sig-1');
  const products = new Map<string, SoftwareProduct>();
  const clients = new Map<string, string>();
  const fetched: string[] = [];
  const endpoints = new Map<string, { keys: JWK[] }>();
  const clock = { now: new Date() };
  const partners: RegistrationPartners = h.service;
  const evaluator = createRegistrationEvaluator({
    directory: { issuer: DIRECTORY_ISSUER, publicJwks: () => ({ keys: [directoryKey.publicJwk] }) },
    software: { getSoftware: async (id) => products.get(id) ?? null },
    partners,
    clients: {
      findBySoftware: async (orgId, softwareId) => {
        const clientId = clients.get(`${orgId} ${softwareId}`);
        return clientId ? { clientId } : null;
      },
    },
    eidas: h.eidas,
    jtis: createSqliteRegistrationJtiStore(h.db, h.tx),
    audience: () => AUDIENCE,
    ssaMaxAgeDays: SSA_MAX_AGE_DAYS,
    fetchJwks: async (uri) => {
      fetched.push(uri);
      const set = endpoints.get(uri);
      if (!set) throw new Error('HTTP 404');
      return set;
    },
    now: () => clock.now,
  });
  const acme = await present(h.eidas, qwacOf(h.pki, 'acme-payments'));
  return { h, evaluator, partners, directoryKey, softwareKey, products, clients, fetched, endpoints, clock, acme, close: () => h.close() };
}

export function product(w: World, partner: PartnerView, over: Partial<SoftwareProduct> = {}): SoftwareProduct {
  const p: SoftwareProduct = {
    id: `sw-${randomUUID().slice(0, 8)}`,
    partnerId: partner.id,
    orgId: partner.organizationIdentifier!,
    name: 'Acme Aggregator',
    redirectUris: ['https://app.acme-payments.test/callback', 'https://app.acme-payments.test/cb2'],
    roles: ['AIS', 'PIS'],
    jwks: { keys: [w.softwareKey.publicJwk as Record<string, unknown>] },
    jwksUri: null,
    status: 'active',
    createdAt: w.clock.now.toISOString(),
    ...over,
  };
  w.products.set(p.id, p);
  return p;
}

/** A software statement for the product, signed by the test directory (claims overridable). */
export async function statement(
  w: World,
  p: SoftwareProduct,
  over: Record<string, unknown> = {},
  opts: { key?: SigningKey; iat?: number; issuer?: string } = {},
): Promise<string> {
  const key = opts.key ?? w.directoryKey;
  const claims: JWTPayload = {
    software_id: p.id,
    software_client_name: p.name,
    software_version: '1.0',
    software_roles: p.roles.map((r) => STATEMENT_ROLES[r]),
    software_redirect_uris: p.redirectUris,
    ...(p.jwks ? { software_jwks: p.jwks } : {}),
    ...(p.jwksUri ? { software_jwks_endpoint: p.jwksUri } : {}),
    org_id: p.orgId,
    org_name: 'Acme Payments GmbH',
    org_status: 'Active',
    ...over,
  };
  return new SignJWT(claims)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
    .setIssuer(opts.issuer ?? DIRECTORY_ISSUER)
    .setIssuedAt(opts.iat ?? Math.floor(w.clock.now.getTime() / 1000))
    .setJti(randomUUID())
    .sign(key.privateKey);
}

/** A signed registration request (UK OB style): claims default to a valid request for `softwareId`. */
export async function signedRequest(
  w: World,
  softwareId: string,
  metadata: Record<string, unknown>,
  opts: { key?: SigningKey; header?: Record<string, unknown>; claims?: Record<string, unknown>; signWith?: KeyPair['privateKey']; alg?: string } = {},
): Promise<string> {
  const key = opts.key ?? w.softwareKey;
  const now = Math.floor(w.clock.now.getTime() / 1000);
  const payload: JWTPayload = { iss: softwareId, aud: AUDIENCE, iat: now, exp: now + 300, jti: randomUUID(), ...metadata, ...opts.claims };
  for (const [k, v] of Object.entries(payload)) if (v === undefined) delete payload[k];
  return new SignJWT(payload)
    .setProtectedHeader({ alg: opts.alg ?? key.alg, kid: key.kid, typ: 'JWT', ...opts.header })
    .sign(opts.signWith ?? key.privateKey);
}

export function jsonInput(body: unknown, certificate: PresentedCertificate | null, over: Partial<RegistrationRequestInput> = {}): RegistrationRequestInput {
  return { contentType: 'application/json', body: Buffer.from(JSON.stringify(body)), certificate, ip: '192.0.2.50', ...over };
}

export function jwtInput(jws: string, certificate: PresentedCertificate | null, over: Partial<RegistrationRequestInput> = {}): RegistrationRequestInput {
  return { contentType: 'application/jwt', body: Buffer.from(jws), certificate, ip: '192.0.2.50', ...over };
}

export function jtiCount(w: World): number {
  return count(w.h.db, 'registration_jtis');
}

export function partnerCount(w: World): number {
  return count(w.h.db, 'partners');
}
