/**
 * The evidence key: an ES256 (P-256) key that signs evidence packs' manifests and nothing else, so that a
 * verifier who pins it (published at GET /evidence/jwks.json) knows a pack came from this bank's portal.
 *
 * Generated on first use into `DATA_DIR/evidence/keys.json` (directory 0700, file 0600; never in git), kid =
 * RFC 7638 thumbprint. The file holds a list, newest first, like the directory's keys: a rotation (`npm run
 * keys:rotate -- evidence`, then a restart) puts a new key in front and keeps the old ones published, so that packs already handed to auditors keep
 * verifying against the published set. A damaged file is an error, never silently replaced.
 */
import path from 'node:path';
import { generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { type z } from 'zod';
import { ecP256Jwk, loadOrCreateJwks, publicMembers, rotateJwks, type StoredJwk } from '../store/key-file.js';

export const EVIDENCE_ALG = 'ES256';
const DIR = 'evidence';
const FILE = 'keys.json';

const storedJwk = ecP256Jwk(EVIDENCE_ALG);
type StoredEvidenceJwk = z.infer<typeof storedJwk>;

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

export function publicEvidenceJwk(jwk: StoredEvidenceJwk): JWK {
  return publicMembers(jwk, ['kty', 'crv', 'x', 'y', 'kid', 'alg', 'use']);
}

function keySpec(opts: { dataDir: string; now?: () => Date }) {
  return {
    dataDir: opts.dataDir,
    dir: DIR,
    name: FILE,
    alg: EVIDENCE_ALG,
    jwk: storedJwk,
    generate: async () => (await generateKeyPair(EVIDENCE_ALG, { extractable: true })).privateKey,
    now: opts.now ?? (() => new Date()),
    whenDamaged:
      'restore it from a backup. Deleting it makes a new evidence key, and packs signed so far no longer verify against the published key set.',
  };
}

/** `npm run keys:rotate -- evidence`: a new key signs packs from the next start; packs signed before still verify. */
export function rotateEvidenceKeys(opts: { dataDir: string; now?: () => Date }) {
  return rotateJwks(keySpec(opts));
}

/** The evidence key store over `DATA_DIR/evidence/keys.json`. Nothing is read or written before first use. */
export function createEvidenceKeys(opts: { dataDir: string; now?: () => Date }): EvidenceKeys {
  const now = opts.now ?? (() => new Date());
  const file = path.join(opts.dataDir, DIR, FILE);
  let loaded: Promise<{ keys: StoredJwk<StoredEvidenceJwk>[]; signer: EvidenceSigner }> | null = null;

  async function load(): Promise<{ keys: StoredJwk<StoredEvidenceJwk>[]; signer: EvidenceSigner }> {
    const { keys, signingKey } = await loadOrCreateJwks(keySpec({ dataDir: opts.dataDir, now }));
    const newest = keys[0]!;
    return { keys, signer: { kid: newest.jwk.kid, publicJwk: publicEvidenceJwk(newest.jwk), key: signingKey } };
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
      const { keys } = await ready();
      return { keys: keys.map((k) => publicEvidenceJwk(k.jwk)) };
    },
    async signer() {
      return (await ready()).signer;
    },
  };
}
