-- Instance metadata: one row per key. The instance id names this deployment in logs and audit exports.
CREATE TABLE instance_meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
INSERT INTO instance_meta (key, value) VALUES ('instance_id', lower(hex(randomblob(16))));
INSERT INTO instance_meta (key, value) VALUES ('created_at', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
