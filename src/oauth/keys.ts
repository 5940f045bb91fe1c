/**
 * The authorization server's signing keys (ID tokens, JWT access tokens), generated on first start into
 * `DATA_DIR/oauth/keys.json` (directory 0700, file 0600; never in git). Newest first: oidc-provider signs
 * with the first key of an algorithm and publishes all of them at its jwks_uri.
 *
 * Rotation (`npm run keys:rotate`) puts a new key in front and marks the previous one retired; a retired key
 * stays published until every token it signed has expired (`retainSeconds` after retirement), then the next
 * rotation or start drops it. The running portal reads the file at start: restart it after rotating.
 */
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import { z } from 'zod';
import { keyFile, type KeyFile } from '../store/key-file.js';

export const SIGNING_ALG = 'PS256';
const FILE = 'keys.json';

const storedKey = z.object({
  jwk: z.looseObject({ kty: z.literal('RSA'), kid: z.string().min(1), d: z.string().min(1), n: z.string().min(1) }),
  createdAt: z.iso.datetime(),
  retiredAt: z.iso.datetime().nullable(),
});
const stored = z.object({ version: z.literal(1), keys: z.array(storedKey).min(1) });
type Stored = z.infer<typeof stored>;

export interface SigningKeys {
  /** Private JWKs, newest (the signing one) first. */
  keys: JWK[];
  /** Public members only: what jwks_uri publishes and what resource servers verify with. */
  publicJwks: { keys: JWK[] };
  file: string;
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

export function publicJwk(jwk: JWK): JWK {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(jwk)) if (!PRIVATE_MEMBERS.includes(k)) out[k] = v;
  return out as JWK;
}

async function newKey(now: Date): Promise<Stored['keys'][number]> {
  const { privateKey } = await generateKeyPair(SIGNING_ALG, { modulusLength: 2048, extractable: true });
  const jwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(jwk);
  return {
    jwk: { ...jwk, kid, alg: SIGNING_ALG, use: 'sig' } as Stored['keys'][number]['jwk'],
    createdAt: now.toISOString(),
    retiredAt: null,
  };
}

function view(file: string, data: Stored): SigningKeys {
  const keys = data.keys.map((k) => k.jwk as JWK);
  return { keys, publicJwks: { keys: keys.map(publicJwk) }, file };
}

// Only the file layer of the shared helper: these keys carry retiredAt and any RSA members oidc-provider
// accepts, so they are not the strict list the other areas keep.
function signingKeyFile(dataDir: string): KeyFile<Stored> {
  return keyFile({
    dataDir,
    dir: 'oauth',
    name: FILE,
    schema: stored,
    // Never silently replace signing keys: tokens and clients in flight depend on them.
    whenDamaged: 'restore it from a backup, or delete it to start over with a new key',
  });
}

/** Loads the keys, creating the first one when there is no file. */
export async function loadSigningKeys(dataDir: string, opts: { now?: Date } = {}): Promise<SigningKeys> {
  const kf = signingKeyFile(dataDir);
  const data = await kf.loadOrCreate(async () => ({ version: 1, keys: [await newKey(opts.now ?? new Date())] }));
  return view(kf.file, data);
}

export interface RotationResult {
  added: string;
  retired: string[];
  dropped: string[];
  published: string[];
}

/**
 * Adds a new signing key in front, retires the current one, and drops keys retired more than
 * `retainSeconds` ago (the longest lifetime of anything they signed).
 */
export async function rotateSigningKeys(
  dataDir: string,
  opts: { retainSeconds: number; now?: Date },
): Promise<RotationResult> {
  const now = opts.now ?? new Date();
  const kf = signingKeyFile(dataDir);
  const data: Stored = (await kf.read()) ?? { version: 1, keys: [] as unknown as Stored['keys'] };
  const retired: string[] = [];
  for (const k of data.keys) {
    if (k.retiredAt === null) {
      k.retiredAt = now.toISOString();
      retired.push(k.jwk.kid);
    }
  }
  const cutoff = now.getTime() - opts.retainSeconds * 1000;
  const dropped = data.keys.filter((k) => k.retiredAt !== null && Date.parse(k.retiredAt) < cutoff).map((k) => k.jwk.kid);
  const fresh = await newKey(now);
  const next: Stored = {
    version: 1,
    keys: [fresh, ...data.keys.filter((k) => !dropped.includes(k.jwk.kid))] as Stored['keys'],
  };
  kf.write(next);
  return { added: fresh.jwk.kid, retired, dropped, published: next.keys.map((k) => k.jwk.kid) };
}
