/**
 * The consent area on real parts for its tests: SQLite in a temp directory (the migrations as `npm start`
 * applies them), the transactor, the audit log, the real banking service (demo accounts for two customers)
 * and a clock the tests move.
 *
 * The partners and OAuth areas are read-only look-ups here (a partner's vetted name and status, a client's
 * name); their real services need the eIDAS engine and a dev PKI, so one clearly named test double stands in:
 * `testDirectory` (a map of partners and clients that tests may change, e.g. suspend a partner).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createAuditService, type AuditService } from '../../src/audit/service.js';
import { createBankingService, type BankingService } from '../../src/banking/service.js';
import type { BankAccountView } from '../../src/banking/types.js';
import { createConsentService, type ConsentService } from '../../src/consent/service.js';
import type { ConsentClient } from '../../src/consent/types.js';
import type { PartnerView } from '../../src/partners/types.js';
import { openDatabase, type Db } from '../../src/store/database.js';
import { createTransactor, type Transactor } from '../../src/store/transaction.js';

export const NOW = new Date('2026-12-04T12:00:00.000Z');
export const DAY = 86_400_000;

export const ACME: ConsentClient = { clientId: 'client-acme-budget', partnerId: 'partner-acme' };
/** A second client of the same partner. */
export const ACME_OTHER: ConsentClient = { clientId: 'client-acme-other', partnerId: 'partner-acme' };
export const NORDIC: ConsentClient = { clientId: 'client-nordic', partnerId: 'partner-nordic' };

export const CREDITOR_IBAN = 'DE89370400440532013000';

/** Test double of the partners and OAuth look-ups (see the file comment). */
export function testDirectory() {
  const partners = new Map<string, Pick<PartnerView, 'id' | 'legalName' | 'status'>>([
    ['partner-acme', { id: 'partner-acme', legalName: 'Acme Payments GmbH', status: 'active' }],
    ['partner-nordic', { id: 'partner-nordic', legalName: 'Nordic Insights AB', status: 'active' }],
  ]);
  const clients = new Map<string, { clientName: string | null }>([
    ['client-acme-budget', { clientName: 'Acme Budget' }],
    ['client-acme-other', { clientName: 'Acme Other' }],
    ['client-nordic', { clientName: null }],
  ]);
  return {
    partners,
    clients,
    partnersPort: { getPartner: async (id: string) => (partners.get(id) as PartnerView | undefined) ?? null },
    clientsPort: { getClient: async (id: string) => clients.get(id) ?? null },
  };
}

export interface ConsentHarness {
  dir: string;
  db: Db;
  tx: Transactor;
  audit: AuditService;
  banking: BankingService;
  consents: ConsentService;
  directory: ReturnType<typeof testDirectory>;
  clock: { t: number };
  casey: BankAccountView[];
  dana: BankAccountView[];
  /** Another consent service on the same parts, with its own authorisation window. */
  withWindow(authorisationWindowMs: number): ConsentService;
  close(): void;
}

export async function consentHarness(): Promise<ConsentHarness> {
  const dir = mkdtempSync(path.join(tmpdir(), 'consent-'));
  const db = openDatabase({ dataDir: dir });
  const tx = createTransactor(db);
  const clock = { t: NOW.getTime() };
  const now = () => new Date(clock.t);
  const audit = createAuditService({ db, tx, now });
  const banking = createBankingService({ db, tx, audit, now });
  const directory = testDirectory();
  const consents = createConsentService({ db, tx, audit, accounts: banking, partners: directory.partnersPort, clients: directory.clientsPort, now });
  const casey = await banking.seedDemoAccounts('cust-casey', 'Casey Customer', { now: NOW });
  const dana = await banking.seedDemoAccounts('cust-dana', 'Dana Demo', { now: NOW });
  return {
    dir,
    db,
    tx,
    audit,
    banking,
    consents,
    directory,
    clock,
    casey,
    dana,
    withWindow: (authorisationWindowMs) =>
      createConsentService({ db, tx, audit, accounts: banking, partners: directory.partnersPort, clients: directory.clientsPort, now, authorisationWindowMs }),
    close() {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function count(db: Db, table: string): number {
  return (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
}

/** Everything of the consent area and the audit log: equal before and after means nothing changed. */
export function consentState(db: Db): Record<string, unknown> {
  return {
    consents: db.prepare('SELECT * FROM consents ORDER BY id').all(),
    events: db.prepare('SELECT * FROM consent_events ORDER BY seq').all(),
    accesses: db.prepare('SELECT * FROM consent_accesses ORDER BY seq').all(),
    receipts: db.prepare('SELECT * FROM consent_receipts ORDER BY id').all(),
    audit: count(db, 'audit_events'),
  };
}

export function auditActions(db: Db): string[] {
  return (db.prepare('SELECT action FROM audit_events ORDER BY seq').all() as { action: string }[]).map((r) => r.action);
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** A UK OB account-access consent request; `data` members replace the defaults (undefined removes one). */
export function accessBody(data: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const d: Record<string, unknown> = {
    Permissions: ['ReadAccountsDetail', 'ReadBalances', 'ReadTransactionsDetail', 'ReadTransactionsCredits', 'ReadTransactionsDebits'],
    ExpirationDateTime: iso(NOW.getTime() + 90 * DAY),
    ...data,
  };
  for (const k of Object.keys(d)) if (d[k] === undefined) delete d[k];
  return { Data: d, Risk: {}, ...extra };
}

/** A UK OB domestic payment consent request; `initiation` members replace the defaults. */
export function paymentBody(initiation: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const i: Record<string, unknown> = {
    InstructionIdentification: 'ACME-INSTR-1',
    EndToEndIdentification: 'ACME-E2E-1',
    InstructedAmount: { Amount: '12.50', Currency: 'EUR' },
    CreditorAccount: { SchemeName: 'UK.OBIE.IBAN', Identification: CREDITOR_IBAN, Name: 'Corner Shop Ltd' },
    RemittanceInformation: { Reference: 'Invoice 42' },
    ...initiation,
  };
  for (const k of Object.keys(i)) if (i[k] === undefined) delete i[k];
  return { Data: { Initiation: i }, Risk: {}, ...extra };
}
