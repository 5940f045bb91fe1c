/**
 * Name constraints, RFC 5280 §4.2.1.10 and §6.1.3 (b), (c), §6.1.4 (g). Each CA's permitted subtrees are
 * kept as one set (a name must fall in one subtree of its type from every set that has that type: the
 * intersection of §6.1.4 (g)(1)); excluded subtrees accumulate (the union of (g)(2)).
 *
 * Forms checked: directoryName, rfc822Name (and emailAddress in the subject DN when there is no SAN),
 * dNSName, uniformResourceIdentifier (its host) and iPAddress. A constraint of another form, or one with
 * minimum/maximum, can not be evaluated: a certificate carrying a name of that form then fails closed.
 */
import { BlockList, isIP } from 'node:net';
import type * as asn1x509 from '@peculiar/asn1-x509';
import type { ChainCert, Subtree } from './cert.js';
import { type NormName, isWithinSubtree, normalizeName } from './names.js';

type Form = 'dn' | 'email' | 'dns' | 'uri' | 'ip' | 'other' | 'x400' | 'edi' | 'rid';

interface TypedName {
  form: Form;
  dn?: NormName;
  text?: string;
  ip?: string;
}

export interface NameConstraintState {
  permitted: Map<Form, Subtree[]>[];
  excluded: Subtree[];
}

const id_emailAddress = '1.2.840.113549.1.9.1';

export function emptyNameConstraints(): NameConstraintState {
  return { permitted: [], excluded: [] };
}

function formOf(g: asn1x509.GeneralName): Form {
  if (g.directoryName) return 'dn';
  if (g.rfc822Name !== undefined) return 'email';
  if (g.dNSName !== undefined) return 'dns';
  if (g.uniformResourceIdentifier !== undefined) return 'uri';
  if (g.iPAddress !== undefined) return 'ip';
  if (g.otherName) return 'other';
  if (g.x400Address) return 'x400';
  if (g.ediPartyName) return 'edi';
  return 'rid';
}

/** §6.1.4 (g): adds a CA's constraints to the state. */
export function addNameConstraints(st: NameConstraintState, cert: ChainCert): void {
  const nc = cert.nameConstraints;
  if (!nc) return;
  if (nc.permitted.length > 0) {
    const byForm = new Map<Form, Subtree[]>();
    for (const s of nc.permitted) {
      const f = formOf(s.base);
      byForm.set(f, [...(byForm.get(f) ?? []), s]);
    }
    st.permitted.push(byForm);
  }
  st.excluded.push(...nc.excluded);
}


function namesOf(cert: ChainCert): TypedName[] {
  const out: TypedName[] = [];
  if (!cert.subject.empty) out.push({ form: 'dn', dn: cert.subject });
  if (cert.san === null) {
    // §4.2.1.10: without subjectAltName, rfc822Name constraints apply to emailAddress in the subject.
    for (const rdn of cert.subject.asn) {
      for (const atv of rdn) {
        if (atv.type !== id_emailAddress) continue;
        const v = atv.value.ia5String ?? atv.value.utf8String ?? atv.value.printableString;
        if (v !== undefined) out.push({ form: 'email', text: v });
      }
    }
  }
  for (const g of cert.san ?? []) {
    const form = formOf(g);
    if (form === 'dn' && g.directoryName) out.push({ form, dn: normalizeName(g.directoryName) });
    else if (form === 'email') out.push({ form, text: g.rfc822Name ?? '' });
    else if (form === 'dns') out.push({ form, text: g.dNSName ?? '' });
    else if (form === 'uri') out.push({ form, text: g.uniformResourceIdentifier ?? '' });
    else if (form === 'ip') {
      const ip = g.iPAddress ?? '';
      out.push(isIP(ip) ? { form, ip } : { form: 'other' });
    } else out.push({ form });
  }
  return out;
}

function dnsMatches(name: string, constraint: string): boolean {
  const n = name.toLowerCase().replace(/\.$/, '');
  const c = constraint.toLowerCase().replace(/\.$/, '');
  if (c === '') return true;
  if (c.startsWith('.')) return n.endsWith(c);
  return n === c || n.endsWith(`.${c}`);
}

function emailMatches(name: string, constraint: string): boolean {
  const at = name.lastIndexOf('@');
  if (at < 0) return false;
  const local = name.slice(0, at);
  const host = name.slice(at + 1).toLowerCase();
  if (constraint.includes('@')) {
    const cat = constraint.lastIndexOf('@');
    // The local part is case-sensitive, the host is not (RFC 5280 §7.5).
    return local === constraint.slice(0, cat) && host === constraint.slice(cat + 1).toLowerCase();
  }
  const c = constraint.toLowerCase();
  if (c.startsWith('.')) return host.endsWith(c);
  return host === c;
}

/** The host of a URI with an authority component (RFC 3986 §3.2.2), or null. */
function uriHost(uri: string): string | null {
  const m = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(uri);
  const authority = m?.[1];
  if (authority === undefined) return null;
  const hostPort = authority.slice(authority.lastIndexOf('@') + 1);
  if (hostPort.startsWith('[')) return null;
  const host = hostPort.replace(/:\d*$/, '');
  return host === '' ? null : host.toLowerCase();
}

function uriMatches(name: string, constraint: string): boolean {
  const host = uriHost(name);
  if (host === null) return false;
  const c = constraint.toLowerCase();
  if (c.startsWith('.')) return host.endsWith(c);
  return host === c;
}

/** The constraint arrives as "address/prefix" (@peculiar's rendering of address + mask octets). */
function ipMatches(ip: string, constraintText: string): boolean | null {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(constraintText);
  const addr = m?.[1];
  const prefix = Number(m?.[2]);
  if (addr === undefined) return null;
  const family = isIP(addr);
  if (family === 0 || family !== isIP(ip)) return family === 0 ? null : false;
  const type = family === 4 ? 'ipv4' : 'ipv6';
  try {
    const list = new BlockList();
    list.addSubnet(addr, prefix, type);
    return list.check(ip, type);
  } catch {
    return null;
  }
}

/** true / false, or null when this constraint can not be evaluated for this name. */
function matches(name: TypedName, s: Subtree): boolean | null {
  if (s.unsupported) return null;
  const g = s.base;
  switch (name.form) {
    case 'dn':
      return g.directoryName && name.dn ? isWithinSubtree(name.dn, normalizeName(g.directoryName)) : null;
    case 'email':
      return g.rfc822Name !== undefined ? emailMatches(name.text ?? '', g.rfc822Name) : null;
    case 'dns':
      return g.dNSName !== undefined ? dnsMatches(name.text ?? '', g.dNSName) : null;
    case 'uri':
      return g.uniformResourceIdentifier !== undefined ? uriMatches(name.text ?? '', g.uniformResourceIdentifier) : null;
    case 'ip':
      return g.iPAddress !== undefined && name.ip ? ipMatches(name.ip, g.iPAddress) : null;
    default:
      return null;
  }
}

function describe(n: TypedName): string {
  if (n.form === 'dn') return 'the subject name';
  if (n.form === 'ip') return 'an IP address';
  if (n.text !== undefined) return `the ${n.form === 'email' ? 'email address' : n.form === 'dns' ? 'DNS name' : 'URI'} "${n.text.slice(0, 200)}"`;
  return `a ${n.form} name`;
}

/**
 * §6.1.3 (b), (c): the names of `cert` against the accumulated constraints. Returns one sentence per
 * violation (empty when the names are allowed).
 */
export function checkNames(st: NameConstraintState, cert: ChainCert): string[] {
  if (st.permitted.length === 0 && st.excluded.length === 0) return [];
  const problems: string[] = [];
  const names = namesOf(cert);
  if (cert.san === null && cert.badExtensions.has('2.5.29.17')) {
    problems.push('its subjectAltName could not be decoded, so its names can not be checked');
  }
  for (const name of names) {
    for (const set of st.permitted) {
      const subtrees = set.get(name.form);
      if (!subtrees) continue;
      let ok = false;
      let unknown = false;
      for (const s of subtrees) {
        const m = matches(name, s);
        if (m === true) ok = true;
        if (m === null) unknown = true;
      }
      if (!ok) {
        problems.push(
          unknown
            ? `${describe(name)} can not be checked against a permitted-subtree constraint of a form this engine does not evaluate`
            : `${describe(name)} is outside the permitted subtrees`,
        );
      }
    }
    for (const s of st.excluded) {
      if (formOf(s.base) !== name.form) continue;
      const m = matches(name, s);
      if (m === true) problems.push(`${describe(name)} is inside an excluded subtree`);
      else if (m === null) problems.push(`${describe(name)} can not be checked against an excluded subtree`);
    }
  }
  return [...new Set(problems)];
}
