-- Lifecycle monitor (src/monitor): its runs and what each did, the alerts it raised, the review tasks it opened
-- for officers, the certificate expiry notices sent, what it last saw of each partner in the NCA register, and
-- reinstatement proposals awaiting a second officer. partner_id points at the partners area by value (areas
-- never join each other's tables). Times are ISO 8601 UTC. Owned by the monitor area only.
CREATE TABLE monitor_runs (
  id TEXT PRIMARY KEY,
  trigger TEXT NOT NULL CHECK (trigger IN ('scheduler', 'cli', 'manual')),
  started_at TEXT NOT NULL,
  finished_at TEXT,
  -- 'running' doubles as a lease: a second process refuses to start while one is recent (monitor.busy).
  status TEXT NOT NULL CHECK (status IN ('running', 'ok', 'failed', 'abandoned')),
  -- JSON: counts and the register step's outcome (MonitorRunSummary).
  summary TEXT NOT NULL,
  error TEXT
);
CREATE INDEX monitor_runs_started ON monitor_runs (started_at);

CREATE TABLE monitor_actions (
  id TEXT PRIMARY KEY,
  run_id TEXT NOT NULL REFERENCES monitor_runs (id),
  at TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('suspend', 'narrow_roles', 'expiry_notice', 'register_import', 'task')),
  partner_id TEXT,
  reason_code TEXT,
  -- Plain words for officers.
  summary TEXT NOT NULL,
  -- JSON: the evidence the action rests on (certificate report summary, register entry before and after).
  evidence TEXT NOT NULL
);
CREATE INDEX monitor_actions_run ON monitor_actions (run_id);
CREATE INDEX monitor_actions_at ON monitor_actions (at);

CREATE TABLE monitor_alerts (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('revocation_unavailable', 'revocation_not_checked', 'certificate_invalid',
    'register_source', 'register_empty', 'action_failed', 'run_failed')),
  -- What the alert is about (a certificate's SHA-256, the register source): one open alert per kind and key.
  key TEXT NOT NULL,
  partner_id TEXT,
  detail TEXT NOT NULL,
  first_seen TEXT NOT NULL,
  last_seen TEXT NOT NULL,
  seen_count INTEGER NOT NULL,
  first_run_id TEXT,
  last_run_id TEXT,
  state TEXT NOT NULL CHECK (state IN ('open', 'closed')),
  closed_at TEXT
);
CREATE UNIQUE INDEX monitor_alerts_open ON monitor_alerts (kind, key) WHERE state = 'open';
CREATE INDEX monitor_alerts_state ON monitor_alerts (state, last_seen);

CREATE TABLE monitor_tasks (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('register_name_change', 'register_entry_missing', 'register_withdrawn',
    'reinstatement_offer', 'certificate_problem')),
  partner_id TEXT NOT NULL,
  -- The same register change or certificate problem opens one task, however many runs see it.
  dedupe_key TEXT NOT NULL UNIQUE,
  title TEXT NOT NULL,
  detail TEXT NOT NULL,
  evidence TEXT NOT NULL,
  run_id TEXT,
  created_at TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('open', 'done')),
  resolved_at TEXT,
  resolved_by_id TEXT,
  resolved_by_label TEXT,
  resolution TEXT
);
CREATE INDEX monitor_tasks_state ON monitor_tasks (state, created_at);

-- One row per certificate and threshold (60, 30, 14, 7, 1 days): a notice is sent once.
CREATE TABLE monitor_notices (
  certificate_sha256 TEXT NOT NULL,
  threshold_days INTEGER NOT NULL,
  partner_id TEXT NOT NULL,
  sent_at TEXT NOT NULL,
  run_id TEXT NOT NULL,
  -- Whether the notifications outbox accepted it (it may dedupe or have no recipient).
  queued INTEGER NOT NULL CHECK (queued IN (0, 1)),
  PRIMARY KEY (certificate_sha256, threshold_days)
);

-- The register entry the monitor last saw for each partner (JSON RegisterEntry; NULL: not in the register).
CREATE TABLE monitor_register_baselines (
  partner_id TEXT PRIMARY KEY,
  entry TEXT,
  snapshot_id TEXT,
  seen_at TEXT NOT NULL
);

-- Four eyes for reinstating a partner the system suspended: one officer proposes, a different one decides.
CREATE TABLE monitor_reinstatements (
  id TEXT PRIMARY KEY,
  partner_id TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('proposed', 'approved', 'declined')),
  proposed_by_id TEXT NOT NULL,
  proposed_by_label TEXT NOT NULL,
  -- JSON array of the proposer's staff roles when proposing.
  proposed_by_roles TEXT NOT NULL,
  proposed_at TEXT NOT NULL,
  proposal TEXT NOT NULL,
  decided_by_id TEXT,
  decided_by_label TEXT,
  decided_at TEXT,
  decision_text TEXT
);
CREATE UNIQUE INDEX monitor_reinstatements_open ON monitor_reinstatements (partner_id) WHERE state = 'proposed';
