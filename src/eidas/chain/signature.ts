/**
 * Signature verification of certificates and CRLs (RFC 5280 §6.1.3 (a)(1), §6.3.3 (g)) with node:crypto.
 * The AlgorithmIdentifier selects the digest and padding; anything not recognised, or a key of the wrong
 * type, fails. The result is a tagged value, never a bare boolean, so a `false` or an exception can not
 * be taken for success by a caller.
 *
 * Why node:crypto rather than pkijs `Certificate.verify()`: measured on a PKITS RSA-2048 link, pkijs
 * needs its own decode (~0.7 ms) and a WebCrypto import per call (~0.4 ms), against ~0.02 ms for
 * `crypto.verify` with a cached KeyObject; node:crypto also verifies DSA, which WebCrypto does not.
 */
import { verify as cryptoVerify, type KeyObject } from 'node:crypto';
import type * as asn1x509 from '@peculiar/asn1-x509';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { Lru } from './lru.js';

export type SigResult = { ok: true } | { ok: false; reason: string };

interface AlgSpec {
  hash: string | null;
  keyTypes: string[];
  pss?: { saltLength: number };
}

const RSA = ['rsa', 'rsa-pss'];
const SIMPLE: Record<string, AlgSpec> = {
  '1.2.840.113549.1.1.4': { hash: 'md5', keyTypes: RSA },
  '1.2.840.113549.1.1.5': { hash: 'sha1', keyTypes: RSA },
  '1.3.14.3.2.29': { hash: 'sha1', keyTypes: RSA },
  '1.2.840.113549.1.1.14': { hash: 'sha224', keyTypes: RSA },
  '1.2.840.113549.1.1.11': { hash: 'sha256', keyTypes: RSA },
  '1.2.840.113549.1.1.12': { hash: 'sha384', keyTypes: RSA },
  '1.2.840.113549.1.1.13': { hash: 'sha512', keyTypes: RSA },
  '1.2.840.10045.4.1': { hash: 'sha1', keyTypes: ['ec'] },
  '1.2.840.10045.4.3.1': { hash: 'sha224', keyTypes: ['ec'] },
  '1.2.840.10045.4.3.2': { hash: 'sha256', keyTypes: ['ec'] },
  '1.2.840.10045.4.3.3': { hash: 'sha384', keyTypes: ['ec'] },
  '1.2.840.10045.4.3.4': { hash: 'sha512', keyTypes: ['ec'] },
  '1.2.840.10040.4.3': { hash: 'sha1', keyTypes: ['dsa'] },
  '2.16.840.1.101.3.4.3.1': { hash: 'sha224', keyTypes: ['dsa'] },
  '2.16.840.1.101.3.4.3.2': { hash: 'sha256', keyTypes: ['dsa'] },
  '1.3.101.112': { hash: null, keyTypes: ['ed25519'] },
  '1.3.101.113': { hash: null, keyTypes: ['ed448'] },
};

const HASH_OIDS: Record<string, string> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.4': 'sha224',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};
const id_RSASSA_PSS = '1.2.840.113549.1.1.10';
const id_mgf1 = '1.2.840.113549.1.1.8';

/** RFC 4055 §3.1 RSASSA-PSS-params, decoded with pkijs; MGF1 must use the message digest (node's rule). */
function pssSpec(params: ArrayBuffer | null | undefined): AlgSpec | string {
  let p: pkijs.RSASSAPSSParams;
  try {
    if (!params) p = new pkijs.RSASSAPSSParams();
    else {
      const asn = asn1js.fromBER(params);
      if (asn.offset === -1) return 'the RSASSA-PSS parameters are not valid DER';
      p = new pkijs.RSASSAPSSParams({ schema: asn.result });
    }
  } catch {
    return 'the RSASSA-PSS parameters could not be decoded';
  }
  const hash = HASH_OIDS[p.hashAlgorithm.algorithmId];
  if (!hash) return `RSASSA-PSS with digest ${p.hashAlgorithm.algorithmId} is not supported`;
  if (p.maskGenAlgorithm.algorithmId !== id_mgf1) return 'RSASSA-PSS with a mask generation function other than MGF1';
  let mgfHash = 'sha1';
  try {
    const inner = p.maskGenAlgorithm.algorithmParams;
    if (inner) mgfHash = HASH_OIDS[new pkijs.AlgorithmIdentifier({ schema: inner }).algorithmId] ?? '?';
  } catch {
    return 'the MGF1 parameters could not be decoded';
  }
  if (mgfHash !== hash) return 'RSASSA-PSS with an MGF1 digest different from the message digest is not supported';
  if (p.trailerField !== 1) return 'RSASSA-PSS trailerField must be 1';
  return { hash, keyTypes: RSA, pss: { saltLength: p.saltLength } };
}

function specFor(alg: asn1x509.AlgorithmIdentifier): AlgSpec | string {
  if (alg.algorithm === id_RSASSA_PSS) return pssSpec(alg.parameters);
  return SIMPLE[alg.algorithm] ?? `the signature algorithm ${alg.algorithm} is not supported`;
}

export function verifySigned(
  data: Uint8Array,
  signature: Uint8Array,
  alg: asn1x509.AlgorithmIdentifier,
  key: KeyObject | null,
): SigResult {
  if (!key) return { ok: false, reason: "the issuer's public key could not be read" };
  const spec = specFor(alg);
  if (typeof spec === 'string') return { ok: false, reason: spec };
  const type = key.asymmetricKeyType ?? '';
  if (!spec.keyTypes.includes(type)) {
    return { ok: false, reason: `the issuer's ${type || 'unknown'} key does not fit the signature algorithm ${alg.algorithm}` };
  }
  try {
    const ok = spec.pss
      ? cryptoVerify(spec.hash, data, { key, padding: 6 /* RSA_PKCS1_PSS_PADDING */, saltLength: spec.pss.saltLength }, signature)
      : cryptoVerify(spec.hash, data, key, signature);
    return ok === true ? { ok: true } : { ok: false, reason: 'the signature does not verify with the issuer key' };
  } catch (e) {
    return { ok: false, reason: `the signature could not be checked (${e instanceof Error ? e.message : 'error'})` };
  }
}

const memo = new Lru<string, SigResult>(4096);

/**
 * Memoised by (signer key, signed object): the same DER checked with the same key always gives the same
 * answer, and path building asks for the same link many times.
 */
export function verifyMemo(
  signerSpkiHash: string,
  signedSha256: string,
  run: () => SigResult,
): SigResult {
  const k = `${signerSpkiHash}:${signedSha256}`;
  const hit = memo.get(k);
  if (hit) return hit;
  const r = run();
  memo.set(k, r);
  return r;
}
