-- Replay guard for signed registration requests (src/registration/jti.ts): each (issuer, jti) of an
-- accepted-so-far request is kept until the request's own exp, after which the request could not be
-- replayed anyway (it is expired), so the row can go.
CREATE TABLE registration_jtis (
  issuer TEXT NOT NULL,
  jti TEXT NOT NULL,
  -- Epoch milliseconds: the request's exp.
  expires_at INTEGER NOT NULL,
  used_at TEXT NOT NULL,
  PRIMARY KEY (issuer, jti)
);
CREATE INDEX registration_jtis_expires ON registration_jtis (expires_at);
