/**
 * One typed configuration object, read from the environment once at start-up and validated.
 * Nothing below this module reads process.env. Development gets safe defaults; production refuses to
 * start without its secrets and trust material (no default secrets, no sandbox trust).
 */
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { RevocationPolicy } from './eidas/types.js';

const csv = z
  .string()
  .optional()
  .transform((v) =>
    (v ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );

const port = z.coerce.number().int().min(0).max(65535);
const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

/** Each variable with its documentation; the README's configuration table says the same. */
export const ENV_DOC: Record<string, string> = {
  NODE_ENV: '`development` (default), `test` or `production`. Production requires the secrets and trust settings below.',
  HOST: 'Address the listeners bind to. Default `127.0.0.1` (use `0.0.0.0` to listen on all interfaces).',
  PORT: 'Public HTTPS port (portal pages, health). Default `3443`; `0` picks a free port.',
  MTLS_PORT: 'Mutual-TLS HTTPS port that asks for client certificates. Default `3444`; `0` picks a free port.',
  OPS_HOST: 'Address the ops listener (`/metrics`, `/livez`, `/readyz`) binds to. Default `127.0.0.1`: not reachable from partners’ or customers’ networks unless changed on purpose.',
  OPS_PORT: 'Ops listener HTTPS port. Default `3445`, `0` (a free port) when `NODE_ENV=test`.',
  DATA_DIR: 'Where the SQLite database and uploads live. Default `./data`.',
  CERTS_DIR: 'Dev PKI directory, generated on first start in development. Default `./certs/dev`.',
  TLS_CERT_FILE: 'Server certificate chain (PEM). Default in development: the dev PKI server certificate. Required in production.',
  TLS_KEY_FILE: 'Server private key (PEM). Default in development: the dev PKI server key. Required in production.',
  TRUST_PROFILE: 'Trust profile for certificate chains: `sandbox` (dev PKI trusted list) or `production`. Default `sandbox` in development, `production` otherwise.',
  TRUST_LISTS: 'Comma-separated ETSI TS 119 612 trusted-list XML files for the `production` profile (added to the sandbox list in `sandbox`).',
  TRUST_ANCHORS: 'Comma-separated PEM files or directories of extra trust anchors.',
  TRUST_LOTL: 'EU list of trusted lists (XML) whose announced signers must have signed each TRUST_LISTS file.',
  TRUST_LOTL_SIGNERS: 'PEM file with the LOTL signing certificates published in the Official Journal; without it the LOTL is checked only against the signers it names itself.',
  TRUST_REQUIRE_SIGNED_LISTS: '`true` to refuse unsigned or badly signed trusted lists. Default `false` in development, `true` in production.',
  REVOCATION_POLICY: '`off`, `soft-fail` (unavailable status is a warning) or `hard-fail` (it is an error). Default `soft-fail` in development, `hard-fail` in production.',
  REVOCATION_TIMEOUT_MS: 'Timeout of one OCSP or CRL request, in milliseconds. Default `3000`.',
  REVOCATION_CACHE_MAX_SECONDS:
    'How long an OCSP or CRL answer is reused at most, whatever its nextUpdate: a revocation is seen within this time (plus the 60 s report cache). `0` asks every time. Default `3600`.',
  REVOCATION_ALLOW_PRIVATE_NETWORKS: '`true` lets OCSP/CRL URLs point at loopback or private addresses (the dev responder). Default `true` in development, `false` in production.',
  PKI_RESPONDER_URL: 'Base URL of the dev OCSP/CRL responder written into dev certificates. Default `http://127.0.0.1:8089`.',
  SESSION_SECRET: 'Secret for session cookies, at least 32 characters. Required in production; in development one is generated once and kept in `DATA_DIR/.dev-secrets.json`.',
  DATA_KEY: 'Base64 of 32 random bytes: the key that encrypts TOTP secrets at rest (AES-256-GCM). Required in production; in development generated once into `DATA_DIR/.dev-secrets.json`.',
  DEMO_SEED: '`true` seeds demo staff, a demo applicant and demo partners on an empty database at start (default `true` in development, refused in production).',
  PUBLIC_URL: 'External base URL of the public listener, the OAuth issuer (e.g. `https://bank.example`). Default `https://HOST:PORT` as bound.',
  MTLS_URL: 'External base URL of the mutual-TLS listener, published as `mtls_endpoint_aliases`. Default `https://HOST:MTLS_PORT` as bound.',
  TRUSTED_PROXIES: 'Comma-separated IP addresses or CIDR ranges of TLS-terminating proxies allowed to pass the client certificate in `CLIENT_CERT_HEADER`. Default none: a certificate header is then refused and audited.',
  CLIENT_CERT_HEADER: 'Header a trusted proxy puts the client certificate in. Default `client-cert` (RFC 9440, a byte sequence of the DER); any other name is read as a URL-encoded PEM (nginx `$ssl_client_escaped_cert`).',
  SSA_MAX_AGE_DAYS: 'How old (by `iat`) a software statement may be when presented at registration. Default `365`.',
  ACCESS_TOKEN_TTL: 'Lifetime of access tokens, in seconds. Default `600`.',
  CONSENT_AUTHORISATION_HOURS:
    'How long a consent waits for the customer before it expires, and how long a payment consent lives (authorised and used within it). Default `24`.',
  LOG_LEVEL: 'pino level: `fatal`, `error`, `warn`, `info` (default), `debug`, `trace` or `silent`.',
  MONITOR_INTERVAL_MS: 'How often the lifecycle monitor re-checks certificates and the NCA register, in milliseconds (`0` = off; at least `60000` otherwise). Default 6 hours, `0` when `NODE_ENV=test`.',
  SMTP_URL: 'SMTP server for notification e-mail, e.g. `smtps://user:pass@smtp.example:465`, or `off` for no e-mail (webhooks still go; start-up warns). Required in production. Unset outside production: each message is written as an `.eml` file under `DATA_DIR/mail/`.',
  MAIL_FROM: 'Sender address of notification e-mail. Default `Partner portal <no-reply@portal.invalid>`.',
  NOTIFY_INTERVAL_MS: 'How often the notification worker delivers due e-mail and webhooks, in milliseconds (`0` = off; at least `1000` otherwise). Default `15000`, `0` when `NODE_ENV=test`.',
  REGISTER_SOURCE: 'Where the monitor re-reads the EBA PSD2 register: a file path or an `https://` URL. Default the dev register file outside production, none in production (the monitor then diffs the last imported register only).',
};

const schema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: port.default(3443),
  MTLS_PORT: port.default(3444),
  OPS_HOST: z.string().min(1).default('127.0.0.1'),
  OPS_PORT: port.optional(),
  DATA_DIR: z.string().min(1).default('./data'),
  CERTS_DIR: z.string().min(1).default('./certs/dev'),
  TLS_CERT_FILE: z.string().min(1).optional(),
  TLS_KEY_FILE: z.string().min(1).optional(),
  TRUST_PROFILE: z.enum(['sandbox', 'production']).optional(),
  TRUST_LISTS: csv,
  TRUST_ANCHORS: csv,
  TRUST_LOTL: z.string().min(1).optional(),
  TRUST_LOTL_SIGNERS: z.string().min(1).optional(),
  TRUST_REQUIRE_SIGNED_LISTS: bool.optional(),
  REVOCATION_POLICY: z.enum(['off', 'soft-fail', 'hard-fail']).optional(),
  REVOCATION_TIMEOUT_MS: z.coerce.number().int().min(100).max(60000).default(3000),
  REVOCATION_CACHE_MAX_SECONDS: z.coerce.number().int().min(0).max(7 * 86400).default(3600),
  REVOCATION_ALLOW_PRIVATE_NETWORKS: bool.optional(),
  PKI_RESPONDER_URL: z.url({ protocol: /^https?$/ }).default('http://127.0.0.1:8089'),
  SESSION_SECRET: z.string().optional(),
  DATA_KEY: z.string().optional(),
  DEMO_SEED: bool.optional(),
  PUBLIC_URL: z.url({ protocol: /^https$/ }).optional(),
  MTLS_URL: z.url({ protocol: /^https$/ }).optional(),
  TRUSTED_PROXIES: csv,
  CLIENT_CERT_HEADER: z
    .string()
    .regex(/^[A-Za-z0-9-]+$/)
    .default('client-cert')
    .transform((v) => v.toLowerCase()),
  SSA_MAX_AGE_DAYS: z.coerce.number().int().min(1).max(3650).default(365),
  ACCESS_TOKEN_TTL: z.coerce.number().int().min(30).max(86400).default(600),
  CONSENT_AUTHORISATION_HOURS: z.coerce.number().int().min(1).max(720).default(24),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  MONITOR_INTERVAL_MS: z.coerce
    .number()
    .int()
    .refine((v) => v === 0 || (v >= 60_000 && v <= 7 * 86_400_000), 'must be 0 (off) or between 60000 and 604800000')
    .optional(),
  REGISTER_SOURCE: z.string().min(1).max(2000).optional(),
  SMTP_URL: z.union([z.literal('off'), z.url({ protocol: /^smtps?$/ })]).optional(),
  MAIL_FROM: z.string().min(3).max(200).default('Partner portal <no-reply@portal.invalid>'),
  NOTIFY_INTERVAL_MS: z.coerce
    .number()
    .int()
    .refine((v) => v === 0 || (v >= 1000 && v <= 86_400_000), 'must be 0 (off) or between 1000 and 86400000')
    .optional(),
});

/** Every environment variable the configuration reads (a test keeps ENV_DOC and the README in step). */
export const CONFIG_KEYS = Object.keys(schema.shape);

export interface Config {
  env: 'development' | 'test' | 'production';
  host: string;
  port: number;
  mtlsPort: number;
  /** The ops listener (src/ops/server.ts): metrics and probes, on loopback by default. */
  ops: { host: string; port: number };
  dataDir: string;
  certsDir: string;
  tls: { certFile: string; keyFile: string };
  trust: {
    profile: 'sandbox' | 'production';
    trustedLists: string[];
    anchors: string[];
    lotl: string | null;
    lotlSigners: string | null;
    requireSignedLists: boolean;
  };
  /** cacheMaxMs: the longest an OCSP/CRL answer is reused (REVOCATION_CACHE_MAX_SECONDS). */
  revocation: { policy: RevocationPolicy; timeoutMs: number; allowPrivateNetworks: boolean; cacheMaxMs: number };
  pkiResponderUrl: string;
  sessionSecret: string;
  /** True when no SESSION_SECRET was given: development keeps a generated one in DATA_DIR (src/store/dev-secrets.ts). */
  sessionSecretEphemeral: boolean;
  /** 32-byte key for secrets at rest; null when not given (development fills it from DATA_DIR). */
  dataKey: Buffer | null;
  demoSeed: boolean;
  /** External base URLs; null means "as bound" (known after listen). Without a trailing slash. */
  publicUrl: string | null;
  mtlsUrl: string | null;
  /** Client certificate from a TLS-terminating proxy: believed only from these addresses/ranges. */
  proxy: { trusted: string[]; header: string };
  oauth: { ssaMaxAgeDays: number; accessTokenTtl: number };
  /** Consents: the customer's authorisation window (and a payment consent's lifetime), in ms. */
  consent: { authorisationWindowMs: number };
  /** The lifecycle monitor (src/monitor): interval (0 = off) and the register source (absolute path or https URL). */
  monitor: { intervalMs: number; registerSource: string | null };
  /** Notifications (src/notifications): SMTP (null = .eml files under DATA_DIR/mail), sender, worker tick (0 = off). */
  /** `emailOff`: SMTP_URL=off, no e-mail on purpose (smtpUrl is then null). */
  notifications: { smtpUrl: string | null; emailOff: boolean; mailFrom: string; intervalMs: number };
  logLevel: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

function isIpOrCidr(value: string): boolean {
  const [address, bits, extra] = value.split('/');
  if (extra !== undefined || !address) return false;
  const family = isIP(address);
  if (family === 0) return false;
  if (bits === undefined) return true;
  if (!/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}

/** Parses and validates the environment. Throws ConfigError listing every problem at once. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const e = parsed.data;
  const prod = e.NODE_ENV === 'production';
  const problems: string[] = [];
  const abs = (p: string) => path.resolve(cwd, p);

  const certsDir = abs(e.CERTS_DIR);
  if (prod && (!e.TLS_CERT_FILE || !e.TLS_KEY_FILE)) {
    problems.push('TLS_CERT_FILE and TLS_KEY_FILE are required in production (the dev certificate is not used).');
  }
  const trustProfile = e.TRUST_PROFILE ?? (prod ? 'production' : 'sandbox');
  if (prod && trustProfile === 'sandbox') {
    problems.push('TRUST_PROFILE=sandbox trusts the dev PKI and is refused in production.');
  }
  if (trustProfile === 'production' && e.TRUST_LISTS.length === 0 && e.TRUST_ANCHORS.length === 0) {
    problems.push('TRUST_PROFILE=production needs TRUST_LISTS and/or TRUST_ANCHORS.');
  }
  let sessionSecret = e.SESSION_SECRET ?? '';
  let sessionSecretEphemeral = false;
  if (sessionSecret && sessionSecret.length < 32) {
    problems.push('SESSION_SECRET must be at least 32 characters.');
  } else if (!sessionSecret) {
    if (prod) problems.push('SESSION_SECRET is required in production.');
    sessionSecret = randomBytes(32).toString('base64url');
    sessionSecretEphemeral = true;
  }
  if (e.TRUST_LOTL_SIGNERS && !e.TRUST_LOTL) problems.push('TRUST_LOTL_SIGNERS needs TRUST_LOTL.');
  if (prod && !e.SMTP_URL) {
    // Expiry, suspension and application notices go to partners by e-mail: losing them silently is not an option.
    problems.push('SMTP_URL is required in production (partners are e-mailed expiry, suspension and application notices); set SMTP_URL=off to run without e-mail on purpose.');
  }
  let dataKey: Buffer | null = null;
  if (e.DATA_KEY) {
    dataKey = Buffer.from(e.DATA_KEY, 'base64');
    if (dataKey.length !== 32 || !/^[A-Za-z0-9+/]+={0,2}$/.test(e.DATA_KEY)) {
      problems.push('DATA_KEY must be the base64 encoding of exactly 32 bytes (e.g. `openssl rand -base64 32`).');
    }
  } else if (prod) {
    problems.push('DATA_KEY is required in production (`openssl rand -base64 32`).');
  }
  for (const entry of e.TRUSTED_PROXIES) {
    if (!isIpOrCidr(entry)) problems.push(`TRUSTED_PROXIES: "${entry}" is not an IP address or CIDR range.`);
  }
  const registerSource = e.REGISTER_SOURCE?.trim() || null;
  const sourceIsUrl = registerSource !== null && /^[a-z][a-z0-9+.-]*:\/\//i.test(registerSource);
  if (sourceIsUrl && !/^https:\/\/[^/\s]+/i.test(registerSource)) {
    problems.push('REGISTER_SOURCE must be a file path or an https:// URL.');
  }
  if (prod && e.DEMO_SEED) problems.push('DEMO_SEED is refused in production (it creates accounts with printed credentials).');
  if (problems.length) throw new ConfigError(problems);

  return {
    env: e.NODE_ENV,
    host: e.HOST,
    port: e.PORT,
    mtlsPort: e.MTLS_PORT,
    ops: { host: e.OPS_HOST, port: e.OPS_PORT ?? (e.NODE_ENV === 'test' ? 0 : 3445) },
    dataDir: abs(e.DATA_DIR),
    certsDir,
    tls: {
      certFile: abs(e.TLS_CERT_FILE ?? path.join(e.CERTS_DIR, 'server/chain.pem')),
      keyFile: abs(e.TLS_KEY_FILE ?? path.join(e.CERTS_DIR, 'server/server.key')),
    },
    trust: {
      profile: trustProfile,
      trustedLists: e.TRUST_LISTS.map(abs),
      anchors: e.TRUST_ANCHORS.map(abs),
      lotl: e.TRUST_LOTL ? abs(e.TRUST_LOTL) : null,
      lotlSigners: e.TRUST_LOTL_SIGNERS ? abs(e.TRUST_LOTL_SIGNERS) : null,
      requireSignedLists: e.TRUST_REQUIRE_SIGNED_LISTS ?? prod,
    },
    revocation: {
      policy: e.REVOCATION_POLICY ?? (prod ? 'hard-fail' : 'soft-fail'),
      timeoutMs: e.REVOCATION_TIMEOUT_MS,
      allowPrivateNetworks: e.REVOCATION_ALLOW_PRIVATE_NETWORKS ?? !prod,
      cacheMaxMs: e.REVOCATION_CACHE_MAX_SECONDS * 1000,
    },
    pkiResponderUrl: e.PKI_RESPONDER_URL,
    sessionSecret,
    sessionSecretEphemeral,
    dataKey,
    demoSeed: e.DEMO_SEED ?? e.NODE_ENV === 'development',
    publicUrl: e.PUBLIC_URL ? e.PUBLIC_URL.replace(/\/+$/, '') : null,
    mtlsUrl: e.MTLS_URL ? e.MTLS_URL.replace(/\/+$/, '') : null,
    proxy: { trusted: e.TRUSTED_PROXIES, header: e.CLIENT_CERT_HEADER },
    oauth: { ssaMaxAgeDays: e.SSA_MAX_AGE_DAYS, accessTokenTtl: e.ACCESS_TOKEN_TTL },
    consent: { authorisationWindowMs: e.CONSENT_AUTHORISATION_HOURS * 3_600_000 },
    monitor: {
      intervalMs: e.MONITOR_INTERVAL_MS ?? (e.NODE_ENV === 'test' ? 0 : 6 * 3_600_000),
      registerSource: registerSource
        ? sourceIsUrl
          ? registerSource
          : abs(registerSource)
        : prod
          ? null
          : path.join(path.dirname(fileURLToPath(import.meta.url)), 'register', 'data', 'dev-eba-register.json'),
    },
    notifications: {
      smtpUrl: e.SMTP_URL && e.SMTP_URL !== 'off' ? e.SMTP_URL : null,
      emailOff: e.SMTP_URL === 'off',
      mailFrom: e.MAIL_FROM,
      intervalMs: e.NOTIFY_INTERVAL_MS ?? (e.NODE_ENV === 'test' ? 0 : 15_000),
    },
    logLevel: e.LOG_LEVEL,
  };
}
