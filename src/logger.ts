/**
 * Structured logs with pino. Secrets never reach a log line: the redact list covers the fields where a
 * token, password, key or session could appear, whatever the caller passes.
 */
import { pino, type Logger } from 'pino';

export const REDACT_PATHS = [
  'password',
  '*.password',
  'passphrase',
  '*.passphrase',
  'token',
  '*.token',
  'access_token',
  '*.access_token',
  'refresh_token',
  '*.refresh_token',
  'client_secret',
  '*.client_secret',
  'privateKey',
  '*.privateKey',
  'key',
  '*.key',
  'secret',
  '*.secret',
  'sessionSecret',
  '*.sessionSecret',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["client-cert"]',
  'res.headers["set-cookie"]',
];

export type { Logger };

export function createLogger(opts: { level: string; destination?: pino.DestinationStream }): Logger {
  return pino(
    {
      level: opts.level,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: { service: 'partner-portal' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    opts.destination,
  );
}
