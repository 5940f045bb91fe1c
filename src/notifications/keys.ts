/**
 * The key that signs webhooks: a dedicated P-256 key (ES256), not the directory's or the OAuth server's, so
 * that it can be rotated, or leak, without touching software statements or tokens.
 *
 * Generated on first start into `DATA_DIR/notifications/webhook-keys.json` (directory 0700, file 0600;
 * never in git), kid = RFC 7638 thumbprint. The file holds a list, newest first: a rotation puts a new key in
 * front (it signs) and keeps the old ones published at /notifications/jwks.json while receivers may still
 * verify retries signed with them. A damaged file stops start-up rather than silently replacing the key.
 *
 * Signatures are compact JWS with a detached payload (RFC 7515 appendix F): `header..signature`, over the
 * exact body bytes (b64 stays true, so any JOSE library verifies it once the payload is put back).
 */
import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { calculateJwkThumbprint, CompactSign, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import { z } from 'zod';
import { WEBHOOK_SIGNATURE_TYP } from './verify.js';

export const WEBHOOK_ALG = 'ES256';
const DIR = 'notifications';
const FILE = 'webhook-keys.json';

export interface WebhookKeys {
  /** Public members only, newest first. */
  publicJwks(): { keys: JWK[] };
  /** kid of the key that signs now. */
  signingKid(): string;
  /** `header..signature` over `body`; the protected header carries alg, kid, typ and `iat` (seconds). */
  sign(body: Uint8Array, at: Date): Promise<string>;
}

const b64url = z.string().min(1).regex(/^[A-Za-z0-9_-]+$/);
const storedKey = z.object({
  jwk: z.object({
    kty: z.literal('EC'),
    crv: z.literal('P-256'),
    kid: b64url,
    alg: z.literal(WEBHOOK_ALG),
    use: z.literal('sig'),
    x: b64url,
    y: b64url,
    d: b64url,
  }),
  createdAt: z.iso.datetime(),
});
const stored = z.object({ version: z.literal(1), keys: z.array(storedKey).min(1).max(20) });
type Stored = z.infer<typeof stored>;
type StoredKey = Stored['keys'][number];

const PUBLIC_MEMBERS = ['kty', 'crv', 'kid', 'alg', 'use', 'x', 'y'] as const;

function publicPart(jwk: StoredKey['jwk']): JWK {
  const out: Record<string, string> = {};
  for (const m of PUBLIC_MEMBERS) out[m] = jwk[m];
  return out as JWK;
}

async function newKey(now: Date): Promise<StoredKey> {
  const { privateKey } = await generateKeyPair(WEBHOOK_ALG, { extractable: true });
  const jwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(jwk);
  return { jwk: storedKey.shape.jwk.parse({ ...jwk, kid, alg: WEBHOOK_ALG, use: 'sig' }), createdAt: now.toISOString() };
}

function damaged(file: string, why: string): Error {
  return new Error(
    `${file} is damaged (${why}): restore it from a backup. Deleting it generates a new webhook key; partners that cached /notifications/jwks.json then need to fetch it again.`,
  );
}

async function read(file: string): Promise<Stored> {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw damaged(file, e instanceof SyntaxError ? 'not JSON' : String(e));
  }
  const parsed = stored.safeParse(json);
  if (!parsed.success) throw damaged(file, parsed.error.issues.map((i) => `${i.path.join('.') || 'file'}: ${i.message}`).join('; '));
  for (const k of parsed.data.keys) {
    let thumbprint: string;
    try {
      await importJWK(k.jwk, WEBHOOK_ALG);
      thumbprint = await calculateJwkThumbprint(k.jwk);
    } catch (e) {
      throw damaged(file, `key ${k.jwk.kid} does not load: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (thumbprint !== k.jwk.kid) throw damaged(file, `key ${k.jwk.kid} does not match its thumbprint`);
  }
  return parsed.data;
}

/** Creates the file only if nobody else has: written to a temporary name, then hard-linked (fails if it exists). */
function createExclusive(file: string, data: Stored): boolean {
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(data, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(tmp, 0o600);
  try {
    linkSync(tmp, file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    unlinkSync(tmp);
  }
}

/** The webhook keys over `DATA_DIR/notifications/webhook-keys.json`, creating the first key when there is no file. */
export async function createWebhookKeys(opts: { dataDir: string; now?: () => Date }): Promise<WebhookKeys> {
  const now = opts.now ?? (() => new Date());
  const dir = path.join(opts.dataDir, DIR);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const file = path.join(dir, FILE);
  let data: Stored | null = null;
  if (!existsSync(file)) {
    const fresh: Stored = { version: 1, keys: [await newKey(now())] };
    if (createExclusive(file, fresh)) data = fresh;
  }
  data ??= await read(file);

  const newest = data.keys[0]!;
  const signingKey = (await importJWK(newest.jwk, WEBHOOK_ALG)) as CryptoKey;
  const published = data.keys.map((k) => publicPart(k.jwk));

  return {
    publicJwks: () => ({ keys: published.map((k) => ({ ...k })) }),
    signingKid: () => newest.jwk.kid,
    async sign(body, at) {
      const jws = await new CompactSign(body)
        .setProtectedHeader({ alg: WEBHOOK_ALG, kid: newest.jwk.kid, typ: WEBHOOK_SIGNATURE_TYP, iat: Math.floor(at.getTime() / 1000) })
        .sign(signingKey);
      const [header, , signature] = jws.split('.');
      return `${header}..${signature}`;
    },
  };
}
