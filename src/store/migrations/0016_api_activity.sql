-- Per-partner API activity (src/ops/activity.ts): calls to the bank's APIs on the mutual-TLS listener, counted
-- per minute and per (partner, client, route pattern, status, refusal reason). The recorder batches calls in
-- memory and adds them here every few seconds, so a busy partner costs one row per combination and minute, not
-- one per call. Route patterns, never concrete URLs; no tokens, no customer data.
CREATE TABLE api_activity (
  -- UTC minute, 'YYYY-MM-DDTHH:MM' (text order is time order; the day is its first 10 characters).
  minute TEXT NOT NULL,
  partner_id TEXT NOT NULL,
  -- '-' when the call was refused before an access token was accepted (attributed by the client certificate).
  client_id TEXT NOT NULL,
  method TEXT NOT NULL,
  route TEXT NOT NULL,
  status INTEGER NOT NULL CHECK (status BETWEEN 100 AND 599),
  -- The refusal's error code (`invalid_token`, `consent.revoked`, `token.grant_revoked`, ...); '' for successes.
  reason TEXT NOT NULL DEFAULT '',
  calls INTEGER NOT NULL CHECK (calls > 0),
  last_at TEXT NOT NULL,
  PRIMARY KEY (partner_id, minute, client_id, method, route, status, reason)
) WITHOUT ROWID;
-- Pruning by age.
CREATE INDEX api_activity_minute ON api_activity (minute);
