-- Consent area (src/consent): the consent intents partners create, their history (every status change, with
-- who, through which channel and why), the calls partners made under them (the customer's access history),
-- and the receipts the customer is owed (an outbox: written with the change, delivered later).
-- client_id, partner_id, customer_id, grant_id and account ids point at other areas by value.
CREATE TABLE consents (
  -- Opaque, unguessable (UK OB ConsentId).
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('account-access', 'domestic-payment')),
  status TEXT NOT NULL CHECK (status IN ('awaiting_authorisation', 'authorised', 'rejected', 'revoked', 'expired', 'consumed')),
  client_id TEXT NOT NULL,
  partner_id TEXT NOT NULL,
  -- JSON array of UK OB permission names; [] for payments.
  permissions TEXT NOT NULL DEFAULT '[]',
  -- ISO 8601 UTC with milliseconds (text order is time order); NULL = no expiry given.
  expires_at TEXT,
  -- UK OB TransactionFromDateTime / TransactionToDateTime, as given (normalised to UTC); NULL = unbounded.
  transaction_from TEXT,
  transaction_to TEXT,
  -- JSON PaymentInstruction for payments; NULL for account access.
  payment TEXT,
  -- Set when the customer authorised or rejected it.
  customer_id TEXT,
  -- JSON array of the accounts the customer chose.
  account_ids TEXT NOT NULL DEFAULT '[]',
  -- The oidc-provider grant made when it was authorised.
  grant_id TEXT UNIQUE,
  created_at TEXT NOT NULL,
  status_updated_at TEXT NOT NULL,
  authorised_at TEXT,
  last_used_at TEXT,
  -- x-idempotency-key of the creating POST and the SHA-256 (hex) of its canonical body: a replay with the same
  -- body answers this consent, the same key with another body is a conflict.
  idempotency_key TEXT,
  request_hash TEXT,
  CHECK ((kind = 'domestic-payment') = (payment IS NOT NULL)),
  CHECK ((idempotency_key IS NULL) = (request_hash IS NULL))
);
CREATE UNIQUE INDEX consents_idempotency ON consents (client_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX consents_customer ON consents (customer_id, created_at) WHERE customer_id IS NOT NULL;
CREATE INDEX consents_expiry ON consents (status, expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE consent_events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  consent_id TEXT NOT NULL REFERENCES consents (id),
  at TEXT NOT NULL,
  -- NULL for the creation.
  from_status TEXT,
  to_status TEXT NOT NULL,
  channel TEXT NOT NULL CHECK (channel IN ('api', 'authorisation', 'consent-centre', 'system')),
  actor_type TEXT NOT NULL CHECK (actor_type IN ('partner', 'customer', 'system', 'staff')),
  actor_id TEXT,
  actor_label TEXT NOT NULL,
  reason TEXT
);
CREATE INDEX consent_events_consent ON consent_events (consent_id, seq);

CREATE TABLE consent_accesses (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  consent_id TEXT NOT NULL REFERENCES consents (id),
  at TEXT NOT NULL,
  client_id TEXT NOT NULL,
  -- The route pattern, e.g. `GET /api/v1/accounts/{AccountId}/transactions`, never the concrete URL.
  endpoint TEXT NOT NULL,
  account_id TEXT,
  status INTEGER NOT NULL
);
CREATE INDEX consent_accesses_consent ON consent_accesses (consent_id, seq);

CREATE TABLE consent_receipts (
  id TEXT PRIMARY KEY,
  consent_id TEXT NOT NULL REFERENCES consents (id),
  customer_id TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('granted', 'revoked', 'expired', 'rejected')),
  text TEXT NOT NULL,
  created_at TEXT NOT NULL,
  -- NULL until the notifier delivered it (outbox).
  delivered_at TEXT
);
CREATE INDEX consent_receipts_consent ON consent_receipts (consent_id, created_at);
CREATE INDEX consent_receipts_undelivered ON consent_receipts (created_at) WHERE delivered_at IS NULL;
