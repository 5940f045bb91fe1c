-- Accounts (src/accounts): applicants and staff, login throttling, and the express-session store.
-- E-mails are stored normalised (trimmed, lower-case); one account per e-mail and kind.
CREATE TABLE users (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('applicant', 'staff')),
  email TEXT NOT NULL,
  display_name TEXT NOT NULL,
  -- Self-describing: scrypt$N$r$p$salt$hash (base64url), so parameters can change without a migration.
  password_hash TEXT NOT NULL,
  password_changed_at TEXT NOT NULL,
  -- 1 for a temporary password set by an admin: it must be changed before the first sign-in completes.
  password_must_change INTEGER NOT NULL DEFAULT 0 CHECK (password_must_change IN (0, 1)),
  -- AES-256-GCM under the data key, bound to the user id; present from creation, enrolled once confirmed.
  totp_secret_enc TEXT NOT NULL,
  totp_enrolled_at TEXT,
  -- Replay guard: the time step of the last accepted code; a code must be for a later step.
  totp_last_step INTEGER NOT NULL DEFAULT 0,
  roles TEXT NOT NULL DEFAULT '[]',
  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
  created_at TEXT NOT NULL,
  created_by TEXT,
  UNIQUE (kind, email)
);

-- Failed-attempt counters per key (`acct:<kind>:<email>`, `totp:<user id>`, `ip:<address>`).
CREATE TABLE auth_throttle (
  key TEXT PRIMARY KEY,
  failures INTEGER NOT NULL,
  window_start TEXT NOT NULL,
  locked_until TEXT
);

-- express-session rows; expired ones are never returned and are purged as sessions are written.
CREATE TABLE sessions (
  sid TEXT PRIMARY KEY,
  expires_at INTEGER NOT NULL,
  data TEXT NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires_at);
