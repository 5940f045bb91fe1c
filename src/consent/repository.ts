/**
 * Storage contract of the consent area: consents, their events, the accesses made under them and the
 * customer's receipts (an outbox). Async so that a PostgreSQL implementation fits later; the SQLite one is
 * src/store/sqlite/consent.ts. Writes are called inside the service's `tx.run`.
 */
import type {
  AccountPermission,
  ConsentAccessView,
  ConsentEventView,
  ConsentKind,
  ConsentReceiptView,
  ConsentStatus,
  PaymentInstruction,
} from './types.js';

export interface ConsentRecord {
  id: string;
  kind: ConsentKind;
  status: ConsentStatus;
  clientId: string;
  partnerId: string;
  permissions: AccountPermission[];
  expiresAt: string | null;
  transactionFrom: string | null;
  transactionTo: string | null;
  payment: PaymentInstruction | null;
  customerId: string | null;
  accountIds: string[];
  grantId: string | null;
  createdAt: string;
  statusUpdatedAt: string;
  authorisedAt: string | null;
  lastUsedAt: string | null;
  idempotencyKey: string | null;
  requestHash: string | null;
}

/** A status change: applied only while the consent is still in `from` (optimistic, race-safe). */
export interface StatusUpdate {
  id: string;
  from: ConsentStatus;
  to: ConsentStatus;
  at: string;
  /** Set with the change when given (authorisation, rejection). */
  customerId?: string;
  accountIds?: string[];
  grantId?: string;
  authorisedAt?: string;
}

export interface ConsentRepository {
  insert(record: ConsentRecord): Promise<void>;
  get(id: string): Promise<ConsentRecord | null>;
  byGrantId(grantId: string): Promise<ConsentRecord | null>;
  byIdempotencyKey(clientId: string, key: string): Promise<ConsentRecord | null>;
  /** Oldest first. */
  ofCustomer(customerId: string): Promise<ConsentRecord[]>;
  /** Authorised or awaiting consents whose expiry is at or before `at`. */
  /** Authorised or awaiting consents past their expiry at `at`, and awaiting ones created at or before `awaitingSince`. */
  dueForExpiry(at: string, awaitingSince: string, limit: number): Promise<ConsentRecord[]>;
  /** False when the consent was no longer in `from` (nothing changed). */
  updateStatus(update: StatusUpdate): Promise<boolean>;
  /** False when the consent is not authorised or already has a grant. */
  setGrant(id: string, grantId: string): Promise<boolean>;
  touchLastUsed(id: string, at: string): Promise<void>;

  insertEvent(event: ConsentEventView): Promise<void>;
  /** In order. */
  events(consentId: string): Promise<ConsentEventView[]>;

  insertAccess(access: ConsentAccessView): Promise<void>;
  /** Newest first, at most `limit`. */
  accesses(consentId: string, limit: number): Promise<ConsentAccessView[]>;

  insertReceipt(receipt: ConsentReceiptView): Promise<void>;
  /** Oldest first. */
  receipts(consentId: string): Promise<ConsentReceiptView[]>;
  /** Oldest first. */
  undeliveredReceipts(limit: number): Promise<ConsentReceiptView[]>;
  /** False when there is no such undelivered receipt. */
  markReceiptDelivered(id: string, at: string): Promise<boolean>;
}
