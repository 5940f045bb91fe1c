-- Bank customers (issue 5): a third kind of user, who signs in with password + TOTP to approve partners'
-- consents and to use the consent centre. SQLite cannot change a CHECK in place: the table is rebuilt with
-- the same columns and constraints and the wider CHECK, and the rows are copied. No table references users
-- by a foreign key (sessions, audit events and the other areas hold user ids as plain text), so dropping
-- the old table under foreign_keys = ON touches nothing else.
CREATE TABLE users_new (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('applicant', 'staff', 'customer')),
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

INSERT INTO users_new
  (id, kind, email, display_name, password_hash, password_changed_at, password_must_change, totp_secret_enc,
   totp_enrolled_at, totp_last_step, roles, status, created_at, created_by)
SELECT id, kind, email, display_name, password_hash, password_changed_at, password_must_change, totp_secret_enc,
   totp_enrolled_at, totp_last_step, roles, status, created_at, created_by
FROM users;

DROP TABLE users;
ALTER TABLE users_new RENAME TO users;
