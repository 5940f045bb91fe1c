/**
 * Certification path building and validation (RFC 5280 §6, RFC 4158 for building) from a leaf to the
 * trust anchors of a trust profile.
 *
 * Building is a bounded depth-first search from the leaf towards the anchors: issuers are matched by
 * name (RFC 5280 §7.1) and, when both sides carry them, by AKI/SKI; candidates whose signature verifies
 * and which are valid at the validation time are tried first. Every complete path found is validated in
 * full (`steps.ts`); the first path without errors wins, otherwise the path with the fewest (and least
 * severe) errors is reported. Depth, candidate count and time are bounded, so loops and pathological
 * pools end with `chain.limit-exceeded`.
 *
 * `certIndex` in the findings is the index in the returned `path` (0 = leaf, last = anchor); without a
 * path only the leaf (index 0) is named.
 */
import { finding } from '../findings.js';
import type { ChainElement, Finding } from '../types.js';
import { type ChainCert, getChainCert, MAX_CERT_BYTES, parseChainCert, type WorkingKey } from './cert.js';
import {
  ALL_REASONS,
  applyDelta,
  checkCrlSigner,
  type CrlVerdict,
  crlStatusUnsigned,
  type ParsedCrl,
  parseCrl,
} from './crl.js';
import { checkValidity, processPath } from './steps.js';
import { verifyMemo, verifySigned } from './signature.js';

export { verifyCrlStatus } from './crl.js';

export interface TrustAnchor {
  der: Uint8Array;
  subject: string;
  sha256: string;
  /** "tl:<territory>:<service name>" or "pem:<file>". */
  source: string;
  /** TL service qualifiers; null for a PEM anchor (no qualification information). */
  qualifiers: { web: boolean; eseal: boolean; esign: boolean } | null;
  /** TL service status at validation time; null for PEM. */
  status: 'granted' | 'withdrawn' | 'other' | null;
}

export interface PathLimits {
  maxDepth: number;
  maxCandidates: number;
  timeBudgetMs: number;
}

export interface PathResult {
  /** Leaf first, anchor last; [] when no path. */
  path: Uint8Array[];
  anchor: TrustAnchor | null;
  chain: ChainElement[];
  findings: Finding[];
}

export const DEFAULT_LIMITS: PathLimits = { maxDepth: 8, maxCandidates: 50, timeBudgetMs: 1000 };
/** Hard ceilings on caller-supplied limits and inputs. */
const CEILING: PathLimits = { maxDepth: 32, maxCandidates: 1000, timeBudgetMs: 10_000 };
const MAX_POOL = 256;
const MAX_POOL_BYTES = 4 * 1024 * 1024;
const MAX_CRLS = 64;
const MAX_CRL_TOTAL_BYTES = 8 * 1024 * 1024;
/** Nested path building for a CRL signer (RFC 5280 §6.3.3 (f)) goes at most this deep. */
const MAX_CRL_SIGNER_NESTING = 2;

interface AnchorEntry {
  ta: TrustAnchor;
  cert: ChainCert;
}

interface AnchorIndex {
  length: number;
  byName: Map<string, AnchorEntry[]>;
  bySha: Map<string, AnchorEntry>;
}

// Anchors are long-lived (a trust profile): their decode is kept per anchors array and per anchor, so
// neither a profile of thousands of TL services nor a caller building a fresh array each time re-decodes.
const anchorIndexes = new WeakMap<TrustAnchor[], AnchorIndex>();
const anchorCerts = new WeakMap<TrustAnchor, ChainCert | null>();

function anchorCert(ta: TrustAnchor, shareCache: boolean): ChainCert | null {
  let c = anchorCerts.get(ta);
  if (c === undefined) {
    c = parseChainCert(ta.der, shareCache);
    anchorCerts.set(ta, c);
  }
  return c;
}

function indexAnchors(anchors: TrustAnchor[]): AnchorIndex {
  const hit = anchorIndexes.get(anchors);
  if (hit && hit.length === anchors.length) return hit;
  const idx: AnchorIndex = { length: anchors.length, byName: new Map(), bySha: new Map() };
  for (const ta of anchors) {
    const cert = anchorCert(ta, anchors.length <= 64);
    if (!cert) continue;
    const entry = { ta, cert };
    idx.bySha.set(cert.sha256, entry);
    const list = idx.byName.get(cert.subject.key);
    if (list) list.push(entry);
    else idx.byName.set(cert.subject.key, [entry]);
  }
  anchorIndexes.set(anchors, idx);
  return idx;
}

function clampLimits(l: Partial<PathLimits> | undefined): PathLimits {
  const pick = (k: keyof PathLimits) => {
    const v = l?.[k];
    const n = typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.floor(v) : DEFAULT_LIMITS[k];
    return Math.min(n, CEILING[k]);
  };
  return { maxDepth: pick('maxDepth'), maxCandidates: pick('maxCandidates'), timeBudgetMs: pick('timeBudgetMs') };
}

function keyOf(c: ChainCert): string {
  return `${c.subject.key}\u0000${c.spkiHash}`;
}

/** RFC 5280 §4.2.1.1: a candidate issuer whose SKI differs from the subject's AKI is not its issuer. */
function keyIdsFit(subject: ChainCert, issuer: ChainCert): boolean {
  return !subject.akiKeyId || !issuer.ski || subject.akiKeyId === issuer.ski;
}

function linkVerifies(subject: ChainCert, issuer: ChainCert): boolean {
  return (
    subject.innerAlgMatches &&
    verifyMemo(issuer.spkiHash, subject.sha256, () => verifySigned(subject.tbs, subject.signature, subject.sigAlg, issuer.publicKey())).ok ===
      true
  );
}

function validAt(c: ChainCert, at: Date): boolean {
  return c.notBefore.getTime() <= at.getTime() && at.getTime() <= c.notAfter.getTime();
}

/** RFC 4158 §3.5 (subset): verifying, key-id-matching, currently valid, newest first. */
function rank(subject: ChainCert, at: Date, list: ChainCert[]): ChainCert[] {
  const score = (c: ChainCert) =>
    (linkVerifies(subject, c) ? 8 : 0) + (subject.akiKeyId && c.ski === subject.akiKeyId ? 4 : 0) + (validAt(c, at) ? 2 : 0);
  return list
    .map((c) => ({ c, s: score(c) }))
    .sort((a, b) => b.s - a.s || b.c.notBefore.getTime() - a.c.notBefore.getTime())
    .map((x) => x.c);
}

function weight(fs: Finding[]): number {
  let w = 0;
  for (const f of fs) {
    if (f.severity === 'error') w += f.code === 'signature.invalid' ? 100 : 10;
    else if (f.severity === 'warning') w += 1;
  }
  return w;
}

function hasError(fs: Finding[]): boolean {
  return fs.some((f) => f.severity === 'error');
}

interface Complete {
  certs: ChainCert[];
  anchor: AnchorEntry;
  findings: Finding[];
  score: number;
}

interface DeadEnd {
  path: ChainCert[];
  root: boolean;
}

interface Shared {
  at: Date;
  limits: PathLimits;
  deadline: number;
  pool: Map<string, ChainCert[]>;
  anchors: AnchorIndex;
  crls: ParsedCrl[] | null;
}

class Search {
  candidates = 0;
  limit: string | null = null;
  loop = false;
  best: Complete | null = null;
  deadEnds: DeadEnd[] = [];
  done = false;

  constructor(
    readonly sh: Shared,
    readonly anchorFilter: ((a: AnchorEntry) => boolean) | null,
    readonly nesting: number,
  ) {}

  private budget(): boolean {
    if (this.done) return false;
    if (performance.now() > this.sh.deadline) {
      this.limit ??= `the time budget of ${this.sh.limits.timeBudgetMs} ms ran out`;
      this.done = true;
      return false;
    }
    if (this.candidates >= this.sh.limits.maxCandidates) {
      this.limit ??= `more than ${this.sh.limits.maxCandidates} candidate issuer certificates had to be tried`;
      this.done = true;
      return false;
    }
    this.candidates++;
    return true;
  }

  private evaluate(certs: ChainCert[], anchor: AnchorEntry): void {
    const findings = processPath({
      at: this.sh.at,
      certs,
      anchor: anchor.cert,
      revocation: this.sh.crls ? (cert, issuer, key, idx) => this.revocation(cert, issuer, key, idx, anchor) : null,
    });
    const score = weight(findings);
    if (!this.best || score < this.best.score) this.best = { certs, anchor, findings, score };
    if (!hasError(findings)) this.done = true;
  }

  run(leaf: ChainCert): void {
    this.extend([leaf], new Set([keyOf(leaf)]));
  }

  private extend(path: ChainCert[], keys: Set<string>): void {
    const cur = path[path.length - 1];
    if (!cur || this.done) return;
    const { limits, at } = this.sh;
    // Anchors: trusted by name and key (§6.1.1 (d)); the anchor completes the path.
    // A self-signed certificate is its own issuer: only an anchor with its key can complete it.
    const selfSignedCur = cur.selfIssued && linkVerifies(cur, cur);
    const anchors = (this.sh.anchors.byName.get(cur.issuer.key) ?? []).filter(
      (a) =>
        keyIdsFit(cur, a.cert) &&
        (!selfSignedCur || a.cert.spkiHash === cur.spkiHash) &&
        (!this.anchorFilter || this.anchorFilter(a)),
    );
    const anchorsRanked = rank(
      cur,
      at,
      anchors.slice(0, limits.maxCandidates).map((a) => a.cert),
    );
    let progressed = false;
    if (path.length + 1 <= limits.maxDepth) {
      for (const ac of anchorsRanked) {
        const a = anchors.find((x) => x.cert === ac);
        if (!a || !this.budget()) return;
        progressed = true;
        this.evaluate(path, a);
        if (this.done) return;
      }
    } else if (anchors.length > 0) {
      this.limit ??= `the path is longer than ${limits.maxDepth} certificates`;
    }
    const all = (this.sh.pool.get(cur.issuer.key) ?? []).filter((c) => keyIdsFit(cur, c));
    let selfSigned = false;
    let loopHere = false;
    const next: ChainCert[] = [];
    for (const c of all) {
      if (keyOf(c) === keyOf(cur)) {
        // The certificate names itself as issuer with its own key: a root, not a loop.
        selfSigned = true;
        continue;
      }
      if (keys.has(keyOf(c))) {
        // RFC 4158 §2.4.2: a (name, key) pair appears at most once in a path.
        this.loop = true;
        loopHere = true;
        continue;
      }
      next.push(c);
    }
    if (next.length > 0 && path.length + 2 > limits.maxDepth) {
      this.limit ??= `the path is longer than ${limits.maxDepth} certificates`;
      return;
    }
    // Ranking verifies signatures: rank no more candidates than may be tried.
    if (next.length > limits.maxCandidates) {
      this.limit ??= `more than ${limits.maxCandidates} candidate issuer certificates had to be tried`;
    }
    for (const c of rank(cur, at, next.slice(0, limits.maxCandidates))) {
      if (!this.budget()) return;
      progressed = true;
      keys.add(keyOf(c));
      this.extend([...path, c], keys);
      keys.delete(keyOf(c));
      if (this.done) return;
    }
    if (!progressed && !(loopHere && next.length === 0)) {
      this.deadEnds.push({ path, root: selfSigned || selfSignedCur });
    }
  }

  /** §6.1.3 (a)(3) with the offline CRLs; §6.3.3 for the CRL processing itself. */
  private revocation(cert: ChainCert, issuer: ChainCert, issuerKey: WorkingKey, certIndex: number, anchor: AnchorEntry): Finding[] {
    const crls = this.sh.crls ?? [];
    const label = `"${cert.subjectText().slice(0, 300)}"`;
    const problems: string[] = [];
    let reasons = 0;
    for (const crl of crls) {
      if (crl.deltaBase !== null) continue;
      if (crl.issuer.key !== cert.issuer.key && crl.idp?.indirectCRL !== true) continue;
      let v = crlStatusUnsigned(cert, crl, this.sh.at);
      if (v.status === 'invalid') {
        problems.push(v.error ?? 'unusable CRL');
        continue;
      }
      const signerProblem = this.crlSignerProblem(crl, issuer, issuerKey, anchor, cert);
      if (signerProblem) {
        problems.push(signerProblem);
        continue;
      }
      for (const delta of crls) {
        if (delta.deltaBase === null || delta.issuer.key !== crl.issuer.key) continue;
        if (this.crlSignerProblem(delta, issuer, issuerKey, anchor, cert)) continue;
        v = applyDelta(cert, crl, delta, this.sh.at, v);
      }
      if (v.status === 'revoked') return [revokedFinding(label, v, certIndex)];
      reasons |= v.reasons ?? 0;
    }
    if ((reasons & ALL_REASONS) === ALL_REASONS) return [];
    const why = problems.length > 0 ? ` (${[...new Set(problems)].slice(0, 3).join('; ')})` : '';
    return [
      finding(
        'revocation.unavailable',
        reasons === 0
          ? `No usable CRL among those supplied covers certificate ${label}${why}.`
          : `The supplied CRLs cover only some revocation reasons for certificate ${label}${why}.`,
        { certIndex },
      ),
    ];
  }

  /**
   * The CRL must be signed by the certificate's issuer, or (§6.3.3 (f)) by another key of the same CA
   * whose certificate validates to the same trust anchor.
   */
  private crlSignerProblem(
    crl: ParsedCrl,
    issuer: ChainCert,
    issuerKey: WorkingKey,
    anchor: AnchorEntry,
    subject: ChainCert,
  ): string | null {
    const direct = crl.issuer.key === issuer.subject.key ? checkCrlSigner(crl, issuer, issuerKey) : 'the CRL names another issuer';
    if (direct === null) return null;
    if (this.nesting >= MAX_CRL_SIGNER_NESTING) return direct;
    const candidates = [
      ...(this.sh.pool.get(crl.issuer.key) ?? []),
      ...(this.sh.anchors.byName.get(crl.issuer.key) ?? []).map((a) => a.cert),
    ].filter((c) => c.spkiHash !== issuer.spkiHash && checkCrlSigner(crl, c) === null);
    for (const signer of candidates) {
      if (signer === anchor.cert || this.sh.anchors.bySha.get(signer.sha256) === anchor) return null;
      // A CRL issuer's own certificate may be covered by the CRL it signs (PKITS 4.14.30).
      if (signer.sha256 === subject.sha256) return null;
      const nested = new Search(this.sh, (a) => a === anchor, this.nesting + 1);
      nested.run(signer);
      if (nested.best && !hasError(nested.best.findings)) return null;
    }
    return direct;
  }
}

function revokedFinding(label: string, v: CrlVerdict, certIndex: number): Finding {
  const when = v.revokedAt ? ` on ${v.revokedAt.toISOString()}` : '';
  const why = v.reason ? ` (reason: ${v.reason})` : '';
  return finding('revoked', `Certificate ${label} was revoked${when}${why} according to the CRL of its issuer.`, { certIndex });
}

function element(c: ChainCert, anchor: AnchorEntry | null): ChainElement {
  const e: ChainElement = {
    subject: c.subjectText(),
    issuer: c.issuerText(),
    serialNumber: c.serialHex,
    notBefore: c.notBefore.toISOString(),
    notAfter: c.notAfter.toISOString(),
    sha256: c.sha256,
    spkiSha256: c.spkiHash,
    anchor: anchor !== null,
  };
  if (anchor) e.anchorSource = anchor.ta.source;
  return e;
}

function noPath(findings: Finding[]): PathResult {
  return { path: [], anchor: null, chain: [], findings };
}

export async function validatePath(input: {
  leaf: Uint8Array;
  intermediates: Uint8Array[];
  anchors: TrustAnchor[];
  at: Date;
  crls?: Uint8Array[];
  limits?: Partial<PathLimits>;
}): Promise<PathResult> {
  try {
    return run(input);
  } catch (e) {
    // Fail closed: an unexpected error never yields a path.
    const detail = e instanceof Error ? e.message.slice(0, 200) : 'unknown error';
    return noPath([finding('chain.untrusted', `The certification path could not be validated (${detail}).`, { certIndex: 0 })]);
  }
}

function run(input: {
  leaf: Uint8Array;
  intermediates: Uint8Array[];
  anchors: TrustAnchor[];
  at: Date;
  crls?: Uint8Array[];
  limits?: Partial<PathLimits>;
}): PathResult {
  const at = input.at;
  if (!(at instanceof Date) || Number.isNaN(at.getTime())) {
    return noPath([finding('chain.untrusted', 'The certification path was not validated: the validation time is not a valid date.', { certIndex: 0 })]);
  }
  const limits = clampLimits(input.limits);
  const leaf = getChainCert(input.leaf);
  if (!leaf) {
    const size = input.leaf.byteLength > MAX_CERT_BYTES ? ' (it is larger than 64 KiB)' : '';
    return noPath([finding('malformed', `The certificate could not be decoded for path validation${size}.`, { certIndex: 0 })]);
  }
  const anchors = indexAnchors(input.anchors);
  const deadline = performance.now() + limits.timeBudgetMs;
  const leafValidity = checkValidity(leaf, at, 0);

  // The leaf is itself a trust anchor (e.g. a TL-listed CA certificate was submitted).
  const self = anchors.bySha.get(leaf.sha256);
  if (self) {
    return { path: [leaf.der], anchor: self.ta, chain: [element(leaf, self)], findings: leafValidity };
  }

  const pool = new Map<string, ChainCert[]>();
  const seen = new Set<string>([leaf.sha256]);
  let poolBytes = 0;
  let poolCut: string | null = null;
  for (const der of input.intermediates.slice(0, MAX_POOL)) {
    poolBytes += der.byteLength;
    if (poolBytes > MAX_POOL_BYTES || performance.now() > deadline) {
      poolCut = 'the supplied certificates were too many or too large to read within the limits';
      break;
    }
    const c = getChainCert(der);
    if (!c || seen.has(c.sha256)) continue;
    seen.add(c.sha256);
    const list = pool.get(c.subject.key);
    if (list) list.push(c);
    else pool.set(c.subject.key, [c]);
  }
  let crls: ParsedCrl[] | null = null;
  if (input.crls) {
    crls = [];
    let crlBytes = 0;
    for (const der of input.crls.slice(0, MAX_CRLS)) {
      crlBytes += der.byteLength;
      if (crlBytes > MAX_CRL_TOTAL_BYTES || performance.now() > deadline) break;
      const p = parseCrl(der);
      if (typeof p !== 'string') crls.push(p);
    }
  }

  const search = new Search({ at, limits, deadline, pool, anchors, crls }, null, 0);
  search.run(leaf);
  if (poolCut) search.limit ??= poolCut;
  const best = search.best;
  if (best) {
    const certs = [...best.certs, best.anchor.cert];
    const findings = [...best.findings];
    if (search.limit && hasError(findings)) {
      findings.push(finding('chain.limit-exceeded', `Path building stopped early: ${search.limit}; the best path found is reported.`, { certIndex: 0 }));
    }
    return {
      path: certs.map((c) => c.der),
      anchor: best.anchor.ta,
      chain: certs.map((c, i) => element(c, i === certs.length - 1 ? best.anchor : null)),
      findings,
    };
  }

  const findings = [...leafValidity];
  if (search.limit) {
    findings.push(finding('chain.limit-exceeded', `No path to a trust anchor was found before ${search.limit}.`, { certIndex: 0 }));
    return noPath(findings);
  }
  const deepest = search.deadEnds.reduce<DeadEnd | null>(
    (a, d) => (!a || d.path.length > a.path.length || (d.path.length === a.path.length && d.root && !a.root) ? d : a),
    null,
  );
  const last = deepest?.path[deepest.path.length - 1];
  if (!deepest || !last) {
    findings.push(
      finding('chain.limit-exceeded', 'Path building found only loops among the supplied certificates, and no path to a trust anchor.', { certIndex: 0 }),
    );
    return noPath(findings);
  }
  if (deepest.root) {
    findings.push(
      finding('chain.untrusted', `The chain ends at the self-signed certificate "${last.subjectText()}", which is not a trust anchor of this profile.`, { certIndex: 0 }),
    );
  } else {
    const keyId = last.akiKeyId ? ` (key identifier ${last.akiKeyId})` : '';
    findings.push(
      finding(
        'chain.incomplete',
        `The issuer "${last.issuerText()}"${keyId} of "${last.subjectText()}" was not supplied and is not a trust anchor of this profile.`,
        { certIndex: 0 },
      ),
    );
  }
  return noPath(findings);
}
