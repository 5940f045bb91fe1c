/**
 * ETSI TS 119 612 trusted-list reading: scheme information, CA/QC services as trust anchors with their
 * status and qualifiers at a given time, and the LOTL's pointers with the keys allowed to sign each list.
 */
import { createHash } from 'node:crypto';
import type { Document, Element } from '@xmldom/xmldom';
import { x509 } from '../x509.js';
import {
  type Lotl,
  type LotlPointer,
  type TrustAnchor,
  type TrustedList,
  TrustedListError,
  type TrustService,
} from './types.js';
import { child, children, decodeBase64, multiLangName, NS, parseDateTime, parseXml, path, text } from './xml.js';

export const SVC_TYPE_CA_QC = 'http://uri.etsi.org/TrstSvc/Svctype/CA/QC';
export const TSL_TYPE_LOTL = 'http://uri.etsi.org/TrstSvc/TrustedList/TSLType/EUlistofthelists';
const STATUS_PREFIX = 'http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/';
const ASI_PREFIX = 'http://uri.etsi.org/TrstSvc/TrustedList/SvcInfoExt/';

/** Bounds for hostile lists (the largest real national lists hold a few hundred services). */
export const TL_LIMITS = { maxServices: 20_000, maxAnchors: 20_000, maxHistory: 500, maxPointers: 500 } as const;

/** TS 119 612 v2.1.1+ lists are version 5; v2.3.1 (2024) lists are version 6. */
const SUPPORTED_VERSIONS = new Set([5, 6]);

export interface ParsedTrustedList extends TrustedList {
  doc: Document;
}

export function parseTrustedList(xml: Uint8Array | string, opts: { at?: Date; source?: string } = {}): TrustedList {
  const { doc: _doc, ...tl } = readTrustedList(parseXml(xml, opts.source), opts);
  return tl;
}

/** The LOTL (TSLType EUlistofthelists) with its pointers; throws tl.unsupported for any other list. */
export function parseLotl(xml: Uint8Array | string, opts: { at?: Date; source?: string } = {}): Lotl {
  const { doc: _doc, ...tl } = readTrustedList(parseXml(xml, opts.source), opts);
  return asLotl(tl, opts.source);
}

export function asLotl(tl: TrustedList, source?: string): Lotl {
  if (tl.tslType !== TSL_TYPE_LOTL || !tl.pointers) {
    throw new TrustedListError('tl.unsupported', `TSLType is ${tl.tslType}, not the EU list of trusted lists`, source);
  }
  return { ...tl, pointers: tl.pointers };
}

/** Certificates the LOTL announces as signers of `territory`'s list (all its pointers, XML and PDF). */
export function announcedSigners(lotl: Lotl, territory: string): Uint8Array[] {
  return lotl.pointers.filter((p) => p.territory === territory).flatMap((p) => p.signers);
}

export function readTrustedList(doc: Document, opts: { at?: Date; source?: string } = {}): ParsedTrustedList {
  const src = opts.source;
  const at = opts.at ?? new Date();
  const root = doc.documentElement;
  if (root?.localName !== 'TrustServiceStatusList' || root.namespaceURI !== NS.tsl) {
    throw new TrustedListError('tl.malformed', 'the root element is not a TS 119 612 TrustServiceStatusList', src);
  }
  const si = child(root, 'SchemeInformation');
  if (!si) throw new TrustedListError('tl.malformed', 'SchemeInformation is missing', src);

  const version = Number(text(child(si, 'TSLVersionIdentifier')));
  if (!SUPPORTED_VERSIONS.has(version)) {
    throw new TrustedListError('tl.unsupported', `TSLVersionIdentifier ${version || 'missing'} (5 or 6 are read)`, src);
  }
  const seqText = text(child(si, 'TSLSequenceNumber'));
  const sequenceNumber = seqText && /^\d{1,9}$/.test(seqText) ? Number(seqText) : Number.NaN;
  const territory = text(child(si, 'SchemeTerritory'));
  const tslType = text(child(si, 'TSLType'));
  const issued = parseDateTime(text(child(si, 'ListIssueDateTime')));
  if (!Number.isInteger(sequenceNumber) || !territory || !tslType || !issued) {
    throw new TrustedListError(
      'tl.malformed',
      'SchemeInformation lacks a valid TSLSequenceNumber, SchemeTerritory, TSLType or ListIssueDateTime',
      src,
    );
  }
  // TS 119 612 §5.3.15: an empty NextUpdate marks a closed list.
  const nextUpdateEl = path(si, 'NextUpdate', 'dateTime');
  const nextUpdate = parseDateTime(text(nextUpdateEl));
  if (nextUpdateEl && !nextUpdate) throw new TrustedListError('tl.malformed', 'NextUpdate is not an xs:dateTime', src);

  const warnings: string[] = [];
  if (nextUpdate && at.getTime() > nextUpdate.getTime()) {
    warnings.push(`the list is past its NextUpdate (${nextUpdate.toISOString()}) at ${at.toISOString()}`);
  }
  if (!nextUpdate) warnings.push('the list has no NextUpdate (closed list)');
  if (at.getTime() < issued.getTime()) {
    warnings.push(`the list was issued (${issued.toISOString()}) after ${at.toISOString()}`);
  }

  const services: TrustService[] = [];
  const anchors = readServices(root, territory, at, services, warnings, src);
  const tl: ParsedTrustedList = {
    doc,
    territory,
    sequenceNumber,
    issued,
    nextUpdate,
    tslType,
    anchors,
    services,
    warnings,
  };
  if (tslType === TSL_TYPE_LOTL) tl.pointers = readPointers(si, warnings, src);
  return tl;
}

function readServices(
  root: Element,
  territory: string,
  at: Date,
  services: TrustService[],
  warnings: string[],
  src?: string,
): TrustAnchor[] {
  const anchors: TrustAnchor[] = [];
  let count = 0;
  const tsps = children(child(root, 'TrustServiceProviderList'), 'TrustServiceProvider');
  for (const tsp of tsps) {
    const tspName = multiLangName(path(tsp, 'TSPInformation', 'TSPName')) ?? '(unnamed TSP)';
    for (const svc of children(child(tsp, 'TSPServices'), 'TSPService')) {
      if (++count > TL_LIMITS.maxServices) {
        throw new TrustedListError('tl.unsupported', `more than ${TL_LIMITS.maxServices} services`, src);
      }
      const info = child(svc, 'ServiceInformation');
      if (text(child(info, 'ServiceTypeIdentifier')) !== SVC_TYPE_CA_QC) continue;
      const name = multiLangName(child(info, 'ServiceName')) ?? '(unnamed service)';
      const state = stateAt(svc, at);
      const ids = children(child(info, 'ServiceDigitalIdentity'), 'DigitalId');
      let certs = 0;
      for (const id of ids) {
        for (const certEl of children(id, 'X509Certificate')) {
          const der = decodeBase64(text(certEl));
          const subject = der ? certificateSubject(der) : null;
          if (!der || subject === null) {
            warnings.push(`service "${name}": a DigitalId/X509Certificate is not a readable certificate; skipped`);
            continue;
          }
          if (anchors.length >= TL_LIMITS.maxAnchors) {
            throw new TrustedListError('tl.unsupported', `more than ${TL_LIMITS.maxAnchors} service certificates`, src);
          }
          certs++;
          anchors.push({
            der,
            subject,
            sha256: createHash('sha256').update(der).digest('hex'),
            source: `tl:${territory}:${name}`,
            qualifiers: { ...state.qualifiers },
            status: state.status,
          });
        }
      }
      if (certs === 0) warnings.push(`service "${name}": no X509Certificate digital identity; no anchor`);
      services.push({ tsp: tspName, name, status: state.status, qualifiers: { ...state.qualifiers }, certificates: certs });
    }
  }
  return anchors;
}

interface ServiceState {
  status: 'granted' | 'withdrawn' | 'other';
  qualifiers: { web: boolean; eseal: boolean; esign: boolean };
}

/**
 * TS 119 612 §5.5.4/§5.6: the current status applies from its StatusStartingTime; before that, the history
 * instance with the latest starting time not after `at` applies. A time before every known instance has no
 * status on the list ('other'). Pre-eIDAS statuses (undersupervision, accredited, …) are 'other'.
 */
function stateAt(svc: Element, at: Date): ServiceState {
  const info = child(svc, 'ServiceInformation');
  const instances: Element[] = info ? [info] : [];
  instances.push(...children(child(svc, 'ServiceHistory'), 'ServiceHistoryInstance').slice(0, TL_LIMITS.maxHistory));
  let best: { el: Element; start: number } | null = null;
  for (const el of instances) {
    const start = parseDateTime(text(child(el, 'StatusStartingTime')))?.getTime();
    if (start === undefined || start > at.getTime()) continue;
    if (!best || start > best.start) best = { el, start };
  }
  if (!best) return { status: 'other', qualifiers: { web: false, eseal: false, esign: false } };
  const statusUri = text(child(best.el, 'ServiceStatus'));
  const status = statusUri === `${STATUS_PREFIX}granted` ? 'granted' : statusUri === `${STATUS_PREFIX}withdrawn` ? 'withdrawn' : 'other';
  return { status, qualifiers: qualifiersOf(best.el) };
}

/** TS 119 612 §5.5.9.4 AdditionalServiceInformation URIs of a service (or history) instance. */
function qualifiersOf(instance: Element): ServiceState['qualifiers'] {
  const q = { web: false, eseal: false, esign: false };
  for (const ext of children(child(instance, 'ServiceInformationExtensions'), 'Extension')) {
    for (const uriEl of children(child(ext, 'AdditionalServiceInformation'), 'URI')) {
      const uri = text(uriEl);
      if (uri === `${ASI_PREFIX}ForWebSiteAuthentication`) q.web = true;
      else if (uri === `${ASI_PREFIX}ForeSeals`) q.eseal = true;
      else if (uri === `${ASI_PREFIX}ForeSignatures`) q.esign = true;
    }
  }
  return q;
}

function readPointers(si: Element, warnings: string[], src?: string): LotlPointer[] {
  const out: LotlPointer[] = [];
  const ptrs = children(child(si, 'PointersToOtherTSL'), 'OtherTSLPointer');
  if (ptrs.length > TL_LIMITS.maxPointers) {
    throw new TrustedListError('tl.unsupported', `more than ${TL_LIMITS.maxPointers} OtherTSLPointer`, src);
  }
  for (const p of ptrs) {
    let territory: string | null = null;
    let mimeType: string | null = null;
    let tslType: string | null = null;
    for (const oi of children(child(p, 'AdditionalInformation'), 'OtherInformation')) {
      territory ??= text(child(oi, 'SchemeTerritory'));
      tslType ??= text(child(oi, 'TSLType'));
      mimeType ??= text(child(oi, 'MimeType', NS.tslx));
    }
    const location = text(child(p, 'TSLLocation')) ?? '';
    const signers: Uint8Array[] = [];
    for (const sdi of children(child(p, 'ServiceDigitalIdentities'), 'ServiceDigitalIdentity')) {
      for (const id of children(sdi, 'DigitalId')) {
        for (const c of children(id, 'X509Certificate')) {
          const der = decodeBase64(text(c));
          if (der && certificateSubject(der) !== null) signers.push(der);
          else warnings.push(`pointer ${territory ?? '?'}: an X509Certificate is not a readable certificate`);
        }
      }
    }
    if (!territory) {
      warnings.push(`pointer ${location}: no SchemeTerritory; ignored`);
      continue;
    }
    out.push({ territory, location, mimeType, tslType, signers });
  }
  return out;
}

function certificateSubject(der: Uint8Array): string | null {
  try {
    return new x509.X509Certificate(der).subject;
  } catch {
    return null;
  }
}
