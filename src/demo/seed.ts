/**
 * Demo data for a fresh development database (`npm run demo:seed`, and `npm start` on an empty data dir):
 * four staff members (admin, reviewer, two approvers), a demo applicant with a draft, one partner approved
 * on the regulated track with the dev PKI's Acme Payments certificates, and one partner-track application
 * from Nordic Insights waiting for a risk officer. Everything goes through the real services, so the audit
 * log shows the same events a person would have caused.
 *
 * Passwords are generated per seed and returned once with the TOTP secrets, for the caller to print: they
 * never go to the logs.
 *
 * With the software service, Acme Payments also declares a software product whose JWKS holds a fresh PS256
 * key, and its statement and that key's private JWK are written next to its certificates
 * (`<certsDir>/partners/acme-payments/ssa.jwt`, `signing.jwk.json` mode 0600; certs/ is git-ignored), so that
 * the demo partner's server can register a client with them.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import type { AccountsService } from '../accounts/service.js';
import type { SessionUser } from '../accounts/types.js';
import type { PartnersService, ActorRef, StaffRole, ApplicationView } from '../partners/types.js';
import type { SoftwareService } from '../registration/software.js';
import type { BankingService } from '../banking/service.js';

export interface DemoCredential {
  who: string;
  email: string;
  password: string;
  totpSecret: string;
  roles: StaffRole[];
  kind: 'applicant' | 'staff' | 'customer';
}

export interface DemoSeedResult {
  credentials: DemoCredential[];
  approvedApplicationId: string;
  pendingApplicationId: string;
  draftApplicationId: string;
  /** The demo partner's software product; null when no software service was given or Acme was not approved. */
  softwareId: string | null;
  /** Where its statement and the private signing JWK were written (null with softwareId). */
  softwareFiles: { statement: string; signingKey: string } | null;
  /** The demo bank customer's credentials file for `npm run demo:partner` (null without the banking service). */
  customerFile: string | null;
}

/** The demo bank customer: signs in at the bank's pages to approve consents, and at /customer/consents. */
export const DEMO_CUSTOMER = { email: 'casey@customer.test', name: 'Casey Customer' } as const;

export const DEMO_SOFTWARE = {
  slug: 'acme-payments',
  name: 'Acme Payments App',
  redirectUri: 'https://127.0.0.1:8443/callback',
} as const;

const STAFF: { who: string; email: string; name: string; roles: StaffRole[] }[] = [
  { who: 'Administrator (manages staff)', email: 'admin@bank.test', name: 'Ada Admin', roles: ['admin'] },
  { who: 'Reviewer', email: 'reviewer@bank.test', name: 'Rita Reviewer', roles: ['reviewer'] },
  { who: 'Approver', email: 'approver1@bank.test', name: 'Alex Approver', roles: ['reviewer', 'approver'] },
  { who: 'Second approver', email: 'approver2@bank.test', name: 'Sam Second', roles: ['reviewer', 'approver'] },
];

/** A tiny, real PDF: enough for the evidence type check (the bytes start with %PDF-). */
const DEMO_PDF = Buffer.from(
  '%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n',
);

function password(): string {
  return randomBytes(12).toString('base64url');
}

function actor(user: SessionUser): ActorRef {
  return { id: user.id, kind: user.kind, label: user.email, roles: user.roles, ip: null };
}

function contacts(domain: string) {
  return {
    business: { name: 'Bea Business', email: `business@${domain}`, phone: '+49 30 1234567' },
    technical: { name: 'Tom Technical', email: `tech@${domain}`, phone: null },
    security: { name: 'Sue Security', email: `security@${domain}`, phone: '+49 30 7654321' },
  };
}

async function uploadCerts(partners: PartnersService, who: ActorRef, id: string, dir: string): Promise<void> {
  for (const kind of ['qwac', 'qseal'] as const) {
    const file = path.join(dir, `${kind}.pem`);
    await partners.uploadCertificate(who, id, kind, {
      bytes: readFileSync(file),
      originalName: `${kind}.pem`,
      mediaType: 'application/x-pem-file',
    });
  }
}

/**
 * The demo partner's software: a PS256 key pair (kid = RFC 7638 thumbprint) whose public half is the
 * product's JWKS, the product, its statement, and both files beside the partner's certificates.
 */
async function seedSoftware(
  software: SoftwareService,
  who: ActorRef,
  application: ApplicationView & { partner: NonNullable<ApplicationView['partner']> },
  certsDir: string,
): Promise<{ softwareId: string; files: { statement: string; signingKey: string } }> {
  const { privateKey, publicKey } = await generateKeyPair('PS256', { modulusLength: 2048, extractable: true });
  const pub = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(pub);
  const product = await software.declare(who, application.id, {
    name: DEMO_SOFTWARE.name,
    redirectUris: [DEMO_SOFTWARE.redirectUri],
    roles: [...application.partner.allowedRoles],
    jwks: JSON.stringify({ keys: [{ ...pub, kid, alg: 'PS256', use: 'sig' }] }),
  });
  const { jwt } = await software.statement(who, application.id, product.id);
  const dir = path.join(certsDir, 'partners', DEMO_SOFTWARE.slug);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const statement = path.join(dir, 'ssa.jwt');
  const signingKey = path.join(dir, 'signing.jwk.json');
  writeFileSync(statement, jwt, { mode: 0o644 });
  writeFileSync(signingKey, `${JSON.stringify({ ...(await exportJWK(privateKey)), kid, alg: 'PS256', use: 'sig' }, null, 2)}\n`, { mode: 0o600 });
  // writeFileSync's mode applies only when it creates the file: a re-seed must not leave an old mode.
  chmodSync(signingKey, 0o600);
  return { softwareId: product.id, files: { statement, signingKey } };
}

/** Refuses to run on a database that already has users: a seed must never add known credentials to real data. */
export async function seedDemo(deps: {
  accounts: AccountsService;
  partners: PartnersService;
  certsDir: string;
  hasUsers: () => boolean;
  /** Optional until every caller passes it: without it no software product or statement is seeded. */
  software?: SoftwareService;
  /** Without it no bank customer is seeded. */
  banking?: BankingService;
}): Promise<DemoSeedResult> {
  const { accounts, partners, certsDir } = deps;
  if (deps.hasUsers()) throw new Error('demo:seed runs only on an empty database (users exist already).');
  const credentials: DemoCredential[] = [];

  for (const s of STAFF) {
    const pw = password();
    const { totpSecretBase32 } = await accounts.seedStaff({ email: s.email, displayName: s.name, roles: s.roles, password: pw });
    credentials.push({ who: s.who, email: s.email, password: pw, totpSecret: totpSecretBase32, roles: s.roles, kind: 'staff' });
  }

  async function applicant(who: string, email: string, name: string): Promise<SessionUser> {
    const pw = password();
    const { user, totpSecretBase32 } = await accounts.seedApplicant({ email, displayName: name, password: pw });
    credentials.push({ who, email, password: pw, totpSecret: totpSecretBase32, roles: [], kind: 'applicant' });
    return user;
  }

  // 1. Regulated track, all checks green: approved by policy on submit.
  const acme = actor(await applicant('Applicant: Acme Payments (approved, regulated track)', 'onboarding@acme-payments.test', 'Anna Acme'));
  let approved: ApplicationView = await partners.createApplication(acme);
  await partners.saveProfile(acme, approved.id, {
    legalName: 'Acme Payments GmbH',
    country: 'DE',
    registrationNumber: 'HRB 123456',
    lei: null,
    ncaId: 'DE-BAFIN',
    authorisationNumber: '152645',
    track: 'regulated',
    requestedRoles: ['AIS', 'PIS'],
    redirectUris: ['https://app.acme-payments.test/callback'],
    contacts: contacts('acme-payments.test'),
  });
  await uploadCerts(partners, acme, approved.id, path.join(certsDir, 'partners', 'acme-payments'));
  approved = await partners.submit(acme, approved.id);
  const partner = approved.partner;
  const acmeSoftware =
    deps.software && partner?.status === 'active' ? await seedSoftware(deps.software, acme, { ...approved, partner }, certsDir) : null;

  // 2. Partner track with a questionnaire: waits for a risk officer.
  const nordic = actor(await applicant('Applicant: Nordic Insights (waiting for review, partner track)', 'onboarding@nordic-insights.test', 'Nils Nordic'));
  const pending = await partners.createApplication(nordic);
  await partners.saveProfile(nordic, pending.id, {
    legalName: 'Nordic Insights AB',
    country: 'SE',
    registrationNumber: '556000-0000',
    lei: null,
    ncaId: 'SE-FINA',
    authorisationNumber: '44059',
    track: 'partner',
    requestedRoles: ['AIS'],
    redirectUris: ['https://app.nordic-insights.test/oauth/callback'],
    contacts: contacts('nordic-insights.test'),
  });
  await uploadCerts(partners, nordic, pending.id, path.join(certsDir, 'partners', 'nordic-insights'));
  await partners.saveAnswers(nordic, pending.id, {
    'q.iso27001': 'covers_api',
    'q.soc2': 'none',
    'q.hosts_data': 'yes',
    'q.encryption': ['at_rest_aes256', 'tls12'],
    'q.data_location': 'eea_uk',
    'q.retention_days': '30',
    'q.pentest': 'yes',
    'q.pentest_date': '2026-03-15',
    'q.patch_critical_days': '14',
    'q.sdlc_controls': ['code_review', 'dependency_scanning'],
    'q.redirect_protection': ['exact_match', 'pkce'],
    'q.mfa_staff': 'yes',
    'q.access_review': 'yearly',
    'q.env_separation': 'separate_no_real_data',
    'q.key_storage': 'cloud_kms',
    'q.token_storage': 'encrypted',
    'q.uses_tsp': 'no',
    'q.log_retention_months': '12',
    'q.ir_plan': 'untested',
    'q.incident_notify_hours': '24',
  });
  const withAnswers = await partners.getForApplicant(nordic, pending.id);
  for (const q of withAnswers.questionnaire.questions) {
    if (q.evidence?.required && q.evidence.accept.includes('application/pdf')) {
      await partners.uploadEvidence(nordic, pending.id, q.id, { bytes: DEMO_PDF, originalName: `${q.id.slice(2)}-summary.pdf`, mediaType: 'application/pdf' });
    }
  }
  await partners.submit(nordic, pending.id);

  // 3. A fresh applicant with a draft, to try the journey from the start.
  const demo = actor(await applicant('Applicant: demo FinTech (draft)', 'demo@fintech.test', 'Dana Demo'));
  const draft = await partners.createApplication(demo);

  // 4. A bank customer with a current and a savings account, to approve consents for the demo partner.
  let customerFile: string | null = null;
  if (deps.banking) {
    const pw = password();
    const { user, totpSecretBase32 } = await accounts.seedCustomer({ email: DEMO_CUSTOMER.email, displayName: DEMO_CUSTOMER.name, password: pw });
    await deps.banking.seedDemoAccounts(user.id, DEMO_CUSTOMER.name, { seed: DEMO_CUSTOMER.email });
    credentials.push({ who: 'Bank customer (approves consents; consent centre)', email: DEMO_CUSTOMER.email, password: pw, totpSecret: totpSecretBase32, roles: [], kind: 'customer' });
    // For `npm run demo:partner` against a running portal: it plays the customer too (development only, 0600).
    const dir = path.join(certsDir, 'customers');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    customerFile = path.join(dir, 'demo-customer.json');
    writeFileSync(customerFile, `${JSON.stringify({ email: DEMO_CUSTOMER.email, password: pw, totpSecret: totpSecretBase32 }, null, 2)}\n`, { mode: 0o600 });
    chmodSync(customerFile, 0o600);
  }

  return {
    credentials,
    customerFile,
    approvedApplicationId: approved.id,
    pendingApplicationId: pending.id,
    draftApplicationId: draft.id,
    softwareId: acmeSoftware?.softwareId ?? null,
    softwareFiles: acmeSoftware?.files ?? null,
  };
}

/** The text `npm run demo:seed` and a first `npm start` print: who can log in, and how. */
export function formatCredentials(result: DemoSeedResult, baseUrl: string): string {
  const lines = [
    'Demo accounts (development only; these credentials are shown once and are not logged):',
    '',
    'Log in with the e-mail and password, then a TOTP code: add the secret to an authenticator app,',
    'or compute a code with `oathtool --totp -b SECRET`.',
    '',
  ];
  for (const c of result.credentials) {
    lines.push(`  ${c.who}${c.roles.length ? ` [${c.roles.join(', ')}]` : ''}`);
    lines.push(`    login:    ${baseUrl}${c.kind === 'staff' ? '/staff/login' : c.kind === 'customer' ? '/customer/login' : '/login'}`);
    lines.push(`    e-mail:   ${c.email}`);
    lines.push(`    password: ${c.password}`);
    lines.push(`    TOTP:     ${c.totpSecret}`);
  }
  if (result.softwareId && result.softwareFiles) {
    lines.push('');
    lines.push(`Demo partner software: ${DEMO_SOFTWARE.name} (software_id ${result.softwareId})`);
    lines.push(`    software statement:    ${result.softwareFiles.statement}`);
    lines.push(`    signing key (private): ${result.softwareFiles.signingKey}`);
  }
  return `${lines.join('\n')}\n`;
}
