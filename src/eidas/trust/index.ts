/**
 * The trust area: TS 119 612 trusted lists and LOTL, their XAdES signatures, named trust profiles and the
 * anchor index used by path building.
 */
export { type AnchorIndex, indexAnchors, nameKey } from './anchor-index.js';
export { loadTrustProfile, pemAnchor } from './profile.js';
export { verifyNationalList, verifyTrustedListSignature } from './signature.js';
export { announcedSigners, parseLotl, parseTrustedList, SVC_TYPE_CA_QC, TSL_TYPE_LOTL } from './tl.js';
export {
  type Lotl,
  type LotlPointer,
  type SignatureCheck,
  type TrustAnchor,
  type TrustedList,
  TrustedListError,
  type TrustedListErrorCode,
  type TrustProfile,
  type TrustProfileSpec,
  type TrustService,
} from './types.js';
export { MAX_TL_BYTES } from './xml.js';
