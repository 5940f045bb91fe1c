-- Registration area, portal side (src/registration/software.ts): the software products an approved partner
-- declares, and a record of every software statement issued for them. Owned by the registration area only;
-- partner_id and application_id point at the partners area by value (areas never join each other's tables).
CREATE TABLE software_products (
  -- The software_id: random, URL-safe, stable.
  id TEXT PRIMARY KEY,
  partner_id TEXT NOT NULL,
  application_id TEXT NOT NULL,
  -- organizationIdentifier of the partner's approved QWAC: the statements' org_id.
  org_id TEXT NOT NULL,
  name TEXT NOT NULL,
  -- JSON arrays.
  redirect_uris TEXT NOT NULL,
  roles TEXT NOT NULL,
  -- Exactly one: an inline JWK Set (JSON, public keys only) or an https jwks_uri.
  jwks TEXT,
  jwks_uri TEXT,
  status TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
  created_at TEXT NOT NULL,
  created_by TEXT NOT NULL,
  revoked_at TEXT,
  revoked_by TEXT,
  CHECK ((jwks IS NULL) <> (jwks_uri IS NULL)),
  CHECK ((status = 'revoked') = (revoked_at IS NOT NULL))
);
CREATE INDEX software_products_partner ON software_products (partner_id, created_at);

-- The statements themselves are not kept (they are the partner's to hold); their jti, signing key and who
-- downloaded them are, so that a statement seen at registration can be traced back.
CREATE TABLE software_statements (
  jti TEXT PRIMARY KEY,
  software_id TEXT NOT NULL REFERENCES software_products (id),
  kid TEXT NOT NULL,
  issued_at TEXT NOT NULL,
  issued_by TEXT NOT NULL
);
CREATE INDEX software_statements_software ON software_statements (software_id, issued_at);
