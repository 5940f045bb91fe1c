/**
 * The consent area: consent intents partners create over mutual TLS, the customer's decision on them, their
 * end (revoked, expired, consumed), the calls made under them, the customer's receipts and consent centre.
 *
 * Every status change goes through `transition`: one `tx.run` holds the conditional update (applied only if
 * the consent is still in the status it was read in, so two racing changes cannot both win), the consent
 * event (who, channel, why), the receipt for the customer, the audit event and the `onStatusChange`
 * listeners (the OAuth side revokes the grant's tokens there): a listener that fails rolls all of it back.
 *
 * State machine (src/consent/types.ts), with who may do what:
 *   awaiting_authorisation → authorised | rejected       the customer, on the authorisation page
 *   awaiting_authorisation | authorised → revoked        the partner (DELETE, account access only)
 *   authorised → revoked                                 the customer, in the consent centre
 *   authorised → consumed                                the payment, executed once (banking area)
 *   awaiting_authorisation | authorised → expired        the system, past ExpirationDateTime (payments: the
 *                                                        window after creation), or awaiting past the window
 */
import { randomUUID } from 'node:crypto';
import type { AuditService } from '../audit/service.js';
import type { PartnersService } from '../partners/types.js';
import type { Db } from '../store/database.js';
import { createSqliteConsentRepository } from '../store/sqlite/consent.js';
import type { Transactor } from '../store/transaction.js';
import {
  accountNotOwned,
  accountsInvalid,
  consentExpired,
  consentNotFound,
  deleteNotSupported,
  grantConflict,
  idempotencyConflict,
  idempotencyKeyInvalid,
  invalidStatus,
} from './errors.js';
import type { ConsentRecord, ConsentRepository, StatusUpdate } from './repository.js';
import { readAccountAccessRequest, readPaymentRequest } from './requests.js';
import * as text from './text.js';
import type {
  ConsentAccessView,
  ConsentActor,
  ConsentChannel,
  ConsentClient,
  ConsentEventView,
  ConsentReceiptView,
  ConsentRefusal,
  ConsentStatus,
  ConsentStatusChange,
  ConsentView,
  CustomerConsentDetail,
  CustomerConsentExport,
  CustomerConsentSummary,
  CustomerPartnerConsents,
  RevocationConsequences,
} from './types.js';

/** x-idempotency-key: UK OB Max40Text, visible ASCII only (compared byte for byte). */
export const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,40}$/;
/** Ids longer than this are not ours: refused without a look-up. */
const ID_MAX = 128;
/** The consent centre shows this many recent accesses per consent; the export has all (up to EXPORT_ACCESSES). */
export const DETAIL_ACCESSES = 200;
export const EXPORT_ACCESSES = 100_000;
const EXPIRY_BATCH = 200;

/** An account as the consent area shows it to the customer (labels on receipts and in the consent centre). */
export interface ConsentAccountLabel {
  id: string;
  nickname: string;
  iban: string;
  currency: string;
}

/** What the consent area needs of the banking area. */
export interface ConsentAccountsPort {
  /** True only when `ids` is not empty and every id is an account of this customer. */
  ownsAccounts(customerId: string, ids: readonly string[]): Promise<boolean>;
  /** Optional: receipts then name the accounts, and a payment's account must be in its currency. */
  accountsOf?(customerId: string): Promise<ConsentAccountLabel[]>;
}

export interface ConsentServiceDeps {
  db: Db;
  tx: Transactor;
  audit: AuditService;
  accounts: ConsentAccountsPort;
  partners: Pick<PartnersService, 'getPartner'>;
  clients: { getClient(clientId: string): Promise<{ clientName: string | null } | null> };
  now?: () => Date;
  repository?: ConsentRepository;
  /**
   * How long a consent may wait for the customer's authorisation (then it expires), and how long a payment
   * consent lives from its creation (authorised and used within it). Default DEFAULT_AUTHORISATION_WINDOW_MS.
   */
  authorisationWindowMs?: number;
}

export interface AuthoriseInput {
  customerId: string;
  accountIds: string[];
  /** The oidc-provider grant; may be set later with `setGrant`. */
  grantId?: string | null;
  channel: ConsentChannel;
}

export type ConsentStatusListener = (change: ConsentStatusChange) => Promise<void> | void;

export interface AccessInput {
  clientId: string;
  /** The route pattern, e.g. `GET /api/v1/accounts/{AccountId}`. */
  endpoint: string;
  accountId: string | null;
  status: number;
}

export interface ConsentService {
  /** `consent.invalid_request` and the rule codes (400), `consent.idempotency_*`. A replay answers the first consent. */
  createAccountAccess(client: ConsentClient, body: unknown, idempotencyKey?: string): Promise<ConsentView>;
  createDomesticPayment(client: ConsentClient, body: unknown, idempotencyKey?: string): Promise<ConsentView>;
  get(id: string): Promise<ConsentView | null>;
  findByGrantId(grantId: string): Promise<ConsentView | null>;
  /** `consent.not_found` (404) for an unknown id and for another client's consent alike. */
  getForClient(client: ConsentClient, id: string): Promise<ConsentView>;
  /** Account access: → revoked by the partner. Payments: `consent.delete_not_supported` (405). */
  deleteForClient(client: ConsentClient, id: string): Promise<ConsentView>;
  /**
   * awaiting_authorisation → authorised. `consent.not_found` (404), `consent.invalid_status` (409),
   * `consent.expired` (409), `consent.accounts_invalid` (400), `consent.account_not_owned` (403),
   * `consent.grant_conflict` (409). Nothing changes when it throws.
   */
  authorise(id: string, input: AuthoriseInput): Promise<ConsentView>;
  /** awaiting_authorisation → rejected, by the customer. */
  reject(id: string, input: { customerId: string; reason: string }): Promise<ConsentView>;
  /** Links the grant to an authorised consent that has none yet. */
  setGrant(id: string, grantId: string): Promise<ConsentView>;
  /** Payments: authorised → consumed. Called inside the payment's transaction. */
  markConsumed(id: string, paymentId: string): Promise<void>;
  /** authorised → revoked, by its customer; another customer's consent is `consent.not_found`. */
  revokeByCustomer(id: string, customerId: string, reason?: string): Promise<ConsentView>;
  revocationConsequences(id: string, customerId: string): Promise<RevocationConsequences>;
  /** Expires consents past their expiry; returns how many. */
  expireDue(now?: Date): Promise<number>;
  /** The consent when this client may call under it now; otherwise why not. Past expiry counts as expired. */
  usable(id: string, opts: { clientId: string }): Promise<ConsentView | ConsentRefusal>;
  /** Called inside the transaction of every status change; returns the unsubscribe function. */
  onStatusChange(listener: ConsentStatusListener): () => void;
  recordAccess(id: string, access: AccessInput): Promise<void>;
  listForCustomer(customerId: string): Promise<CustomerPartnerConsents[]>;
  detailForCustomer(id: string, customerId: string): Promise<CustomerConsentDetail>;
  exportForCustomer(customerId: string): Promise<CustomerConsentExport>;
  /** The receipts outbox, oldest first (for the notifier). */
  undeliveredReceipts(limit?: number): Promise<ConsentReceiptView[]>;
  markReceiptDelivered(id: string): Promise<boolean>;
}

/** How long a consent may wait for the customer by default, and how long a payment consent lives: 24 hours. */
export const DEFAULT_AUTHORISATION_WINDOW_MS = 24 * 3_600_000;

/** When an awaiting consent stops being authorisable: its creation plus the window, or its expiry when sooner. */
function authoriseByOf(r: Pick<ConsentRecord, 'status' | 'createdAt' | 'expiresAt'>, windowMs: number): string | null {
  if (r.status !== 'awaiting_authorisation') return null;
  const by = Date.parse(r.createdAt) + windowMs;
  const expiry = r.expiresAt === null ? Infinity : Date.parse(r.expiresAt);
  return new Date(Math.min(by, expiry)).toISOString();
}

function view(r: ConsentRecord, windowMs: number): ConsentView {
  return {
    id: r.id,
    kind: r.kind,
    status: r.status,
    clientId: r.clientId,
    partnerId: r.partnerId,
    permissions: [...r.permissions],
    expiresAt: r.expiresAt,
    transactionFrom: r.transactionFrom,
    transactionTo: r.transactionTo,
    payment: r.payment ? { ...r.payment, creditorAccount: { ...r.payment.creditorAccount } } : null,
    customerId: r.customerId,
    accountIds: [...r.accountIds],
    grantId: r.grantId,
    createdAt: r.createdAt,
    statusUpdatedAt: r.statusUpdatedAt,
    authorisedAt: r.authorisedAt,
    lastUsedAt: r.lastUsedAt,
    authoriseBy: authoriseByOf(r, windowMs),
  };
}

const isId = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= ID_MAX;

/** Authorised and not past its expiry at `at`. */
function isActive(c: ConsentView | ConsentRecord, at: number): boolean {
  return c.status === 'authorised' && !(c.expiresAt !== null && Date.parse(c.expiresAt) <= at);
}

const SYSTEM: ConsentActor = { type: 'system', id: null, label: 'the bank (automatic)' };

export function createConsentService(deps: ConsentServiceDeps): ConsentService {
  const windowMs = deps.authorisationWindowMs ?? DEFAULT_AUTHORISATION_WINDOW_MS;
  const show = (r: ConsentRecord): ConsentView => view(r, windowMs);
  /** Still awaiting the customer after its authorisation window: treated as expired before any sweep. */
  const waitedTooLong = (r: ConsentRecord, at: number): boolean => {
    const by = authoriseByOf(r, windowMs);
    return by !== null && Date.parse(by) <= at;
  };
  const { tx, audit } = deps;
  const repo = deps.repository ?? createSqliteConsentRepository(deps.db);
  const now = deps.now ?? (() => new Date());
  const listeners = new Set<ConsentStatusListener>();

  async function partnerOf(partnerId: string): Promise<CustomerPartnerConsents['partner']> {
    const p = await deps.partners.getPartner(partnerId);
    return p ? { id: p.id, name: p.legalName, status: p.status } : { id: partnerId, name: 'A former partner of the bank', status: 'unknown' };
  }

  async function clientName(clientId: string): Promise<string | null> {
    return (await deps.clients.getClient(clientId))?.clientName ?? null;
  }

  async function partnerActor(client: ConsentClient): Promise<ConsentActor> {
    return { type: 'partner', id: client.clientId, label: (await partnerOf(client.partnerId)).name };
  }

  async function accountLabels(customerId: string | null, ids: readonly string[]): Promise<text.ReceiptContext['accountLabels']> {
    if (!customerId || !deps.accounts.accountsOf || ids.length === 0) return [];
    const mine = await deps.accounts.accountsOf(customerId);
    return ids.map((id) => {
      const a = mine.find((x) => x.id === id);
      return a ? `${a.nickname} (${text.maskIban(a.iban)})` : 'an account that is closed';
    });
  }

  async function receiptContext(c: ConsentView): Promise<text.ReceiptContext> {
    return {
      partnerName: (await partnerOf(c.partnerId)).name,
      clientName: await clientName(c.clientId),
      accountLabels: await accountLabels(c.customerId, c.accountIds),
    };
  }

  interface Change {
    to: ConsentStatus;
    channel: ConsentChannel;
    actor: ConsentActor;
    reason: string | null;
    set?: Omit<StatusUpdate, 'id' | 'from' | 'to' | 'at'>;
    receipt?: (c: ConsentView, ctx: text.ReceiptContext, at: string) => { kind: ConsentReceiptView['kind']; text: string } | null;
    auditData?: Record<string, unknown>;
    /** What the change is called in the "cannot be …" message. */
    verb: string;
  }

  /** Applies a status change and everything that goes with it; call inside tx.run. */
  async function transition(current: ConsentRecord, change: Change): Promise<ConsentView> {
    const at = now().toISOString();
    const applied = await repo.updateStatus({ id: current.id, from: current.status, to: change.to, at, ...change.set });
    if (!applied) {
      const fresh = await repo.get(current.id);
      throw invalidStatus(fresh?.status ?? current.status, change.verb, `status changed under us (read ${current.status})`);
    }
    const updated = show((await repo.get(current.id))!);
    await repo.insertEvent({
      consentId: current.id,
      at,
      fromStatus: current.status,
      toStatus: change.to,
      channel: change.channel,
      actor: change.actor,
      reason: change.reason,
    });
    if (change.receipt && updated.customerId) {
      const r = change.receipt(updated, await receiptContext(updated), at);
      if (r) {
        await repo.insertReceipt({
          id: `rcpt-${randomUUID()}`,
          consentId: updated.id,
          customerId: updated.customerId,
          kind: r.kind,
          text: r.text,
          createdAt: at,
          deliveredAt: null,
        });
      }
    }
    await audit.record({
      actor: { type: change.actor.type, id: change.actor.id, label: change.actor.label },
      action: `consent.${change.to}`,
      subject: { type: 'consent', id: current.id },
      data: {
        kind: updated.kind,
        from: current.status,
        to: change.to,
        channel: change.channel,
        reason: change.reason,
        clientId: updated.clientId,
        partnerId: updated.partnerId,
        customerId: updated.customerId,
        accountIds: updated.accountIds,
        grantId: updated.grantId,
        ...change.auditData,
      },
    });
    for (const listener of listeners) {
      await listener({ consent: updated, from: current.status, to: change.to, channel: change.channel, actor: change.actor, reason: change.reason });
    }
    return updated;
  }

  async function load(id: string): Promise<ConsentRecord> {
    const c = isId(id) ? await repo.get(id) : null;
    if (!c) throw consentNotFound();
    return c;
  }

  /** Another client's consent is not found: its existence is not revealed. */
  async function loadForClient(client: ConsentClient, id: string): Promise<ConsentRecord> {
    const c = isId(id) ? await repo.get(id) : null;
    if (!c || c.clientId !== client.clientId || c.partnerId !== client.partnerId) throw consentNotFound();
    return c;
  }

  async function loadForCustomer(id: string, customerId: string): Promise<ConsentRecord> {
    const c = isId(id) && isId(customerId) ? await repo.get(id) : null;
    if (!c || c.customerId !== customerId) throw consentNotFound();
    return c;
  }

  function checkClient(client: ConsentClient): void {
    if (!client || !isId(client.clientId) || !isId(client.partnerId)) throw new TypeError('consent: a client needs a clientId and a partnerId');
  }

  /** Creates a consent, or answers the one an earlier request with the same key and body created. */
  async function create(
    client: ConsentClient,
    idempotencyKey: string | undefined,
    requestHash: string,
    fields: Pick<ConsentRecord, 'kind' | 'permissions' | 'expiresAt' | 'transactionFrom' | 'transactionTo' | 'payment'>,
  ): Promise<ConsentView> {
    const actor = await partnerActor(client);
    return tx.run(async () => {
      if (idempotencyKey !== undefined) {
        const previous = await repo.byIdempotencyKey(client.clientId, idempotencyKey);
        if (previous) {
          if (previous.requestHash !== requestHash) throw idempotencyConflict();
          return show(previous);
        }
      }
      const at = now().toISOString();
      const record: ConsentRecord = {
        id: `${fields.kind === 'account-access' ? 'aac' : 'pdc'}-${randomUUID()}`,
        status: 'awaiting_authorisation',
        clientId: client.clientId,
        partnerId: client.partnerId,
        customerId: null,
        accountIds: [],
        grantId: null,
        createdAt: at,
        statusUpdatedAt: at,
        authorisedAt: null,
        lastUsedAt: null,
        idempotencyKey: idempotencyKey ?? null,
        requestHash: idempotencyKey === undefined ? null : requestHash,
        ...fields,
      };
      await repo.insert(record);
      await repo.insertEvent({
        consentId: record.id,
        at,
        fromStatus: null,
        toStatus: 'awaiting_authorisation',
        channel: 'api',
        actor,
        reason: null,
      });
      await audit.record({
        actor: { type: 'partner', id: client.clientId, label: actor.label },
        action: 'consent.created',
        subject: { type: 'consent', id: record.id },
        data: {
          kind: record.kind,
          clientId: client.clientId,
          partnerId: client.partnerId,
          permissions: record.permissions,
          expiresAt: record.expiresAt,
          ...(record.payment
            ? { amount: record.payment.amount, currency: record.payment.currency, payee: record.payment.creditorAccount.name }
            : {}),
        },
      });
      return show(record);
    });
  }

  function checkKey(key: string | undefined): void {
    if (key !== undefined && (typeof key !== 'string' || !IDEMPOTENCY_KEY.test(key))) throw idempotencyKeyInvalid();
  }

  return {
    async createAccountAccess(client, body, idempotencyKey) {
      checkClient(client);
      checkKey(idempotencyKey);
      const req = readAccountAccessRequest(body, now());
      return create(client, idempotencyKey, req.requestHash, {
        kind: 'account-access',
        permissions: req.permissions,
        expiresAt: req.expiresAt,
        transactionFrom: req.transactionFrom,
        transactionTo: req.transactionTo,
        payment: null,
      });
    },

    async createDomesticPayment(client, body, idempotencyKey) {
      checkClient(client);
      checkKey(idempotencyKey);
      const req = readPaymentRequest(body);
      return create(client, idempotencyKey, req.requestHash, {
        kind: 'domestic-payment',
        permissions: [],
        // A payment consent is for one payment soon: authorised and used within the window, or it expires.
        expiresAt: new Date(now().getTime() + windowMs).toISOString(),
        transactionFrom: null,
        transactionTo: null,
        payment: req.payment,
      });
    },

    async get(id) {
      const c = isId(id) ? await repo.get(id) : null;
      return c ? show(c) : null;
    },

    async findByGrantId(grantId) {
      const c = isId(grantId) ? await repo.byGrantId(grantId) : null;
      return c ? show(c) : null;
    },

    async getForClient(client, id) {
      return show(await loadForClient(client, id));
    },

    async deleteForClient(client, id) {
      const actor = await partnerActor(client);
      return tx.run(async () => {
        const c = await loadForClient(client, id);
        if (c.kind !== 'account-access') throw deleteNotSupported();
        if (c.status !== 'awaiting_authorisation' && c.status !== 'authorised') throw invalidStatus(c.status, 'deleted');
        return transition(c, {
          to: 'revoked',
          channel: 'api',
          actor,
          reason: 'deleted by the partner',
          verb: 'deleted',
          receipt: (v, ctx, at) => ({ kind: 'revoked', text: text.revokedReceipt(v, ctx, at, true) }),
        });
      });
    },

    async authorise(id, input) {
      const { customerId, accountIds, channel } = input;
      const grantId = input.grantId ?? null;
      if (!isId(customerId)) throw new TypeError('consent.authorise: customerId is required');
      if (grantId !== null && !isId(grantId)) throw new TypeError('consent.authorise: grantId must be an id');
      if (!Array.isArray(accountIds) || accountIds.length === 0) throw accountsInvalid('Choose at least one account.');
      if (accountIds.length > 50 || !accountIds.every(isId)) throw accountsInvalid('The accounts chosen are not valid.');
      if (new Set(accountIds).size !== accountIds.length) throw accountsInvalid('Each account can be chosen once.');
      const before = await load(id);
      // Checked again inside the transaction; first here so that the answer names the real problem.
      if (before.status !== 'awaiting_authorisation') throw invalidStatus(before.status, 'authorised');
      if (waitedTooLong(before, now().getTime())) throw consentExpired();
      if (before.kind === 'domestic-payment' && accountIds.length !== 1) throw accountsInvalid('Choose exactly one account to pay from.');
      // Reads of the banking area, before the transaction (which re-reads the consent itself).
      if (!(await deps.accounts.ownsAccounts(customerId, accountIds))) throw accountNotOwned();
      if (before.payment && deps.accounts.accountsOf) {
        const debtor = (await deps.accounts.accountsOf(customerId)).find((a) => a.id === accountIds[0]);
        if (debtor && debtor.currency !== before.payment.currency) {
          throw accountsInvalid(`This payment is in ${before.payment.currency}: choose an account in ${before.payment.currency}.`);
        }
      }
      return tx.run(async () => {
        const c = await load(id);
        if (c.status !== 'awaiting_authorisation') throw invalidStatus(c.status, 'authorised');
        if (waitedTooLong(c, now().getTime())) throw consentExpired();
        if (grantId !== null && (await repo.byGrantId(grantId))) throw grantConflict();
        return transition(c, {
          to: 'authorised',
          channel,
          actor: { type: 'customer', id: customerId, label: 'the customer' },
          reason: null,
          verb: 'authorised',
          set: { customerId, accountIds, authorisedAt: now().toISOString(), ...(grantId ? { grantId } : {}) },
          receipt: (v, ctx, at) => ({ kind: 'granted', text: text.grantedReceipt(v, ctx, at) }),
        });
      });
    },

    async reject(id, input) {
      if (!isId(input.customerId)) throw new TypeError('consent.reject: customerId is required');
      const reason = typeof input.reason === 'string' && input.reason.trim() ? input.reason.trim().slice(0, 500) : 'declined by the customer';
      return tx.run(async () => {
        const c = await load(id);
        if (c.status !== 'awaiting_authorisation') throw invalidStatus(c.status, 'rejected');
        return transition(c, {
          to: 'rejected',
          channel: 'authorisation',
          actor: { type: 'customer', id: input.customerId, label: 'the customer' },
          reason,
          verb: 'rejected',
          set: { customerId: input.customerId },
          receipt: (v, ctx, at) => ({ kind: 'rejected', text: text.rejectedReceipt(v, ctx, at) }),
        });
      });
    },

    async setGrant(id, grantId) {
      if (!isId(grantId)) throw new TypeError('consent.setGrant: grantId must be an id');
      return tx.run(async () => {
        const c = await load(id);
        if (c.grantId === grantId) return show(c);
        if (c.status !== 'authorised') throw invalidStatus(c.status, 'linked to an authorisation');
        if (c.grantId !== null || (await repo.byGrantId(grantId))) throw grantConflict();
        if (!(await repo.setGrant(id, grantId))) throw grantConflict();
        await audit.record({
          actor: SYSTEM,
          action: 'consent.grant_linked',
          subject: { type: 'consent', id },
          data: { grantId, clientId: c.clientId, customerId: c.customerId },
        });
        return show((await repo.get(id))!);
      });
    },

    async markConsumed(id, paymentId) {
      if (!isId(paymentId)) throw new TypeError('consent.markConsumed: paymentId must be an id');
      await tx.run(async () => {
        const c = await load(id);
        if (c.kind !== 'domestic-payment') throw invalidStatus(c.status, 'consumed', `consent ${id} is ${c.kind}`);
        if (c.status !== 'authorised') throw invalidStatus(c.status, 'consumed');
        await transition(c, {
          to: 'consumed',
          channel: 'api',
          actor: { type: 'partner', id: c.clientId, label: (await partnerOf(c.partnerId)).name },
          reason: `payment ${paymentId} executed`,
          verb: 'consumed',
          auditData: { paymentId },
        });
      });
    },

    async revokeByCustomer(id, customerId, reason) {
      const why = typeof reason === 'string' && reason.trim() ? reason.trim().slice(0, 500) : 'withdrawn by the customer';
      return tx.run(async () => {
        const c = await loadForCustomer(id, customerId);
        if (c.status !== 'authorised') throw invalidStatus(c.status, 'withdrawn');
        return transition(c, {
          to: 'revoked',
          channel: 'consent-centre',
          actor: { type: 'customer', id: customerId, label: 'the customer' },
          reason: why,
          verb: 'withdrawn',
          receipt: (v, ctx, at) => ({ kind: 'revoked', text: text.revokedReceipt(v, ctx, at, false) }),
        });
      });
    },

    async revocationConsequences(id, customerId) {
      const c = show(await loadForCustomer(id, customerId));
      // Past its expiry but not yet swept: already ended for every caller.
      if (c.status === 'authorised' && !isActive(c, now().getTime())) return text.consequences({ ...c, status: 'expired' }, await receiptContext(c));
      return text.consequences(c, await receiptContext(c));
    },

    async expireDue(at) {
      const when = at ?? now();
      const moment = when.toISOString();
      const awaitingSince = new Date(when.getTime() - windowMs).toISOString();
      let expired = 0;
      for (;;) {
        const due = await repo.dueForExpiry(moment, awaitingSince, EXPIRY_BATCH);
        if (due.length === 0) return expired;
        for (const c of due) {
          // Each in its own transaction: one failing listener does not hold back the others.
          const done = await tx.run(async () => {
            const fresh = await repo.get(c.id);
            if (!fresh || (fresh.status !== 'authorised' && fresh.status !== 'awaiting_authorisation')) return false;
            const pastExpiry = fresh.expiresAt !== null && fresh.expiresAt <= moment;
            await transition(fresh, {
              to: 'expired',
              channel: 'system',
              actor: SYSTEM,
              reason: pastExpiry ? 'reached its expiry date' : 'was not authorised in time',
              verb: 'expired',
              receipt: (v, ctx, when) => (fresh.status === 'authorised' ? { kind: 'expired', text: text.expiredReceipt(v, ctx, when) } : null),
            });
            return true;
          });
          if (done) expired++;
        }
        if (due.length < EXPIRY_BATCH) return expired;
      }
    },

    async usable(id, opts) {
      const c = isId(id) ? await repo.get(id) : null;
      if (!c) return 'consent.not_found';
      if (c.clientId !== opts.clientId) return 'consent.other_client';
      switch (c.status) {
        case 'awaiting_authorisation':
        case 'rejected':
          return 'consent.not_authorised';
        case 'revoked':
          return 'consent.revoked';
        case 'expired':
          return 'consent.expired';
        case 'consumed':
          return 'consent.consumed';
        case 'authorised':
          return isActive(c, now().getTime()) ? show(c) : 'consent.expired';
      }
    },

    onStatusChange(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },

    async recordAccess(id, access) {
      const { clientId, endpoint, accountId, status } = access;
      if (!isId(clientId) || typeof endpoint !== 'string' || endpoint.length === 0 || endpoint.length > 200) {
        throw new TypeError('consent.recordAccess: clientId and endpoint (at most 200 characters) are required');
      }
      if (!Number.isInteger(status) || status < 100 || status > 599) throw new TypeError('consent.recordAccess: status must be an HTTP status');
      await tx.run(async () => {
        const c = await load(id);
        if (c.clientId !== clientId) throw consentNotFound();
        const at = now().toISOString();
        await repo.insertAccess({ consentId: id, at, clientId, endpoint, accountId: isId(accountId) ? accountId : null, status });
        // A refused call did not use the consent.
        if (status < 400) await repo.touchLastUsed(id, at);
      });
    },

    async listForCustomer(customerId) {
      if (!isId(customerId)) return [];
      const t = now().getTime();
      const groups = new Map<string, CustomerPartnerConsents>();
      const names = new Map<string, string | null>();
      // Newest first within each partner.
      for (const c of (await repo.ofCustomer(customerId)).reverse()) {
        let group = groups.get(c.partnerId);
        if (!group) {
          group = { partner: await partnerOf(c.partnerId), active: [], past: [] };
          groups.set(c.partnerId, group);
        }
        if (!names.has(c.clientId)) names.set(c.clientId, await clientName(c.clientId));
        const summary: CustomerConsentSummary = { consent: show(c), clientName: names.get(c.clientId) ?? null, active: isActive(c, t) };
        (summary.active ? group.active : group.past).push(summary);
      }
      // Partners with something active first, then by name.
      return [...groups.values()].sort(
        (a, b) => Number(b.active.length > 0) - Number(a.active.length > 0) || a.partner.name.localeCompare(b.partner.name),
      );
    },

    async detailForCustomer(id, customerId) {
      const c = await loadForCustomer(id, customerId);
      return {
        consent: show(c),
        clientName: await clientName(c.clientId),
        active: isActive(c, now().getTime()),
        partner: await partnerOf(c.partnerId),
        events: await repo.events(c.id),
        accesses: await repo.accesses(c.id, DETAIL_ACCESSES),
        receipts: await repo.receipts(c.id),
      };
    },

    async exportForCustomer(customerId) {
      if (!isId(customerId)) throw new TypeError('consent.exportForCustomer: customerId is required');
      const consents: CustomerConsentExport['consents'] = [];
      for (const c of await repo.ofCustomer(customerId)) {
        const events: ConsentEventView[] = await repo.events(c.id);
        const accesses: ConsentAccessView[] = await repo.accesses(c.id, EXPORT_ACCESSES);
        consents.push({
          consent: show(c),
          clientName: await clientName(c.clientId),
          partner: await partnerOf(c.partnerId),
          events,
          accesses,
          receipts: await repo.receipts(c.id),
        });
      }
      const exportedAt = now().toISOString();
      // A download of personal data is itself worth recording (who took a copy, when).
      await audit.record({
        actor: { type: 'customer', id: customerId, label: 'the customer' },
        action: 'consent.history.exported',
        subject: { type: 'customer', id: customerId },
        data: { consents: consents.length },
      });
      return { customerId, exportedAt, consents };
    },

    async undeliveredReceipts(limit = 100) {
      return repo.undeliveredReceipts(Math.min(Math.max(Math.trunc(limit), 1), 1000));
    },

    async markReceiptDelivered(id) {
      if (!isId(id)) return false;
      return tx.run(() => repo.markReceiptDelivered(id, now().toISOString()));
    },
  };
}

