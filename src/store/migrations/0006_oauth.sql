-- OAuth area (src/oauth): every oidc-provider model (clients, tokens, grants, codes, PAR requests, sessions,
-- interactions, registration and initial access tokens) in one table, as the provider's adapter contract
-- describes them. Owned by the oauth area only; other areas go through OAuthService.
CREATE TABLE oauth_models (
  model TEXT NOT NULL,
  id TEXT NOT NULL,
  payload TEXT NOT NULL,
  -- Copied out of the payload for the look-ups the provider and the portal make.
  grant_id TEXT,
  user_code TEXT,
  uid TEXT,
  client_id TEXT,
  -- Epoch milliseconds; NULL never expires (clients).
  expires_at INTEGER,
  consumed_at INTEGER,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (model, id)
);
CREATE INDEX oauth_models_grant ON oauth_models (grant_id) WHERE grant_id IS NOT NULL;
CREATE INDEX oauth_models_uid ON oauth_models (model, uid) WHERE uid IS NOT NULL;
CREATE INDEX oauth_models_user_code ON oauth_models (model, user_code) WHERE user_code IS NOT NULL;
CREATE INDEX oauth_models_client ON oauth_models (client_id, model) WHERE client_id IS NOT NULL;
CREATE INDEX oauth_models_expires ON oauth_models (expires_at) WHERE expires_at IS NOT NULL;
