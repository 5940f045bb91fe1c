-- Partners area (src/partners): applications, their certificates, answers, evidence, timeline, change
-- requests and decisions, and the partners approved applications become. Owned by the partners area only.
-- JSON columns hold view-shaped data written by the service (profile, score, reports, conditions).
CREATE TABLE applications (
  id TEXT PRIMARY KEY,
  applicant_id TEXT NOT NULL,
  applicant_email TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('draft', 'submitted', 'under_review', 'changes_requested',
    'awaiting_second_approval', 'approved', 'conditionally_approved', 'rejected', 'withdrawn')),
  track TEXT CHECK (track IS NULL OR track IN ('regulated', 'partner')),
  legal_name TEXT,
  profile TEXT,
  questionnaire_version TEXT NOT NULL,
  reviewer_id TEXT,
  reviewer_label TEXT,
  first_approver_id TEXT,
  first_approver_label TEXT,
  score TEXT,
  risk_tier TEXT CHECK (risk_tier IS NULL OR risk_tier IN ('low', 'medium', 'high')),
  policy_version TEXT,
  conditions TEXT,
  register_check TEXT,
  auto_approval TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  submitted_at TEXT,
  decided_at TEXT
);
CREATE INDEX applications_applicant ON applications (applicant_id, created_at);
CREATE INDEX applications_queue ON applications (state, submitted_at);

-- Only the DER certificate (and its chain) is kept: never the uploaded file, never a private key.
CREATE TABLE application_certificates (
  id TEXT PRIMARY KEY,
  application_id TEXT NOT NULL REFERENCES applications (id),
  kind TEXT NOT NULL CHECK (kind IN ('qwac', 'qseal')),
  der BLOB NOT NULL,
  chain TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  report TEXT NOT NULL,
  verdict TEXT NOT NULL CHECK (verdict IN ('pass', 'fail')),
  is_current INTEGER NOT NULL CHECK (is_current IN (0, 1)),
  uploaded_at TEXT NOT NULL,
  uploaded_by TEXT NOT NULL
);
CREATE UNIQUE INDEX application_certificates_current ON application_certificates (application_id, kind) WHERE is_current = 1;

CREATE TABLE application_answers (
  application_id TEXT NOT NULL REFERENCES applications (id),
  question_id TEXT NOT NULL,
  value TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (application_id, question_id)
);

-- stored_name is a random id: the uploaded name is display text only and never part of a path.
CREATE TABLE evidence (
  id TEXT PRIMARY KEY,
  application_id TEXT NOT NULL REFERENCES applications (id),
  question_id TEXT NOT NULL,
  stored_name TEXT NOT NULL UNIQUE,
  file_name TEXT NOT NULL,
  media_type TEXT NOT NULL,
  size INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  uploaded_at TEXT NOT NULL,
  verified_at TEXT,
  verified_by TEXT
);
CREATE INDEX evidence_application ON evidence (application_id, question_id);

-- The timeline: one row per state change.
CREATE TABLE application_transitions (
  id TEXT PRIMARY KEY,
  application_id TEXT NOT NULL REFERENCES applications (id),
  seq INTEGER NOT NULL,
  from_state TEXT,
  to_state TEXT NOT NULL,
  event TEXT NOT NULL,
  actor_type TEXT NOT NULL,
  actor_id TEXT,
  actor_label TEXT NOT NULL,
  holder TEXT NOT NULL CHECK (holder IN ('bank', 'applicant', 'none')),
  reason_code TEXT,
  text TEXT,
  at TEXT NOT NULL,
  UNIQUE (application_id, seq)
);

CREATE TABLE change_items (
  id TEXT PRIMARY KEY,
  application_id TEXT NOT NULL REFERENCES applications (id),
  transition_id TEXT NOT NULL REFERENCES application_transitions (id),
  seq INTEGER NOT NULL,
  target_type TEXT NOT NULL CHECK (target_type IN ('question', 'certificate', 'profile', 'evidence')),
  target_id TEXT NOT NULL,
  message TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('open', 'answered')),
  response TEXT,
  responded_at TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX change_items_application ON change_items (application_id, created_at, seq);

CREATE TABLE partners (
  id TEXT PRIMARY KEY,
  application_id TEXT NOT NULL UNIQUE REFERENCES applications (id),
  applicant_id TEXT NOT NULL,
  legal_name TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('active', 'suspended')),
  allowed_roles TEXT NOT NULL,
  status_reason_code TEXT,
  status_reason TEXT,
  organization_identifier TEXT,
  qwac_sha256 TEXT,
  qseal_sha256 TEXT,
  approved_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX partners_applicant ON partners (applicant_id);

CREATE TABLE decisions (
  id TEXT PRIMARY KEY,
  application_id TEXT NOT NULL REFERENCES applications (id),
  partner_id TEXT REFERENCES partners (id),
  kind TEXT NOT NULL CHECK (kind IN ('auto_approve', 'request_changes', 'approve', 'approve_with_conditions',
    'second_approval', 'reject', 'suspend', 'reinstate')),
  actor_type TEXT NOT NULL,
  actor_id TEXT,
  actor_label TEXT NOT NULL,
  at TEXT NOT NULL,
  policy_version TEXT NOT NULL,
  risk_tier TEXT,
  reason_code TEXT,
  text TEXT,
  conditions TEXT
);
CREATE INDEX decisions_application ON decisions (application_id, at);
