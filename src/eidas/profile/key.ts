/**
 * Key and signature strength (ETSI TS 119 312 §6).
 */
import type { ProfileCheck } from './context.js';
import { report } from './context.js';

const MIN_RSA_BITS = 2048;

/**
 * Curves accepted for EC keys: the NIST curves and the Brainpool r1 curves, both listed by ETSI TS 119 312
 * (German QTSPs issue Brainpool keys); anything else, including explicit curve parameters, is refused.
 */
const ACCEPTED_CURVES: Record<string, string> = {
  '1.2.840.10045.3.1.7': 'P-256',
  '1.3.132.0.34': 'P-384',
  '1.3.132.0.35': 'P-521',
  '1.3.36.3.3.2.8.1.1.7': 'brainpoolP256r1',
  '1.3.36.3.3.2.8.1.1.11': 'brainpoolP384r1',
  '1.3.36.3.3.2.8.1.1.13': 'brainpoolP512r1',
};

export const keyStrength: ProfileCheck = (cert, ctx) => {
  const key = cert.publicKey;
  const weak = (detail: string) => [report(ctx, 'key.weak', detail)];
  if (key.error !== null) return weak(`The public key cannot be read (${key.error}).`);
  switch (key.algorithm) {
    case 'RSA':
    case 'RSA-PSS': {
      const issues: string[] = [];
      if (key.bits === null || key.bits < MIN_RSA_BITS) issues.push(`the RSA key is ${key.bits ?? 'of unknown'} bits (at least ${MIN_RSA_BITS} needed)`);
      const e = key.exponent;
      // An exponent of 1 encrypts nothing; an even exponent is not invertible (RFC 8017 §3.1).
      if (e === null || e <= 1n || e % 2n === 0n) issues.push(`the RSA public exponent ${e ?? '?'} is not an odd number greater than 1`);
      return issues.length > 0 ? weak(`The public key is too weak: ${issues.join('; ')}.`) : [];
    }
    case 'EC':
      if (key.curve === null) return weak('The EC key uses explicit curve parameters instead of a named curve.');
      return ACCEPTED_CURVES[key.curve]
        ? []
        : weak(`The EC key uses the curve ${key.curve}, which is not accepted (P-256, P-384, P-521 or Brainpool r1).`);
    case 'Ed25519':
    case 'Ed448':
      return [];
    case 'DSA':
      return weak('The key is a DSA key; DSA is no longer accepted for qualified certificates.');
    default:
      return weak(`The public key algorithm ${key.oid} is not supported.`);
  }
};

const WEAK_HASHES = new Set(['MD2', 'MD4', 'MD5', 'SHA-1']);

export const signatureAlgorithm: ProfileCheck = (cert, ctx) => {
  const sig = cert.signatureAlgorithm;
  if (sig.hash === null || !WEAK_HASHES.has(sig.hash)) return [];
  return [report(ctx, 'signature.weak-algorithm', `The certificate is signed with ${sig.name} (${sig.hash}).`)];
};
