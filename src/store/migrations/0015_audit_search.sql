-- Audit search for staff (src/audit/search.ts) and evidence packs (src/evidence): the log is searched by time,
-- by an actor's e-mail or name (actor_label), and by the partner an event's data names (monitor alerts,
-- statements issued). Subject, actor id and action already have indexes (0002_audit.sql). Indexes only: the
-- table stays append-only and its hash chain is untouched.
CREATE INDEX audit_events_at ON audit_events (at, seq);
CREATE INDEX audit_events_actor_label ON audit_events (actor_label, seq);
-- Partial on json_valid: json_extract raises on malformed JSON, and an index must never make an append fail.
CREATE INDEX audit_events_data_partner ON audit_events (json_extract(data, '$.partnerId'), seq) WHERE json_valid(data);
