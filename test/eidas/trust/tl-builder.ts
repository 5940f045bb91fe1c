/**
 * Builds small TS 119 612 lists and signs them the way real lists are signed (enveloped XAdES, exc-c14n),
 * so signature rules and history handling can be tested with keys made at test time.
 */
import { createHash, webcrypto } from 'node:crypto';
import { DOMParser, type Element, XMLSerializer } from '@xmldom/xmldom';
import * as xmldsig from 'xmldsigjs';
import { x509 } from '../../../src/eidas/x509.js';

const TSL = 'http://uri.etsi.org/02231/v2#';
const DS = 'http://www.w3.org/2000/09/xmldsig#';
const XADES = 'http://uri.etsi.org/01903/v1.3.2#';
const EXC = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const ENV = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';
const SHA256 = 'http://www.w3.org/2001/04/xmlenc#sha256';
const ECDSA256 = 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256';
export const STATUS = (s: string) => `http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/${s}`;
export const CA_QC = 'http://uri.etsi.org/TrstSvc/Svctype/CA/QC';
const ASI: Record<string, string> = {
  web: 'http://uri.etsi.org/TrstSvc/TrustedList/SvcInfoExt/ForWebSiteAuthentication',
  eseal: 'http://uri.etsi.org/TrstSvc/TrustedList/SvcInfoExt/ForeSeals',
  esign: 'http://uri.etsi.org/TrstSvc/TrustedList/SvcInfoExt/ForeSignatures',
};

export interface Instance {
  status: string;
  start: string;
  qualifiers?: ('web' | 'eseal' | 'esign')[];
}
export interface ServiceSpec extends Instance {
  name: string;
  type?: string;
  certs: Uint8Array[];
  history?: Instance[];
}
export interface ListSpec {
  territory: string;
  seq?: number;
  version?: number;
  issued?: string;
  nextUpdate?: string | null;
  lotl?: boolean;
  tspName?: string;
  services?: ServiceSpec[];
  pointers?: { territory: string; signers: Uint8Array[] }[];
}

const b64 = (b: Uint8Array | ArrayBuffer) => Buffer.from(b instanceof ArrayBuffer ? new Uint8Array(b) : b).toString('base64');

function extensions(q: Instance['qualifiers']): string {
  if (!q?.length) return '';
  const uris = q.map((k) => `<AdditionalServiceInformation><URI xml:lang="en">${ASI[k]}</URI></AdditionalServiceInformation>`);
  return `<ServiceInformationExtensions>${uris.map((u) => `<Extension Critical="false">${u}</Extension>`).join('')}</ServiceInformationExtensions>`;
}

function service(s: ServiceSpec): string {
  const ids = s.certs.map((c) => `<DigitalId><X509Certificate>${b64(c)}</X509Certificate></DigitalId>`).join('');
  const history = (s.history ?? [])
    .map(
      (h) =>
        `<ServiceHistoryInstance><ServiceTypeIdentifier>${s.type ?? CA_QC}</ServiceTypeIdentifier><ServiceName><Name xml:lang="en">${s.name}</Name></ServiceName><ServiceDigitalIdentity/><ServiceStatus>${STATUS(h.status)}</ServiceStatus><StatusStartingTime>${h.start}</StatusStartingTime>${extensions(h.qualifiers)}</ServiceHistoryInstance>`,
    )
    .join('');
  return `<TSPService><ServiceInformation><ServiceTypeIdentifier>${s.type ?? CA_QC}</ServiceTypeIdentifier><ServiceName><Name xml:lang="de">Dienst</Name><Name xml:lang="en">${s.name}</Name></ServiceName><ServiceDigitalIdentity>${ids}</ServiceDigitalIdentity><ServiceStatus>${STATUS(s.status)}</ServiceStatus><StatusStartingTime>${s.start}</StatusStartingTime>${extensions(s.qualifiers)}</ServiceInformation>${history ? `<ServiceHistory>${history}</ServiceHistory>` : ''}</TSPService>`;
}

export function buildList(spec: ListSpec): string {
  const type = spec.lotl
    ? 'http://uri.etsi.org/TrstSvc/TrustedList/TSLType/EUlistofthelists'
    : 'http://uri.etsi.org/TrstSvc/TrustedList/TSLType/EUgeneric';
  const pointers = (spec.pointers ?? [])
    .map(
      (p) =>
        `<OtherTSLPointer><ServiceDigitalIdentities>${p.signers.map((c) => `<ServiceDigitalIdentity><DigitalId><X509Certificate>${b64(c)}</X509Certificate></DigitalId></ServiceDigitalIdentity>`).join('')}</ServiceDigitalIdentities><TSLLocation>https://tl.example/${p.territory}.xml</TSLLocation><AdditionalInformation><OtherInformation><TSLType>http://uri.etsi.org/TrstSvc/TrustedList/TSLType/EUgeneric</TSLType></OtherInformation><OtherInformation><SchemeTerritory>${p.territory}</SchemeTerritory></OtherInformation><OtherInformation><ns3:MimeType xmlns:ns3="http://uri.etsi.org/02231/v2/additionaltypes#">application/vnd.etsi.tsl+xml</ns3:MimeType></OtherInformation></AdditionalInformation></OtherTSLPointer>`,
    )
    .join('');
  const next = spec.nextUpdate === null ? '<NextUpdate/>' : `<NextUpdate><dateTime>${spec.nextUpdate ?? '2030-01-01T00:00:00Z'}</dateTime></NextUpdate>`;
  const tsps = spec.services
    ? `<TrustServiceProviderList><TrustServiceProvider><TSPInformation><TSPName><Name xml:lang="en">${spec.tspName ?? 'Test QTSP'}</Name></TSPName></TSPInformation><TSPServices>${spec.services.map(service).join('')}</TSPServices></TrustServiceProvider></TrustServiceProviderList>`
    : '';
  return `<?xml version="1.0" encoding="UTF-8"?><TrustServiceStatusList xmlns="${TSL}" Id="TSL-${spec.territory}" TSLTag="http://uri.etsi.org/19612/TSLTag"><SchemeInformation><TSLVersionIdentifier>${spec.version ?? 5}</TSLVersionIdentifier><TSLSequenceNumber>${spec.seq ?? 1}</TSLSequenceNumber><TSLType>${type}</TSLType><SchemeTerritory>${spec.territory}</SchemeTerritory>${pointers ? `<PointersToOtherTSL>${pointers}</PointersToOtherTSL>` : ''}<ListIssueDateTime>${spec.issued ?? '2020-01-01T00:00:00Z'}</ListIssueDateTime>${next}</SchemeInformation>${tsps}</TrustServiceStatusList>`;
}

export interface Signer {
  keys: webcrypto.CryptoKeyPair;
  cert: x509.X509Certificate;
  der: Uint8Array;
}

export async function makeSigner(cn: string): Promise<Signer> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: `CN=${cn}, C=ZZ`,
    notBefore: new Date('2019-01-01T00:00:00Z'),
    notAfter: new Date('2035-01-01T00:00:00Z'),
    keys,
    signingAlgorithm: alg,
    extensions: [new x509.BasicConstraintsExtension(true, undefined, true)],
  });
  return { keys, cert, der: new Uint8Array(cert.rawData) };
}

function c14n(el: Element): string {
  const t = new xmldsig.XmlDsigExcC14NTransform();
  t.LoadInnerXml(el as never);
  return t.GetOutput() as string;
}

/**
 * Signs `xml` like a trusted-list operator. `uri: 'id'` references the root by Id instead of "".
 * `signingCertDigestOf` puts another certificate's digest in SigningCertificateV2.
 */
export async function signList(
  xml: string,
  signer: Signer,
  opts: { uri?: '' | 'id'; signingCertDigestOf?: Uint8Array; keyInfo?: boolean } = {},
): Promise<string> {
  const doc = new DOMParser().parseFromString(xml, 'application/xml');
  const root = doc.documentElement!;
  const refUri = opts.uri === 'id' ? `#${root.getAttribute('Id')}` : '';
  const certDigest = createHash('sha256')
    .update(opts.signingCertDigestOf ?? signer.der)
    .digest('base64');
  const keyInfo =
    opts.keyInfo === false ? '' : `<ds:KeyInfo><ds:X509Data><ds:X509Certificate>${b64(signer.der)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>`;
  const sigXml =
    `<ds:Signature xmlns:ds="${DS}" Id="sig-1"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="${EXC}"/><ds:SignatureMethod Algorithm="${ECDSA256}"/>` +
    `<ds:Reference URI="${refUri}"><ds:Transforms><ds:Transform Algorithm="${ENV}"/><ds:Transform Algorithm="${EXC}"/></ds:Transforms><ds:DigestMethod Algorithm="${SHA256}"/><ds:DigestValue/></ds:Reference>` +
    `<ds:Reference Type="http://uri.etsi.org/01903#SignedProperties" URI="#xades-sig-1"><ds:Transforms><ds:Transform Algorithm="${EXC}"/></ds:Transforms><ds:DigestMethod Algorithm="${SHA256}"/><ds:DigestValue/></ds:Reference>` +
    `</ds:SignedInfo><ds:SignatureValue/>${keyInfo}<ds:Object><xades:QualifyingProperties xmlns:xades="${XADES}" Target="#sig-1"><xades:SignedProperties Id="xades-sig-1"><xades:SignedSignatureProperties><xades:SigningTime>2020-01-01T00:00:00Z</xades:SigningTime><xades:SigningCertificateV2><xades:Cert><xades:CertDigest><ds:DigestMethod Algorithm="${SHA256}"/><ds:DigestValue>${certDigest}</ds:DigestValue></xades:CertDigest></xades:Cert></xades:SigningCertificateV2></xades:SignedSignatureProperties></xades:SignedProperties></xades:QualifyingProperties></ds:Object></ds:Signature>`;
  const sigDoc = new DOMParser().parseFromString(sigXml, 'application/xml');
  const sig = doc.importNode(sigDoc.documentElement!, true) as Element;

  // Digest of the list without the signature (enveloped transform), then of SignedProperties in place.
  const listDigest = createHash('sha256').update(c14n(root.cloneNode(true) as Element)).digest('base64');
  root.appendChild(sig);
  const digests = sig.getElementsByTagNameNS(DS, 'DigestValue');
  digests.item(0)!.appendChild(doc.createTextNode(listDigest));
  const props = sig.getElementsByTagNameNS(XADES, 'SignedProperties').item(0)!;
  digests.item(1)!.appendChild(doc.createTextNode(createHash('sha256').update(c14n(props)).digest('base64')));

  const signedInfo = sig.getElementsByTagNameNS(DS, 'SignedInfo').item(0)!;
  const value = await webcrypto.subtle.sign(
    { name: 'ECDSA', hash: 'SHA-256' },
    signer.keys.privateKey,
    Buffer.from(c14n(signedInfo), 'utf8'),
  );
  sig.getElementsByTagNameNS(DS, 'SignatureValue').item(0)!.appendChild(doc.createTextNode(b64(value)));
  return new XMLSerializer().serializeToString(doc);
}
