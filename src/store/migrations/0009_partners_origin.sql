-- Partners area: where an application came from, and the look-up of a partner by organisation.
-- origin: 'portal' (an applicant applied) or 'registration_fast_lane' (a TPP registered a client with a
-- valid QWAC of an authorised organisation and the portal created the application by policy).
-- fast_lane: JSON of what the fast lane read from the QWAC (FastLaneFacts); NULL for portal applications.
ALTER TABLE applications ADD COLUMN origin TEXT NOT NULL DEFAULT 'portal'
  CHECK (origin IN ('portal', 'registration_fast_lane'));
ALTER TABLE applications ADD COLUMN fast_lane TEXT;

-- partnerForOrganization: exact organizationIdentifier, most recently approved first.
CREATE INDEX partners_organization ON partners (organization_identifier, approved_at);
