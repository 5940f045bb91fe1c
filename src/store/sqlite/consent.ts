/**
 * better-sqlite3 implementation of the consent repository (src/consent/repository.ts,
 * migrations/0012_consents.sql). Prepared statements only; JSON columns are parsed here, never by callers.
 */
import type { ConsentRecord, ConsentRepository } from '../../consent/repository.js';
import type {
  AccountPermission,
  ConsentAccessView,
  ConsentChannel,
  ConsentEventView,
  ConsentKind,
  ConsentReceiptView,
  ConsentStatus,
  PaymentInstruction,
} from '../../consent/types.js';
import type { Db } from '../database.js';

interface ConsentRow {
  id: string;
  kind: string;
  status: string;
  client_id: string;
  partner_id: string;
  permissions: string;
  expires_at: string | null;
  transaction_from: string | null;
  transaction_to: string | null;
  payment: string | null;
  customer_id: string | null;
  account_ids: string;
  grant_id: string | null;
  created_at: string;
  status_updated_at: string;
  authorised_at: string | null;
  last_used_at: string | null;
  idempotency_key: string | null;
  request_hash: string | null;
}

interface EventRow {
  consent_id: string;
  at: string;
  from_status: string | null;
  to_status: string;
  channel: string;
  actor_type: string;
  actor_id: string | null;
  actor_label: string;
  reason: string | null;
}

interface AccessRow {
  consent_id: string;
  at: string;
  client_id: string;
  endpoint: string;
  account_id: string | null;
  status: number;
}

interface ReceiptRow {
  id: string;
  consent_id: string;
  customer_id: string;
  kind: string;
  text: string;
  created_at: string;
  delivered_at: string | null;
}

function consent(r: ConsentRow): ConsentRecord {
  return {
    id: r.id,
    kind: r.kind as ConsentKind,
    status: r.status as ConsentStatus,
    clientId: r.client_id,
    partnerId: r.partner_id,
    permissions: JSON.parse(r.permissions) as AccountPermission[],
    expiresAt: r.expires_at,
    transactionFrom: r.transaction_from,
    transactionTo: r.transaction_to,
    payment: r.payment === null ? null : (JSON.parse(r.payment) as PaymentInstruction),
    customerId: r.customer_id,
    accountIds: JSON.parse(r.account_ids) as string[],
    grantId: r.grant_id,
    createdAt: r.created_at,
    statusUpdatedAt: r.status_updated_at,
    authorisedAt: r.authorised_at,
    lastUsedAt: r.last_used_at,
    idempotencyKey: r.idempotency_key,
    requestHash: r.request_hash,
  };
}

function event(r: EventRow): ConsentEventView {
  return {
    consentId: r.consent_id,
    at: r.at,
    fromStatus: r.from_status as ConsentStatus | null,
    toStatus: r.to_status as ConsentStatus,
    channel: r.channel as ConsentChannel,
    actor: { type: r.actor_type as ConsentEventView['actor']['type'], id: r.actor_id, label: r.actor_label },
    reason: r.reason,
  };
}

function access(r: AccessRow): ConsentAccessView {
  return {
    consentId: r.consent_id,
    at: r.at,
    clientId: r.client_id,
    endpoint: r.endpoint,
    accountId: r.account_id,
    status: r.status,
  };
}

function receipt(r: ReceiptRow): ConsentReceiptView {
  return {
    id: r.id,
    consentId: r.consent_id,
    customerId: r.customer_id,
    kind: r.kind as ConsentReceiptView['kind'],
    text: r.text,
    createdAt: r.created_at,
    deliveredAt: r.delivered_at,
  };
}

export function createSqliteConsentRepository(db: Db): ConsentRepository {
  const insert = db.prepare(`INSERT INTO consents
    (id, kind, status, client_id, partner_id, permissions, expires_at, transaction_from, transaction_to, payment, customer_id,
     account_ids, grant_id, created_at, status_updated_at, authorised_at, last_used_at, idempotency_key, request_hash)
    VALUES (@id, @kind, @status, @client_id, @partner_id, @permissions, @expires_at, @transaction_from, @transaction_to, @payment,
     @customer_id, @account_ids, @grant_id, @created_at, @status_updated_at, @authorised_at, @last_used_at, @idempotency_key,
     @request_hash)`);
  const get = db.prepare('SELECT * FROM consents WHERE id = ?');
  const byGrant = db.prepare('SELECT * FROM consents WHERE grant_id = ?');
  const byKey = db.prepare('SELECT * FROM consents WHERE client_id = ? AND idempotency_key = ?');
  const ofCustomer = db.prepare('SELECT * FROM consents WHERE customer_id = ? ORDER BY created_at, id');
  const due = db.prepare(`SELECT * FROM consents
    WHERE (status IN ('authorised', 'awaiting_authorisation') AND expires_at IS NOT NULL AND expires_at <= @at)
       OR (status = 'awaiting_authorisation' AND created_at <= @awaiting_since)
    ORDER BY created_at, id LIMIT @limit`);
  // COALESCE keeps what is there when the update does not set a column.
  const updateStatus = db.prepare(`UPDATE consents SET
      status = @to, status_updated_at = @at,
      customer_id = COALESCE(@customer_id, customer_id),
      account_ids = COALESCE(@account_ids, account_ids),
      grant_id = COALESCE(@grant_id, grant_id),
      authorised_at = COALESCE(@authorised_at, authorised_at)
    WHERE id = @id AND status = @from`);
  const setGrant = db.prepare("UPDATE consents SET grant_id = ? WHERE id = ? AND status = 'authorised' AND grant_id IS NULL");
  const touch = db.prepare('UPDATE consents SET last_used_at = ? WHERE id = ?');
  const insertEvent = db.prepare(`INSERT INTO consent_events
    (consent_id, at, from_status, to_status, channel, actor_type, actor_id, actor_label, reason)
    VALUES (@consent_id, @at, @from_status, @to_status, @channel, @actor_type, @actor_id, @actor_label, @reason)`);
  const events = db.prepare('SELECT * FROM consent_events WHERE consent_id = ? ORDER BY seq');
  const insertAccess = db.prepare(`INSERT INTO consent_accesses (consent_id, at, client_id, endpoint, account_id, status)
    VALUES (@consent_id, @at, @client_id, @endpoint, @account_id, @status)`);
  const accesses = db.prepare('SELECT * FROM consent_accesses WHERE consent_id = ? ORDER BY seq DESC LIMIT ?');
  const insertReceipt = db.prepare(`INSERT INTO consent_receipts (id, consent_id, customer_id, kind, text, created_at, delivered_at)
    VALUES (@id, @consent_id, @customer_id, @kind, @text, @created_at, @delivered_at)`);
  const receipts = db.prepare('SELECT * FROM consent_receipts WHERE consent_id = ? ORDER BY created_at, rowid');
  const undelivered = db.prepare('SELECT * FROM consent_receipts WHERE delivered_at IS NULL ORDER BY created_at, rowid LIMIT ?');
  const delivered = db.prepare('UPDATE consent_receipts SET delivered_at = ? WHERE id = ? AND delivered_at IS NULL');

  const one = (row: unknown) => (row ? consent(row as ConsentRow) : null);

  return {
    async insert(r) {
      insert.run({
        id: r.id,
        kind: r.kind,
        status: r.status,
        client_id: r.clientId,
        partner_id: r.partnerId,
        permissions: JSON.stringify(r.permissions),
        expires_at: r.expiresAt,
        transaction_from: r.transactionFrom,
        transaction_to: r.transactionTo,
        payment: r.payment === null ? null : JSON.stringify(r.payment),
        customer_id: r.customerId,
        account_ids: JSON.stringify(r.accountIds),
        grant_id: r.grantId,
        created_at: r.createdAt,
        status_updated_at: r.statusUpdatedAt,
        authorised_at: r.authorisedAt,
        last_used_at: r.lastUsedAt,
        idempotency_key: r.idempotencyKey,
        request_hash: r.requestHash,
      });
    },
    async get(id) {
      return one(get.get(id));
    },
    async byGrantId(grantId) {
      return one(byGrant.get(grantId));
    },
    async byIdempotencyKey(clientId, key) {
      return one(byKey.get(clientId, key));
    },
    async ofCustomer(customerId) {
      return (ofCustomer.all(customerId) as ConsentRow[]).map(consent);
    },
    async dueForExpiry(at, awaitingSince, limit) {
      return (due.all({ at, awaiting_since: awaitingSince, limit }) as ConsentRow[]).map(consent);
    },
    async updateStatus(u) {
      return (
        updateStatus.run({
          id: u.id,
          from: u.from,
          to: u.to,
          at: u.at,
          customer_id: u.customerId ?? null,
          account_ids: u.accountIds === undefined ? null : JSON.stringify(u.accountIds),
          grant_id: u.grantId ?? null,
          authorised_at: u.authorisedAt ?? null,
        }).changes === 1
      );
    },
    async setGrant(id, grantId) {
      return setGrant.run(grantId, id).changes === 1;
    },
    async touchLastUsed(id, at) {
      touch.run(at, id);
    },
    async insertEvent(e) {
      insertEvent.run({
        consent_id: e.consentId,
        at: e.at,
        from_status: e.fromStatus,
        to_status: e.toStatus,
        channel: e.channel,
        actor_type: e.actor.type,
        actor_id: e.actor.id,
        actor_label: e.actor.label,
        reason: e.reason,
      });
    },
    async events(consentId) {
      return (events.all(consentId) as EventRow[]).map(event);
    },
    async insertAccess(a) {
      insertAccess.run({
        consent_id: a.consentId,
        at: a.at,
        client_id: a.clientId,
        endpoint: a.endpoint,
        account_id: a.accountId,
        status: a.status,
      });
    },
    async accesses(consentId, limit) {
      return (accesses.all(consentId, limit) as AccessRow[]).map(access);
    },
    async insertReceipt(r) {
      insertReceipt.run({
        id: r.id,
        consent_id: r.consentId,
        customer_id: r.customerId,
        kind: r.kind,
        text: r.text,
        created_at: r.createdAt,
        delivered_at: r.deliveredAt,
      });
    },
    async receipts(consentId) {
      return (receipts.all(consentId) as ReceiptRow[]).map(receipt);
    },
    async undeliveredReceipts(limit) {
      return (undelivered.all(limit) as ReceiptRow[]).map(receipt);
    },
    async markReceiptDelivered(id, at) {
      return delivered.run(at, id).changes === 1;
    },
  };
}
