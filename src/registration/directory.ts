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
import { generateKeyPair, SignJWT, type JWK } from 'jose';
import { loadOrCreateJwks, publicMembers, rotateJwks, rsaJwk } from '../store/key-file.js';

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

const storedJwk = rsaJwk(DIRECTORY_ALG);

const PUBLIC_MEMBERS = ['kty', 'kid', 'alg', 'use', 'n', 'e'] as const;

function keySpec(opts: { dataDir: string; now?: () => Date }) {
  return {
    dataDir: opts.dataDir,
    dir: DIR,
    name: FILE,
    alg: DIRECTORY_ALG,
    jwk: storedJwk,
    generate: async () => (await generateKeyPair(DIRECTORY_ALG, { modulusLength: 2048, extractable: true })).privateKey,
    now: opts.now ?? (() => new Date()),
    whenDamaged: 'restore it from a backup. Deleting it generates a new directory key, and every software statement issued so far stops verifying.',
  };
}

/** `npm run keys:rotate -- directory`: a new key signs statements from the next start; earlier statements still verify. */
export function rotateDirectoryKeys(opts: { dataDir: string; now?: () => Date }) {
  return rotateJwks(keySpec(opts));
}

/** The directory over `DATA_DIR/directory/keys.json`, creating the first key when there is no file. */
export async function createDirectory(opts: { dataDir: string; issuer: string; now?: () => Date }): Promise<Directory> {
  const { keys, signingKey } = await loadOrCreateJwks(keySpec(opts));
  const newest = keys[0]!;
  const published: JWK[] = keys.map((k) => publicMembers(k.jwk, PUBLIC_MEMBERS));

  return {
    issuer: opts.issuer,
    publicJwks: () => ({ keys: published.map((k) => ({ ...k })) }),
    signingKid: () => newest.jwk.kid,
    sign(claims) {
      return new SignJWT(claims).setProtectedHeader({ alg: DIRECTORY_ALG, kid: newest.jwk.kid, typ: 'JWT' }).sign(signingKey);
    },
  };
}
