/**
 * A partners service on real parts: SQLite in a temp dir, the transactor, the audit log, the register
 * service (dev register imported), the questionnaire, and the eIDAS engine on a dev PKI generated once per
 * test run with its OCSP/CRL responder.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { webcrypto } from 'node:crypto';
import forge from 'node-forge';
import { createAuditService, type AuditService } from '../../src/audit/service.js';
import { AppError } from '../../src/errors.js';
import { loadConfig } from '../../src/config.js';
import { issueCertificate } from '../../src/devpki/builder.js';
import type { DevPki } from '../../src/devpki/generate.js';
import { readCertificates } from '../../src/eidas/input.js';
import { createEidasService, type EidasService } from '../../src/eidas/service.js';
import type { CertificateReport } from '../../src/eidas/types.js';
import type { x509 } from '../../src/eidas/x509.js';
import { createLogger } from '../../src/logger.js';
import { createPartnersService, type PartnersServiceDeps } from '../../src/partners/service.js';
import type { ActorRef, PartnersService, StaffRole, UploadedFile } from '../../src/partners/types.js';
import { createRegisterService, DEV_REGISTER_FILE, type RegisterService } from '../../src/register/service.js';
import { openDatabase, type Db } from '../../src/store/database.js';
import { createTransactor, type Transactor } from '../../src/store/transaction.js';
import { devPkiWithResponder, type Responder } from '../helpers/devpki.js';

let shared: Promise<{ pki: DevPki; responder: Responder; eidas: EidasService; dir: string }> | null = null;

/** One dev PKI, responder and engine for the whole run (key generation and trust loading are the slow part). */
export function sharedPki() {
  shared ??= (async () => {
    const { pki, responder, trust } = await devPkiWithResponder();
    const dir = mkdtempSync(path.join(tmpdir(), 'partners-pki-'));
    const config = loadConfig(
      {
        NODE_ENV: 'test',
        DATA_DIR: path.join(dir, 'data'),
        CERTS_DIR: path.join(dir, 'certs'),
        REVOCATION_POLICY: 'hard-fail',
        REVOCATION_ALLOW_PRIVATE_NETWORKS: 'true',
      },
      dir,
    );
    const eidas = await createEidasService({ config, logger: createLogger({ level: 'silent' }), trust });
    return { pki, responder, eidas, dir };
  })();
  return shared;
}

after(async () => {
  if (!shared) return;
  const { responder, dir } = await shared;
  await responder.close();
  rmSync(dir, { recursive: true, force: true });
});

export interface Harness {
  dir: string;
  dataDir: string;
  db: Db;
  tx: Transactor;
  audit: AuditService;
  register: RegisterService;
  eidas: EidasService;
  service: PartnersService;
  pki: DevPki;
  clock: { now: Date };
  close(): void;
}

export async function harness(
  opts: { registerFile?: string | Buffer | null; deps?: Partial<PartnersServiceDeps> } = {},
): Promise<Harness> {
  const { pki, eidas } = await sharedPki();
  const dir = mkdtempSync(path.join(tmpdir(), 'partners-'));
  const dataDir = path.join(dir, 'data');
  const db = openDatabase({ dataDir });
  const tx = createTransactor(db);
  const clock = { now: new Date() };
  const now = () => clock.now;
  const audit = createAuditService({ db, tx, now });
  const register = createRegisterService({ db, tx, audit, now });
  const registerFile = opts.registerFile === undefined ? readFileSync(DEV_REGISTER_FILE) : opts.registerFile;
  if (registerFile !== null) {
    await register.importSnapshot(registerFile, { source: 'test register', actor: { type: 'system', id: null, label: 'test' } });
  }
  const service = createPartnersService({
    db,
    tx,
    audit,
    eidas,
    register,
    dataDir,
    logger: createLogger({ level: 'silent' }),
    now,
    ...opts.deps,
  });
  return {
    dir,
    dataDir,
    db,
    tx,
    audit,
    register,
    eidas,
    service,
    pki,
    clock,
    close() {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function applicant(n = 1): ActorRef {
  return { id: `applicant-${n}`, kind: 'applicant', label: `founder${n}@fintech.test`, roles: [], ip: '192.0.2.10' };
}

export function staff(name: string, roles: StaffRole[]): ActorRef {
  return { id: `staff-${name}`, kind: 'staff', label: `${name}@bank.test`, roles, ip: '198.51.100.7' };
}

export const REVIEWER = staff('rita', ['reviewer']);
export const APPROVER_A = staff('anna', ['approver']);
export const APPROVER_B = staff('bert', ['approver']);

function pem(certs: x509.X509Certificate[]): string {
  return certs.map((c) => c.toString('pem')).join('\n');
}

export function file(bytes: Buffer | string, originalName: string, mediaType = 'application/octet-stream'): UploadedFile {
  return { bytes: Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes), originalName, mediaType };
}

/** The partner's QWAC or QSealC with its issuing CA, as PEM. */
export function partnerCert(pki: DevPki, slug: string, kind: 'qwac' | 'qseal'): UploadedFile {
  const p = pki.partners.find((x) => x.slug === slug);
  if (!p) throw new Error(`no dev partner ${slug}`);
  const ca = kind === 'qwac' ? pki.cas['qwac-ca'] : pki.cas['qseal-ca'];
  return file(pem([p[kind].cert, ca.cert]), `${kind}.pem`, 'application/x-pem-file');
}

export function badCert(pki: DevPki, name: string): UploadedFile {
  const b = pki.bad.find((x) => x.name === name);
  if (!b) throw new Error(`no bad cert ${name}`);
  return file(pem([b.cert, pki.cas[b.issuer].cert]), `${name}.pem`);
}

/** A PKCS#12 file (RSA: node-forge writes RSA only) holding a key and its certificate. */
export async function pkcs12(password: string): Promise<{ p12: Buffer; certDer: Buffer; keyDer: Buffer }> {
  const now = Date.now();
  const rsa = await issueCertificate({
    subject: 'CN=api.tpp.example, O=TPP, C=DE',
    keyAlgorithm: 'RSA-2048',
    notBefore: new Date(now - 86_400_000),
    notAfter: new Date(now + 30 * 86_400_000),
  });
  const certDer = Buffer.from(rsa.cert.rawData);
  const keyDer = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', rsa.keys.privateKey));
  const toPem = (label: string, der: Buffer) => `-----BEGIN ${label}-----\n${der.toString('base64')}\n-----END ${label}-----\n`;
  const key = forge.pki.privateKeyFromPem(toPem('PRIVATE KEY', keyDer)) as forge.pki.rsa.PrivateKey;
  const cert = forge.pki.certificateFromPem(toPem('CERTIFICATE', certDer));
  const asn1 = forge.pkcs12.toPkcs12Asn1(key, [cert], password, { algorithm: 'aes256' });
  return { p12: Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary'), certDer, keyDer };
}

export function contacts() {
  const c = (role: string) => ({ name: `${role} contact`, email: `${role}@fintech.test`, phone: '+49 30 123456' });
  return { business: c('business'), technical: c('technical'), security: c('security') };
}

/** Acme Payments (dev PKI partner, dev register DE_BAFIN!152645), regulated track. */
export function acmeProfile(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    legalName: 'Acme Payments GmbH',
    country: 'DE',
    registrationNumber: 'HRB 123456',
    lei: '',
    ncaId: 'DE-BAFIN',
    authorisationNumber: '152645',
    track: 'regulated',
    requestedRoles: ['AIS', 'PIS'],
    redirectUris: ['https://app.acme-payments.test/callback'],
    contacts: contacts(),
    ...over,
  };
}

export const PDF = Buffer.from('%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');
export const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(32, 1)]);

/** Answers that make a low-risk AIS partner once evidence is provided (form values as a page posts them). */
export function goodAnswers(today: Date): Record<string, unknown> {
  const lastMonth = new Date(today.getTime() - 30 * 86_400_000).toISOString().slice(0, 10);
  return {
    'q.iso27001': 'covers_api',
    'q.soc2': 'clean',
    'q.hosts_data': 'yes',
    'q.encryption': ['at_rest_aes256', 'tls12', 'field_level', 'key_separation'],
    'q.data_location': 'eea_uk',
    'q.retention_days': '30',
    'q.pentest': 'yes',
    'q.pentest_date': lastMonth,
    'q.patch_critical_days': '7',
    'q.sdlc_controls': ['code_review', 'dependency_scanning', 'secrets_scanning', 'static_analysis', 'threat_modelling'],
    'q.redirect_protection': ['exact_match', 'pkce', 'par'],
    'q.vdp_url': 'https://fintech.test/security',
    'q.mfa_staff': 'yes',
    'q.access_review': 'quarterly',
    'q.env_separation': 'separate_no_real_data',
    'q.key_storage': 'hsm',
    'q.token_storage': 'encrypted_scoped',
    'q.uses_tsp': 'no',
    'q.log_retention_months': '24',
    'q.ir_plan': 'tested_12m',
    'q.incident_notify_hours': '24',
  };
}

export function count(db: Db, table: string): number {
  return (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
}

/** Row counts of every partners table and the audit log: "nothing changed" is this being equal. */
export function snapshot(db: Db): Record<string, unknown> {
  const tables = [
    'applications',
    'application_certificates',
    'application_answers',
    'evidence',
    'application_transitions',
    'change_items',
    'decisions',
    'partners',
    'audit_events',
  ];
  const out: Record<string, unknown> = {};
  for (const t of tables) out[t] = count(db, t);
  out.apps = db.prepare('SELECT id, state, updated_at, profile FROM applications ORDER BY id').all();
  return out;
}

export function auditActions(db: Db, since = 0): string[] {
  return (db.prepare('SELECT action FROM audit_events WHERE seq > ? ORDER BY seq').all(since) as { action: string }[]).map(
    (r) => r.action,
  );
}

export function auditHead(db: Db): number {
  return (db.prepare('SELECT COALESCE(MAX(seq), 0) AS n FROM audit_events').get() as { n: number }).n;
}

/**
 * A certificate as the mutual-TLS side presents it to the partners service: its DERs (leaf first) and the
 * engine's report, validated as a QWAC (what `registerRegulatedPartner` receives from client registration).
 */
export async function presentedQwac(eidas: EidasService, upload: UploadedFile): Promise<{ ders: Uint8Array[]; report: CertificateReport }> {
  const read = readCertificates(upload.bytes);
  if (!read.ok) throw new Error(`unreadable test certificate: ${read.finding.message}`);
  const report = await eidas.validate(Buffer.concat(read.ders.map((d) => Buffer.from(d))), { expect: 'qwac' });
  return { ders: read.ders, report };
}

/** For assert.rejects: an AppError with this code and status. */
export function expectError(code: string, status: number) {
  return (e: unknown) => {
    assert.ok(e instanceof AppError, String(e));
    assert.equal(e.code, code, e.message);
    assert.equal(e.status, status);
    return true;
  };
}
