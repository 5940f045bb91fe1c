/**
 * The consent area's public contract: consent intents a partner creates over mutual TLS, the customer's
 * decision on them, and what the banking APIs and the authorization server ask of them.
 *
 * States (UK Open Banking names on the API, lower-case here):
 *   awaiting_authorisation → authorised | rejected
 *   authorised → revoked | expired | consumed (payments, once executed)
 *   awaiting_authorisation → expired (not authorised in time)
 *   awaiting_authorisation → revoked (the partner deleted an account-access consent before the customer decided)
 * Every change is a consent event: who, through which channel, and why.
 */

export const CONSENT_KINDS = ['account-access', 'domestic-payment'] as const;
export type ConsentKind = (typeof CONSENT_KINDS)[number];

export const CONSENT_STATUSES = ['awaiting_authorisation', 'authorised', 'rejected', 'revoked', 'expired', 'consumed'] as const;
export type ConsentStatus = (typeof CONSENT_STATUSES)[number];

/** The UK Open Banking status names the partner-facing API uses. */
export const API_STATUS: Record<ConsentStatus, string> = {
  awaiting_authorisation: 'AwaitingAuthorisation',
  authorised: 'Authorised',
  rejected: 'Rejected',
  revoked: 'Revoked',
  expired: 'Expired',
  consumed: 'Consumed',
};

/** Account-access permissions (UK Open Banking names), each with what it lets a partner see, in plain words. */
export const ACCOUNT_PERMISSIONS = [
  'ReadAccountsBasic',
  'ReadAccountsDetail',
  'ReadBalances',
  'ReadTransactionsBasic',
  'ReadTransactionsDetail',
  'ReadTransactionsCredits',
  'ReadTransactionsDebits',
] as const;
export type AccountPermission = (typeof ACCOUNT_PERMISSIONS)[number];

export const PERMISSION_TEXT: Record<AccountPermission, string> = {
  ReadAccountsBasic: 'Your account names, types and currencies',
  ReadAccountsDetail: 'Your account numbers (IBAN) and the account holder name',
  ReadBalances: 'Your account balances',
  ReadTransactionsBasic: 'Your transactions: dates, amounts and whether money came in or went out',
  ReadTransactionsDetail: 'Your transaction details: references and who you paid or were paid by',
  ReadTransactionsCredits: 'Money coming into your accounts',
  ReadTransactionsDebits: 'Money going out of your accounts',
};

/** A domestic payment a partner asks the customer to approve. Amounts are decimal strings ("12.50"). */
export interface PaymentInstruction {
  instructionIdentification: string;
  endToEndIdentification: string;
  amount: string;
  currency: string;
  creditorAccount: { schemeName: 'IBAN'; identification: string; name: string };
  reference: string;
}

export type ConsentChannel = 'api' | 'authorisation' | 'consent-centre' | 'system';

/** Who caused a consent event. */
export interface ConsentActor {
  type: 'partner' | 'customer' | 'system' | 'staff';
  /** Client id, customer user id, staff user id; null for the system. */
  id: string | null;
  label: string;
}

/** The partner side of a call: the client_credentials (or customer) token's client and partner. */
export interface ConsentClient {
  clientId: string;
  partnerId: string;
}

/** A consent as every caller sees it (shaped; never the raw row). */
export interface ConsentView {
  id: string;
  kind: ConsentKind;
  status: ConsentStatus;
  clientId: string;
  partnerId: string;
  /** Account-access permissions; empty for payments. */
  permissions: AccountPermission[];
  /** When access ends (account access; null = no expiry given). Payments: null. */
  expiresAt: string | null;
  /**
   * UK OB TransactionFromDateTime / TransactionToDateTime of an account-access consent (UTC; null = unbounded).
   * Optional in the type so that views built elsewhere (test doubles) stay valid; the consent service always sets them.
   */
  transactionFrom?: string | null;
  transactionTo?: string | null;
  payment: PaymentInstruction | null;
  /** Set when a customer authorised or rejected it. */
  customerId: string | null;
  /** The accounts the customer chose (for payments: the one debtor account). */
  accountIds: string[];
  /** The oidc-provider grant made when it was authorised: revoked with the consent. */
  grantId: string | null;
  createdAt: string;
  statusUpdatedAt: string;
  authorisedAt: string | null;
  lastUsedAt: string | null;
  /**
   * Awaiting consents: when the customer's authorisation window ends (then it expires). null otherwise.
   * Optional in the type so that views built elsewhere (test doubles) stay valid; the consent service sets it.
   */
  authoriseBy?: string | null;
}

export interface ConsentEventView {
  consentId: string;
  at: string;
  fromStatus: ConsentStatus | null;
  toStatus: ConsentStatus;
  channel: ConsentChannel;
  actor: ConsentActor;
  reason: string | null;
}

/** One call a partner made under a consent (the customer's access history). */
export interface ConsentAccessView {
  consentId: string;
  at: string;
  clientId: string;
  /** e.g. `GET /api/v1/accounts/{AccountId}/transactions` (the route pattern, not the concrete URL). */
  endpoint: string;
  accountId: string | null;
  status: number;
}

/** A receipt the customer gets for a grant, a revocation or an expiry (kept in an outbox until delivered). */
export interface ConsentReceiptView {
  id: string;
  consentId: string;
  customerId: string;
  kind: 'granted' | 'revoked' | 'expired' | 'rejected';
  createdAt: string;
  deliveredAt: string | null;
  /** Plain-words text shown in the consent centre. */
  text: string;
}

/** Why a consent cannot be used for a call; null means it can. Stable codes, used in the API errors. */
export type ConsentRefusal =
  | 'consent.not_found'
  | 'consent.other_client'
  | 'consent.not_authorised'
  | 'consent.revoked'
  | 'consent.expired'
  | 'consent.consumed'
  | 'consent.account_not_granted'
  | 'consent.permission_missing';

// --- added by the consent area (issue 5) --------------------------------------------------------------------

/** A status change, as `onStatusChange` listeners get it (called inside the change's transaction). */
export interface ConsentStatusChange {
  consent: ConsentView;
  from: ConsentStatus;
  to: ConsentStatus;
  channel: ConsentChannel;
  actor: ConsentActor;
  reason: string | null;
}

/** One consent as the customer's consent centre lists it. */
export interface CustomerConsentSummary {
  consent: ConsentView;
  /** The app (OAuth client) the consent was given to; null when the client is gone or unnamed. */
  clientName: string | null;
  /** Authorised and not past its expiry. */
  active: boolean;
}

/** The customer's consents with one partner: the partner's vetted name and its status at the bank. */
export interface CustomerPartnerConsents {
  partner: { id: string; name: string; status: 'active' | 'suspended' | 'unknown' };
  active: CustomerConsentSummary[];
  past: CustomerConsentSummary[];
}

/** What revoking would mean, in plain words, before the customer confirms (CDR withdrawal consequences). */
export interface RevocationConsequences {
  /** False when the consent is not authorised (nothing to revoke); `lines` then say why. */
  revocable: boolean;
  lines: string[];
}

export interface CustomerConsentDetail extends CustomerConsentSummary {
  partner: CustomerPartnerConsents['partner'];
  events: ConsentEventView[];
  /** Newest first. */
  accesses: ConsentAccessView[];
  receipts: ConsentReceiptView[];
}

/** GDPR access (Art. 15): everything the consent area keeps about one customer's consents. */
export interface CustomerConsentExport {
  customerId: string;
  exportedAt: string;
  consents: Omit<CustomerConsentDetail, 'active'>[];
}
