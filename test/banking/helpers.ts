/**
 * The banking area on real parts for its tests: SQLite in a temp directory (the migrations as `npm start`
 * applies them), the transactor, the audit log and a fixed clock. `consumedLog` is a stand-in for the consent
 * area's `markConsumed` (not built yet): it writes a row in the same database, so a rolled-back payment
 * must roll it back too, and it records whether it ran inside the payment's transaction.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createAuditService, type AuditService } from '../../src/audit/service.js';
import { createBankingService, type BankingService } from '../../src/banking/service.js';
import type { ConsentView, PaymentInstruction } from '../../src/consent/types.js';
import { openDatabase, type Db } from '../../src/store/database.js';
import { createTransactor, type Transactor } from '../../src/store/transaction.js';

export const NOW = new Date('2026-12-04T12:00:00.000Z');

export interface BankingHarness {
  dir: string;
  db: Db;
  tx: Transactor;
  audit: AuditService;
  banking: BankingService;
  clock: { t: number };
  /** Test double of the consent area's markConsumed: a row per call, and whether it ran inside tx.run. */
  markConsumed: (consentId: string, paymentId: string) => Promise<void>;
  consumedCalls: { consentId: string; paymentId: string; inTransaction: boolean }[];
  /** Makes the next markConsumed call throw (as the consent service does for a consent no longer authorised). */
  failNextConsume(): void;
  close(): void;
}

export function bankingHarness(): BankingHarness {
  const dir = mkdtempSync(path.join(tmpdir(), 'banking-'));
  const db = openDatabase({ dataDir: dir });
  db.exec('CREATE TABLE test_consumed (consent_id TEXT PRIMARY KEY, payment_id TEXT NOT NULL)');
  const tx = createTransactor(db);
  const clock = { t: NOW.getTime() };
  const now = () => new Date(clock.t);
  const audit = createAuditService({ db, tx, now });
  const banking = createBankingService({ db, tx, audit, now });
  const consumedCalls: BankingHarness['consumedCalls'] = [];
  let fail = false;
  const insert = db.prepare('INSERT INTO test_consumed (consent_id, payment_id) VALUES (?, ?)');
  return {
    dir,
    db,
    tx,
    audit,
    banking,
    clock,
    consumedCalls,
    async markConsumed(consentId, paymentId) {
      consumedCalls.push({ consentId, paymentId, inTransaction: tx.active() });
      insert.run(consentId, paymentId);
      if (fail) {
        fail = false;
        throw new Error('consent is no longer authorised');
      }
    },
    failNextConsume() {
      fail = true;
    },
    close() {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function count(db: Db, table: string): number {
  return (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
}

export function balanceMinor(db: Db, accountId: string): number {
  return (db.prepare('SELECT balance_minor AS b FROM bank_accounts WHERE id = ?').get(accountId) as { b: number }).b;
}

/** Everything a refused payment must leave as it was. */
export function moneyState(db: Db) {
  return {
    balances: db.prepare('SELECT id, balance_minor FROM bank_accounts ORDER BY id').all(),
    transactions: count(db, 'bank_transactions'),
    payments: count(db, 'bank_payments'),
    consumed: count(db, 'test_consumed'),
    audit: count(db, 'audit_events'),
  };
}

export const CREDITOR_IBAN = 'DE89370400440532013000';

export function instruction(over: Partial<PaymentInstruction> = {}): PaymentInstruction {
  return {
    instructionIdentification: 'instr-001',
    endToEndIdentification: 'e2e-001',
    amount: '12.50',
    currency: 'EUR',
    creditorAccount: { schemeName: 'IBAN', identification: CREDITOR_IBAN, name: 'Corner Shop Ltd' },
    reference: 'Invoice 42',
    ...over,
  };
}

let consents = 0;

/** A consent as the consent area would hand it over: authorised unless `over` says otherwise. */
export function paymentConsent(customerId: string, debtorAccountId: string, over: Partial<ConsentView> = {}): ConsentView {
  consents += 1;
  return {
    id: `consent-pay-${consents}`,
    kind: 'domestic-payment',
    status: 'authorised',
    clientId: 'client-acme',
    partnerId: 'partner-acme',
    permissions: [],
    expiresAt: null,
    payment: instruction(),
    customerId,
    accountIds: [debtorAccountId],
    grantId: null,
    createdAt: NOW.toISOString(),
    statusUpdatedAt: NOW.toISOString(),
    authorisedAt: NOW.toISOString(),
    lastUsedAt: null,
    ...over,
  };
}

export function accessConsent(customerId: string, accountIds: string[], permissions: ConsentView['permissions'], over: Partial<ConsentView> = {}): ConsentView {
  consents += 1;
  return {
    id: `consent-aa-${consents}`,
    kind: 'account-access',
    status: 'authorised',
    clientId: 'client-acme',
    partnerId: 'partner-acme',
    permissions,
    expiresAt: new Date(NOW.getTime() + 30 * 86_400_000).toISOString(),
    payment: null,
    customerId,
    accountIds,
    grantId: 'grant-1',
    createdAt: NOW.toISOString(),
    statusUpdatedAt: NOW.toISOString(),
    authorisedAt: NOW.toISOString(),
    lastUsedAt: null,
    ...over,
  };
}

/** A stand-in request hash: SHA-256 hex, as the route makes from the canonical body. */
export function hashOf(label: string): string {
  return createHash('sha256').update(label).digest('hex');
}
