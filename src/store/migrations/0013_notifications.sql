-- Notifications area (src/notifications): the outbox (one notification per event, one delivery per e-mail
-- recipient or webhook endpoint) and the partners' webhook endpoints. partner_id points at the partners area
-- by value (areas never join each other's tables).

CREATE TABLE notifications (
  id TEXT PRIMARY KEY,
  event TEXT NOT NULL,
  partner_id TEXT,
  occurred_at TEXT NOT NULL,
  -- The caller's key (e.g. one expiry notice per certificate and threshold): a repeat is not queued again.
  dedupe_key TEXT UNIQUE,
  -- JSON object: the webhook payload's `data`, secrets already redacted.
  data TEXT NOT NULL
);
CREATE INDEX notifications_partner ON notifications (partner_id, occurred_at);

-- Where a partner wants its webhooks. At most one active endpoint per partner; removed ones stay for the
-- delivery history. No secret: the portal signs every POST with its own key (/notifications/jwks.json).
CREATE TABLE webhook_endpoints (
  id TEXT PRIMARY KEY,
  partner_id TEXT NOT NULL,
  url TEXT NOT NULL,
  active INTEGER NOT NULL CHECK (active IN (0, 1)),
  created_at TEXT NOT NULL,
  created_by TEXT NOT NULL,
  removed_at TEXT,
  removed_by TEXT,
  CHECK ((active = 0) = (removed_at IS NOT NULL))
);
CREATE UNIQUE INDEX webhook_endpoints_one_active ON webhook_endpoints (partner_id) WHERE active = 1;

CREATE TABLE notification_deliveries (
  -- The delivery id: the webhook body's `id` and X-Portal-Delivery, stable across retries.
  id TEXT PRIMARY KEY,
  notification_id TEXT NOT NULL REFERENCES notifications (id),
  channel TEXT NOT NULL CHECK (channel IN ('email', 'webhook')),
  -- The e-mail address, or the webhook URL as it was when queued.
  target TEXT NOT NULL,
  endpoint_id TEXT REFERENCES webhook_endpoints (id),
  -- webhook: the exact body bytes that are signed and sent (UTF-8 JSON); email: JSON {subject, text}.
  payload TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'failed', 'delivered', 'dead')),
  attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  next_attempt_at TEXT,
  -- A worker's lease while it sends (claimed in one transaction, recorded in another): another tick or
  -- process skips the row until the lease ends; a crash mid-send only delays the retry.
  claim_token TEXT,
  claimed_until TEXT,
  -- Safe words only (no stack, no credential); the answer's body is never kept beyond a short excerpt.
  last_error TEXT,
  last_status INTEGER,
  response_excerpt TEXT,
  created_at TEXT NOT NULL,
  last_attempt_at TEXT,
  delivered_at TEXT,
  CHECK ((channel = 'webhook') = (endpoint_id IS NOT NULL)),
  CHECK ((status = 'delivered') = (delivered_at IS NOT NULL)),
  CHECK (status IN ('delivered', 'dead') OR next_attempt_at IS NOT NULL)
);
CREATE INDEX notification_deliveries_due ON notification_deliveries (status, next_attempt_at);
CREATE INDEX notification_deliveries_notification ON notification_deliveries (notification_id);
