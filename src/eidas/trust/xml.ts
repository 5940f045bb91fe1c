/**
 * Hardened XML reading for trusted lists: bounded size and depth, UTF-8 only, no DTD at all (so no external
 * entities and no entity expansion), namespace-aware element access.
 */
import { DOMParser, type Document, type Element, type Node } from '@xmldom/xmldom';
import { TrustedListError } from './types.js';

export const MAX_TL_BYTES = 20 * 1024 * 1024;
/** Real lists nest about 12 levels (the signature about 10); c14n recursion must stay shallow. */
export const MAX_XML_DEPTH = 64;

export const NS = {
  tsl: 'http://uri.etsi.org/02231/v2#',
  tslx: 'http://uri.etsi.org/02231/v2/additionaltypes#',
  ds: 'http://www.w3.org/2000/09/xmldsig#',
  xades132: 'http://uri.etsi.org/01903/v1.3.2#',
  xml: 'http://www.w3.org/XML/1998/namespace',
} as const;

const ELEMENT_NODE = 1;

/** Decodes the input as UTF-8 (TS 119 612 §6.1: the list is UTF-8), refusing oversize input early. */
export function decodeXml(input: Uint8Array | string, source?: string): string {
  let text: string;
  if (typeof input === 'string') {
    // A UTF-16 length above the bound means at least as many UTF-8 bytes.
    if (input.length > MAX_TL_BYTES || Buffer.byteLength(input, 'utf8') > MAX_TL_BYTES) {
      throw new TrustedListError('tl.malformed', `the list exceeds ${MAX_TL_BYTES} bytes`, source);
    }
    text = input;
  } else {
    if (input.byteLength > MAX_TL_BYTES) {
      throw new TrustedListError('tl.malformed', `the list exceeds ${MAX_TL_BYTES} bytes`, source);
    }
    try {
      text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(input);
    } catch {
      throw new TrustedListError('tl.malformed', 'the list is not valid UTF-8', source);
    }
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return text;
}

/**
 * Parses a trusted list. Any DOCTYPE or ENTITY declaration is refused before parsing: a TS 119 612 list
 * (an XSD-described document) never has one, and refusing it is what stops XXE and entity-expansion bombs.
 */
export function parseXml(input: Uint8Array | string, source?: string): Document {
  const text = decodeXml(input, source);
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) {
    throw new TrustedListError(
      'tl.malformed',
      'the XML has a DOCTYPE/ENTITY declaration; trusted lists never do, and it is refused (external entities, entity expansion)',
      source,
    );
  }
  const decl = /^<\?xml[^>]*?encoding\s*=\s*["']([^"']+)["']/.exec(text);
  if (decl?.[1] && !/^utf-?8$/i.test(decl[1])) {
    throw new TrustedListError('tl.unsupported', `the XML declares encoding ${decl[1]}; only UTF-8 is read`, source);
  }
  let doc: Document;
  try {
    doc = new DOMParser({
      onError: (level, message) => {
        if (level !== 'warning') throw new Error(message);
      },
    }).parseFromString(text, 'application/xml');
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new TrustedListError('tl.malformed', `not well-formed XML: ${msg.slice(0, 300)}`, source);
  }
  if (doc.doctype) throw new TrustedListError('tl.malformed', 'the XML has a DOCTYPE', source);
  const root = doc.documentElement;
  if (!root) throw new TrustedListError('tl.malformed', 'the XML has no root element', source);
  if (depthOf(root) > MAX_XML_DEPTH) {
    throw new TrustedListError('tl.malformed', `elements nest deeper than ${MAX_XML_DEPTH} levels`, source);
  }
  return doc;
}

/** Iterative, so a hostile document cannot exhaust the stack here. */
function depthOf(root: Element): number {
  let max = 0;
  const stack: [Node, number][] = [[root, 1]];
  while (stack.length) {
    const [node, depth] = stack.pop()!;
    if (depth > max) max = depth;
    if (max > MAX_XML_DEPTH) return max;
    for (let c = node.firstChild; c; c = c.nextSibling) {
      if (c.nodeType === ELEMENT_NODE) stack.push([c, depth + 1]);
    }
  }
  return max;
}

export function isElement(n: Node | null | undefined): n is Element {
  return !!n && n.nodeType === ELEMENT_NODE;
}

/** Child elements `ns:name` of `el` (direct children only). */
export function children(el: Element | null | undefined, name: string, ns: string = NS.tsl): Element[] {
  const out: Element[] = [];
  if (!el) return out;
  for (let c = el.firstChild; c; c = c.nextSibling) {
    if (isElement(c) && c.localName === name && c.namespaceURI === ns) out.push(c);
  }
  return out;
}

export function child(el: Element | null | undefined, name: string, ns: string = NS.tsl): Element | null {
  if (!el) return null;
  for (let c = el.firstChild; c; c = c.nextSibling) {
    if (isElement(c) && c.localName === name && c.namespaceURI === ns) return c;
  }
  return null;
}

/** Follows a path of child names in the TSL namespace. */
export function path(el: Element | null | undefined, ...names: string[]): Element | null {
  let cur = el ?? null;
  for (const n of names) cur = child(cur, n);
  return cur;
}

export function text(el: Element | null | undefined): string | null {
  if (!el) return null;
  const t = (el.textContent ?? '').trim();
  return t === '' ? null : t;
}

/** A multilingual name (TS 119 612 §5.1.4): the English one, else the first. */
export function multiLangName(el: Element | null | undefined): string | null {
  const names = children(el, 'Name');
  const en = names.find((n) => n.getAttributeNS(NS.xml, 'lang')?.toLowerCase() === 'en');
  return text(en ?? names[0]);
}

const XS_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})?$/;

/** xs:dateTime; TS 119 612 §5.1.3 requires UTC, so a missing zone is read as UTC. */
export function parseDateTime(s: string | null): Date | null {
  if (!s || !XS_DATETIME.test(s)) return null;
  const d = new Date(/(Z|[+-]\d{2}:\d{2})$/.test(s) ? s : `${s}Z`);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** Strict base64 (whitespace allowed between groups); null when not base64. */
export function decodeBase64(s: string | null): Uint8Array | null {
  if (!s) return null;
  const compact = s.replace(/\s+/g, '');
  if (compact.length === 0 || compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) return null;
  return new Uint8Array(Buffer.from(compact, 'base64'));
}
