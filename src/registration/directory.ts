/**
 * The portal's software directory: the key that signs software statements, and the public keys that verify
 * them (published at GET /directory/jwks.json, read by the registration checks).
 *
 * Keys are PS256 RSA 2048, generated on first start into `DATA_DIR/directory/keys.json` (directory 0700,
 * file 0600; never in git), kid = RFC 7638 thumbprint. The file holds a list, newest first: a future rotation
 * puts a new key in front (it signs) and keeps the old ones published until their statements are too old to
 * register (SSA_MAX_AGE_DAYS). A damaged file stops start-up: replacing it silently would invalidate every
 * statement partners hold.
 */
import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, SignJWT, type CryptoKey, type JWK } from 'jose';
import { z } from 'zod';

/** The `iss` of every statement this portal signs (a constant name, not a URL: it must survive a host move). */
export const DIRECTORY_ISSUER = 'urn:open-banking-portal:directory';
export const DIRECTORY_ALG = 'PS256';
const DIR = 'directory';
const FILE = 'keys.json';

export interface Directory {
  issuer: string;
  /** Public members only, newest first. */
  publicJwks(): { keys: JWK[] };
  /** Signs `claims` as a JWT (typ JWT, alg PS256) with the newest key. */
  sign(claims: Record<string, unknown>): Promise<string>;
  /** kid of the key that signs now. */
  signingKid(): string;
}

const b64url = z.string().min(1).regex(/^[A-Za-z0-9_-]+$/);
const storedKey = z.object({
  jwk: z.object({
    kty: z.literal('RSA'),
    kid: b64url,
    alg: z.literal(DIRECTORY_ALG),
    use: z.literal('sig'),
    n: b64url,
    e: b64url,
    d: b64url,
    p: b64url,
    q: b64url,
    dp: b64url,
    dq: b64url,
    qi: b64url,
  }),
  createdAt: z.iso.datetime(),
});
const stored = z.object({ version: z.literal(1), keys: z.array(storedKey).min(1).max(20) });
type Stored = z.infer<typeof stored>;
type StoredKey = Stored['keys'][number];

const PUBLIC_MEMBERS = ['kty', 'kid', 'alg', 'use', 'n', 'e'] as const;

function publicPart(jwk: StoredKey['jwk']): JWK {
  const out: Record<string, string> = {};
  for (const m of PUBLIC_MEMBERS) out[m] = jwk[m];
  return out as JWK;
}

async function newKey(now: Date): Promise<StoredKey> {
  const { privateKey } = await generateKeyPair(DIRECTORY_ALG, { modulusLength: 2048, extractable: true });
  const jwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(jwk);
  return { jwk: storedKey.shape.jwk.parse({ ...jwk, kid, alg: DIRECTORY_ALG, use: 'sig' }), createdAt: now.toISOString() };
}

function damaged(file: string, why: string): Error {
  return new Error(
    `${file} is damaged (${why}): restore it from a backup. Deleting it generates a new directory key, and every software statement issued so far stops verifying.`,
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
  // The kid is the thumbprint and the key must load: anything else means the file was edited or cut.
  for (const k of parsed.data.keys) {
    let thumbprint: string;
    try {
      await importJWK(k.jwk, DIRECTORY_ALG);
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

/** The directory over `DATA_DIR/directory/keys.json`, creating the first key when there is no file. */
export async function createDirectory(opts: { dataDir: string; issuer: string; now?: () => Date }): Promise<Directory> {
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
  const signingKey = (await importJWK(newest.jwk, DIRECTORY_ALG)) as CryptoKey;
  const published = data.keys.map((k) => publicPart(k.jwk));

  return {
    issuer: opts.issuer,
    publicJwks: () => ({ keys: published.map((k) => ({ ...k })) }),
    signingKid: () => newest.jwk.kid,
    sign(claims) {
      return new SignJWT(claims).setProtectedHeader({ alg: DIRECTORY_ALG, kid: newest.jwk.kid, typ: 'JWT' }).sign(signingKey);
    },
  };
}
