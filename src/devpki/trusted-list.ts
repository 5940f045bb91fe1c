/**
 * An unsigned trusted list in the shape of ETSI TS 119 612 v2.x (TSL version 5) naming the dev QTSP's
 * issuing CAs as CA/QC services. Built as a DOM and serialized, never by string concatenation.
 */
import { DOMImplementation, type Document, type Element, XMLSerializer } from '@xmldom/xmldom';
import type { x509 } from '../eidas/x509.js';

const TSL_NS = 'http://uri.etsi.org/02231/v2#';
const XML_NS = 'http://www.w3.org/XML/1998/namespace';
const URI_BASE = 'http://uri.etsi.org/TrstSvc';

export interface TrustedListService {
  name: string;
  cert: x509.X509Certificate;
  statusStartingTime: Date;
  /** TS 119 612 §5.5.9.4 AdditionalServiceInformation for the qualified certificate type. */
  additionalServiceInformation: 'ForWebSiteAuthentication' | 'ForeSeals' | 'ForeSignatures';
}

export interface TrustedListSpec {
  operator: string;
  tspName: string;
  /** 'ZZ' unless told otherwise: a user-assigned code, no real Member State. */
  territory?: string;
  sequenceNumber?: number;
  issued: Date;
  nextUpdate: Date;
  services: TrustedListService[];
}

/** TS 119 612 dateTime values are UTC without fractional seconds. */
function xmlTime(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function buildTrustedList(spec: TrustedListSpec): string {
  const doc: Document = new DOMImplementation().createDocument(TSL_NS, 'TrustServiceStatusList', null);
  const rootEl = doc.documentElement;
  if (!rootEl) throw new Error('could not create the trusted list document');
  rootEl.setAttribute('Id', 'TrustServiceStatusList-1');
  rootEl.setAttribute('TSLTag', 'http://uri.etsi.org/19612/TSLTag');

  const el = (parent: Element, name: string, text?: string, lang?: string): Element => {
    const child = doc.createElementNS(TSL_NS, name);
    if (lang !== undefined) child.setAttributeNS(XML_NS, 'xml:lang', lang);
    if (text !== undefined) child.appendChild(doc.createTextNode(text));
    parent.appendChild(child);
    return child;
  };
  const names = (parent: Element, wrapper: string, value: string) => el(el(parent, wrapper), 'Name', value, 'en');
  const territory = spec.territory ?? 'ZZ';

  const si = el(rootEl, 'SchemeInformation');
  el(si, 'TSLVersionIdentifier', '5');
  el(si, 'TSLSequenceNumber', String(spec.sequenceNumber ?? 1));
  el(si, 'TSLType', `${URI_BASE}/TrustedList/TSLType/EUgeneric`);
  names(si, 'SchemeOperatorName', spec.operator);
  const opAddr = el(si, 'SchemeOperatorAddress');
  const opPostal = el(el(opAddr, 'PostalAddresses'), 'PostalAddress', undefined, 'en');
  el(opPostal, 'StreetAddress', '1 Loopback Street');
  el(opPostal, 'Locality', 'Localhost');
  el(opPostal, 'CountryName', territory);
  el(el(opAddr, 'ElectronicAddress'), 'URI', 'mailto:pki@dev-qtsp.test', 'en');
  names(si, 'SchemeName', `${territory}:Development trusted list of the open banking portal (not a real trusted list)`);
  el(el(si, 'SchemeInformationURI'), 'URI', 'https://pki.dev-qtsp.test/tl', 'en');
  el(si, 'StatusDeterminationApproach', `${URI_BASE}/TrustedList/StatusDetn/EUappropriate`);
  el(el(si, 'SchemeTypeCommunityRules'), 'URI', `${URI_BASE}/TrustedList/schemerules/EUcommon`, 'en');
  el(si, 'SchemeTerritory', territory);
  el(
    el(si, 'PolicyOrLegalNotice'),
    'TSLLegalNotice',
    'Development use only. This list is unsigned and names test CAs of a local dev PKI.',
    'en',
  );
  el(si, 'HistoricalInformationPeriod', '65535');
  el(si, 'ListIssueDateTime', xmlTime(spec.issued));
  el(el(si, 'NextUpdate'), 'dateTime', xmlTime(spec.nextUpdate));

  const tsp = el(el(rootEl, 'TrustServiceProviderList'), 'TrustServiceProvider');
  const info = el(tsp, 'TSPInformation');
  names(info, 'TSPName', spec.tspName);
  names(info, 'TSPTradeName', `NTR${territory}-000001`);
  const tspAddr = el(info, 'TSPAddress');
  const tspPostal = el(el(tspAddr, 'PostalAddresses'), 'PostalAddress', undefined, 'en');
  el(tspPostal, 'StreetAddress', '1 Loopback Street');
  el(tspPostal, 'Locality', 'Localhost');
  el(tspPostal, 'CountryName', territory);
  el(el(tspAddr, 'ElectronicAddress'), 'URI', 'mailto:pki@dev-qtsp.test', 'en');
  el(el(info, 'TSPInformationURI'), 'URI', 'https://pki.dev-qtsp.test/', 'en');

  const services = el(tsp, 'TSPServices');
  for (const s of spec.services) {
    const svc = el(el(services, 'TSPService'), 'ServiceInformation');
    el(svc, 'ServiceTypeIdentifier', `${URI_BASE}/Svctype/CA/QC`);
    names(svc, 'ServiceName', s.name);
    const digitalId = el(el(svc, 'ServiceDigitalIdentity'), 'DigitalId');
    el(digitalId, 'X509Certificate', Buffer.from(s.cert.rawData).toString('base64'));
    el(svc, 'ServiceStatus', `${URI_BASE}/TrustedList/Svcstatus/granted`);
    el(svc, 'StatusStartingTime', xmlTime(s.statusStartingTime));
    const ext = el(el(svc, 'ServiceInformationExtensions'), 'Extension');
    ext.setAttribute('Critical', 'true');
    el(
      el(ext, 'AdditionalServiceInformation'),
      'URI',
      `${URI_BASE}/TrustedList/SvcInfoExt/${s.additionalServiceInformation}`,
      'en',
    );
  }

  indent(doc, rootEl, 0);
  return `<?xml version="1.0" encoding="UTF-8"?>\n${new XMLSerializer().serializeToString(doc)}\n`;
}

/** Whitespace text nodes between elements so the file is readable. */
function indent(doc: Document, node: Element, depth: number): void {
  const children: Element[] = [];
  for (let c = node.firstChild; c !== null; c = c.nextSibling) {
    if (c.nodeType === c.ELEMENT_NODE) children.push(c as Element);
  }
  if (children.length === 0) return;
  for (const child of children) {
    node.insertBefore(doc.createTextNode(`\n${'  '.repeat(depth + 1)}`), child);
    indent(doc, child, depth + 1);
  }
  node.appendChild(doc.createTextNode(`\n${'  '.repeat(depth)}`));
}
