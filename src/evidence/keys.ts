/**
 * The evidence key: an ES256 (P-256) key that signs evidence packs' manifests and nothing else, so that a
 * verifier who pins it (published at GET /evidence/jwks.json) knows a pack came from this bank's portal.
 *
 * Generated on first use into `DATA_DIR/evidence/keys.json` (directory 0700, file 0600; never in git), kid =
 * RFC 7638 thumbprint. The file holds a list, newest first, like the directory's keys: a future rotation puts
 * a new key in front and keeps the old ones published, so that packs already handed to auditors keep
 * verifying against the published set. A damaged file is an error, never silently replaced.
 */
import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import { z } from 'zod';

export const EVIDENCE_ALG = 'ES256';
const DIR = 'evidence';
const FILE = 'keys.json';

const b64url = z.string().min(1).regex(/^[A-Za-z0-9_-]+$/);
const storedKey = z.object({
  jwk: z.object({
    kty: z.literal('EC'),
    crv: z.literal('P-256'),
    kid: b64url,
    alg: z.literal(EVIDENCE_ALG),
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

export interface EvidenceSigner {
  kid: string;
  /** Public members only (kty, crv, x, y, kid, alg, use). */
  publicJwk: JWK;
  key: CryptoKey;
}

export interface EvidenceKeys {
  /** `DATA_DIR/evidence/keys.json`. */
  file: string;
  /** The published set, newest first; creates the first key when there is none yet. */
  publicJwks(): Promise<{ keys: JWK[] }>;
  /** The key that signs now (the newest); creates it when there is none yet. */
  signer(): Promise<EvidenceSigner>;
}

export function publicEvidenceJwk(jwk: StoredKey['jwk']): JWK {
  return { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, kid: jwk.kid, alg: jwk.alg, use: jwk.use };
}

async function newKey(now: Date): Promise<StoredKey> {
  const { privateKey } = await generateKeyPair(EVIDENCE_ALG, { extractable: true });
  const jwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(jwk);
  return { jwk: storedKey.shape.jwk.parse({ ...jwk, kid, alg: EVIDENCE_ALG, use: 'sig' }), createdAt: now.toISOString() };
}

function damaged(file: string, why: string): Error {
  return new Error(
    `${file} is damaged (${why}): restore it from a backup. Deleting it makes a new evidence key, and packs signed so far no longer verify against the published key set.`,
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
      await importJWK(k.jwk, EVIDENCE_ALG);
      thumbprint = await calculateJwkThumbprint(k.jwk);
    } catch (e) {
      throw damaged(file, `key ${k.jwk.kid} does not load: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (thumbprint !== k.jwk.kid) throw damaged(file, `key ${k.jwk.kid} does not match its thumbprint`);
  }
  return parsed.data;
}

/** Creates the file only if nobody else has (two processes at once: one key wins, both use it). */
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

/** The evidence key store over `DATA_DIR/evidence/keys.json`. Nothing is read or written before first use. */
export function createEvidenceKeys(opts: { dataDir: string; now?: () => Date }): EvidenceKeys {
  const now = opts.now ?? (() => new Date());
  const dir = path.join(opts.dataDir, DIR);
  const file = path.join(dir, FILE);
  let loaded: Promise<{ data: Stored; signer: EvidenceSigner }> | null = null;

  async function load(): Promise<{ data: Stored; signer: EvidenceSigner }> {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
    let data: Stored | null = null;
    if (!existsSync(file)) {
      const fresh: Stored = { version: 1, keys: [await newKey(now())] };
      if (createExclusive(file, fresh)) data = fresh;
    }
    data ??= await read(file);
    const newest = data.keys[0]!;
    const key = (await importJWK(newest.jwk, EVIDENCE_ALG)) as CryptoKey;
    return { data, signer: { kid: newest.jwk.kid, publicJwk: publicEvidenceJwk(newest.jwk), key } };
  }

  function ready() {
    // A failed load is not remembered: the next use reports the same problem instead of a stale one.
    loaded ??= load().catch((e: unknown) => {
      loaded = null;
      throw e;
    });
    return loaded;
  }

  return {
    file,
    async publicJwks() {
      const { data } = await ready();
      return { keys: data.keys.map((k) => publicEvidenceJwk(k.jwk)) };
    },
    async signer() {
      return (await ready()).signer;
    },
  };
}
