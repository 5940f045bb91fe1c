/** Shapes of the trust area (docs/eidas-engine.md, `trust/`). `TrustAnchor` is the chain's contract. */
import type { TrustAnchor } from '../chain/index.js';

export type { TrustAnchor };

export interface TrustService {
  tsp: string;
  name: string;
  status: 'granted' | 'withdrawn' | 'other';
  qualifiers: { web: boolean; eseal: boolean; esign: boolean };
  /** Number of X509Certificate digital identities (anchors) the service gave. */
  certificates: number;
}

/** A pointer of the LOTL to a national list (TS 119 612 §5.3.13) with the certificates allowed to sign it. */
export interface LotlPointer {
  territory: string;
  location: string;
  mimeType: string | null;
  tslType: string | null;
  /** DER certificates of ServiceDigitalIdentities: the only keys allowed to sign that territory's list. */
  signers: Uint8Array[];
}

export interface TrustedList {
  territory: string;
  sequenceNumber: number;
  issued: Date;
  nextUpdate: Date | null;
  /** TSLType URI (…/TSLType/EUgeneric for a national list, …/EUlistofthelists for the LOTL). */
  tslType: string;
  /** Every CA/QC service certificate with its status and qualifiers at `at` (withdrawn ones included). */
  anchors: TrustAnchor[];
  /** The CA/QC services themselves (one entry per TSPService; a service may give several anchors). */
  services: TrustService[];
  warnings: string[];
  /** Present when tslType is EUlistofthelists. */
  pointers?: LotlPointer[];
}

export interface Lotl extends TrustedList {
  pointers: LotlPointer[];
}

export interface TrustProfile {
  name: string;
  /** Usable anchors only: PEM anchors and TL services granted at load time, deduplicated by sha256. */
  anchors: TrustAnchor[];
  /** "tl:<file>" / "pem:<file>" / "lotl:<file>" for each file that contributed. */
  sources: string[];
  /** Operator-facing notes (withdrawn services left out, unchecked signatures, …); set by loadTrustProfile. */
  warnings?: string[];
}

export interface TrustProfileSpec {
  name: string;
  /** TS 119 612 trusted-list XML files (national lists or the dev PKI list). */
  trustedLists: string[];
  /** PEM/DER certificate files, or directories of `.pem`/`.crt`/`.cer` files. */
  pemFiles: string[];
  /**
   * Default true. When true each trusted list must carry a valid XAdES signature and be fresh (NextUpdate
   * not passed); with `lotl`, the signer must also be announced by the LOTL for the list's territory.
   * When false (sandbox), signatures are not checked and stale lists only give a warning.
   */
  requireSignedLists?: boolean;
  /** EU LOTL file: its signature is checked, then it names the signers of each national list. */
  lotl?: string;
  /**
   * PEM files of the LOTL signing certificates announced in the Official Journal. Without them the LOTL is
   * only checked against the certificates of its own EU pointer (self-consistency; a warning says so).
   */
  lotlSigners?: string[];
  /** Overrides the freshness rule above. */
  allowExpiredLists?: boolean;
}

export type TrustedListErrorCode =
  | 'tl.malformed'
  | 'tl.signature-invalid'
  | 'tl.signer-not-announced'
  | 'tl.expired'
  | 'tl.unsupported'
  | 'tl.unreadable'
  | 'tl.config';

/** A problem with the operator's trust configuration (a list or anchor file), not a certificate finding. */
export class TrustedListError extends Error {
  constructor(
    readonly code: TrustedListErrorCode,
    message: string,
    readonly source?: string,
  ) {
    super(source ? `${source}: ${message}` : message);
    this.name = 'TrustedListError';
  }
}

export type SignatureCheck =
  | { ok: true; signer: Uint8Array }
  | { ok: false; code: TrustedListErrorCode; reason: string; signer?: Uint8Array };
