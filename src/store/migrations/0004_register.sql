-- The register mirror (src/register): the EBA PSD2 register as of the last import, plus the history of
-- imports. An import deletes every entity and inserts the new ones in one transaction, so the entities
-- always belong to one snapshot: the last one recorded here.
CREATE TABLE register_snapshots (
  id TEXT PRIMARY KEY,
  imported_at TEXT NOT NULL,
  source TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  entity_count INTEGER NOT NULL,
  skipped_count INTEGER NOT NULL,
  -- JSON {type, id, label}: who ran the import.
  actor TEXT NOT NULL
);

CREATE TABLE register_entities (
  entity_code TEXT PRIMARY KEY,
  snapshot_id TEXT NOT NULL REFERENCES register_snapshots (id),
  ca_owner_id TEXT NOT NULL,
  national_ref TEXT NOT NULL,
  entity_type TEXT NOT NULL,
  -- JSON array: ENT_NAM values, then ENT_NAM_COM values.
  names TEXT NOT NULL,
  country TEXT,
  -- JSON array of ENT_AUT dates (YYYY-MM-DD), sorted; status is derived from it by the parity rule.
  aut_dates TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('authorised', 'withdrawn', 'not_applicable', 'unknown')),
  -- JSON object: country -> service codes.
  services TEXT NOT NULL,
  parent_code TEXT,
  parent_status TEXT CHECK (parent_status IN ('Active', 'Inactive')),
  -- JSON object: every property of the record.
  properties TEXT NOT NULL
);
CREATE INDEX register_entities_nca_ref ON register_entities (ca_owner_id, national_ref);
