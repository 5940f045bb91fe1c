/**
 * certs/dev/ on disk: PEM certificates, PKCS#8 PEM keys (mode 0600), DER CRLs, the trusted list and the
 * pki.json manifest. The layout is documented in certs/README.md.
 */
import { webcrypto } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { PSD2_ROLE_NAMES } from '../eidas/types.js';
import { FINDING_CODES, type FindingCode } from '../eidas/findings.js';
import { x509 } from '../eidas/x509.js';
import type { CryptoKeyPair } from './builder.js';
import { REVOCATION_REASONS, type RevocationReason } from './crl.js';
import {
  type BadCert,
  CA_SLUGS,
  type CaSlug,
  type DevCa,
  type DevPartner,
  type DevPki,
  type IssuedCert,
  type IssuedEntry,
} from './generate.js';

export const MANIFEST_FILE = 'pki.json';
export const MANIFEST_FORMAT = 'open-banking-portal/devpki/1';
const MAX_FILE_BYTES = 1024 * 1024;

const caSlug = z.enum(CA_SLUGS as [CaSlug, ...CaSlug[]]);
const relPath = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[a-z0-9][a-z0-9._/-]*$/)
  .refine((p) => !p.split('/').includes('..'), 'path escapes the directory');
const serial = z.string().regex(/^[0-9a-f]{1,64}$/);
const isoTime = z.iso.datetime();

const fileRef = z.object({ cert: relPath, key: relPath, serial });
const manifestSchema = z.object({
  format: z.literal(MANIFEST_FORMAT),
  generatedAt: isoTime,
  responderBaseUrl: z.url({ protocol: /^https?$/ }),
  trustedList: relPath,
  cas: z
    .array(
      fileRef.extend({
        slug: caSlug,
        name: z.string().max(200),
        subject: z.string().max(1000),
        issuer: caSlug.nullable(),
        crl: relPath,
        trustedListService: z.enum(['ForWebSiteAuthentication', 'ForeSeals']).nullable(),
      }),
    )
    .length(CA_SLUGS.length),
  issued: z.record(
    caSlug,
    z
      .array(
        z.object({
          serial,
          subject: z.string().max(1000),
          file: relPath,
          status: z.enum(['good', 'revoked']),
          revokedAt: isoTime.optional(),
          reason: z.enum(REVOCATION_REASONS as [RevocationReason, ...RevocationReason[]]).optional(),
        }),
      )
      .max(1000),
  ),
  server: fileRef.extend({ chain: relPath, dns: z.array(z.string().max(253)), ip: z.array(z.string().max(45)) }),
  partners: z
    .array(
      z.object({
        slug: z.string().regex(/^[a-z0-9-]{1,63}$/),
        name: z.string().max(200),
        country: z.string().length(2),
        organizationIdentifier: z.string().max(200),
        ncaId: z.string().max(200),
        ncaName: z.string().max(200),
        roles: z.array(z.enum(PSD2_ROLE_NAMES)),
        dns: z.string().max(253),
        qwac: fileRef.extend({ chain: relPath }),
        qseal: fileRef,
      }),
    )
    .max(100),
  bad: z
    .array(
      fileRef.extend({
        name: z.string().regex(/^[a-z0-9-]{1,63}$/),
        description: z.string().max(1000),
        issuer: caSlug,
        validateAs: z.enum(['qwac', 'qseal']),
        expect: z.array(z.enum(FINDING_CODES as [FindingCode, ...FindingCode[]])),
      }),
    )
    .max(100),
});

export type DevPkiManifest = z.infer<typeof manifestSchema>;

/** PEM with a final newline, so that concatenated chain files stay valid PEM. */
function pemCert(cert: x509.X509Certificate): string {
  return `${cert.toString('pem').trimEnd()}\n`;
}

async function pemKey(keys: CryptoKeyPair): Promise<string> {
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return x509.PemConverter.encode(pkcs8, 'PRIVATE KEY');
}

function manifestOf(pki: DevPki): DevPkiManifest {
  const ref = (c: IssuedCert, stem: string) => ({ cert: `${stem}.pem`, key: `${stem}.key`, serial: c.cert.serialNumber });
  return {
    format: MANIFEST_FORMAT,
    generatedAt: pki.generatedAt.toISOString(),
    responderBaseUrl: pki.responderBaseUrl,
    trustedList: 'trusted-list.xml',
    cas: CA_SLUGS.map((slug) => {
      const ca = pki.cas[slug];
      return {
        ...ref(ca, `ca/${slug}`),
        slug,
        name: ca.name,
        subject: ca.cert.subject,
        issuer: ca.issuer,
        crl: `crl/${slug}.crl`,
        trustedListService: ca.trustedListService,
      };
    }),
    issued: Object.fromEntries(
      CA_SLUGS.map((slug) => [
        slug,
        pki.issued[slug].map((e) => ({
          serial: e.serial,
          subject: e.subject,
          file: e.file,
          status: e.status,
          ...(e.revokedAt ? { revokedAt: e.revokedAt.toISOString() } : {}),
          ...(e.reason ? { reason: e.reason } : {}),
        })),
      ]),
    ) as DevPkiManifest['issued'],
    server: { ...ref(pki.server, 'server/server'), chain: 'server/chain.pem', dns: pki.server.dns, ip: pki.server.ip },
    partners: pki.partners.map((p) => ({
      slug: p.slug,
      name: p.name,
      country: p.country,
      organizationIdentifier: p.organizationIdentifier,
      ncaId: p.ncaId,
      ncaName: p.ncaName,
      roles: p.roles,
      dns: p.dns,
      qwac: { ...ref(p.qwac, `partners/${p.slug}/qwac`), chain: `partners/${p.slug}/qwac-chain.pem` },
      qseal: ref(p.qseal, `partners/${p.slug}/qseal`),
    })),
    bad: pki.bad.map((b) => ({
      ...ref(b, `bad/${b.name}`),
      name: b.name,
      description: b.description,
      issuer: b.issuer,
      validateAs: b.validateAs,
      expect: b.expect,
    })),
  };
}

/** Writes the dev PKI under `dir` (created if missing; existing files are overwritten). */
export async function writeDevPki(pki: DevPki, dir: string): Promise<void> {
  const root = path.resolve(dir);
  const manifest = manifestOf(pki);
  const put = async (rel: string, data: string | Uint8Array, mode = 0o644) => {
    const file = path.join(root, rel);
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    await writeFile(file, data, { mode });
    // writeFile's mode applies only when it creates the file.
    await chmod(file, mode);
  };
  const putPair = async (ref: { cert: string; key: string }, c: IssuedCert) => {
    await put(ref.cert, pemCert(c.cert));
    await put(ref.key, await pemKey(c.keys), 0o600);
  };

  for (const [i, slug] of CA_SLUGS.entries()) {
    const ref = manifest.cas[i]!;
    await putPair(ref, pki.cas[slug]);
    await put(ref.crl, pki.crls[slug]);
  }
  await putPair(manifest.server, pki.server);
  await put(manifest.server.chain, pemCert(pki.server.cert) + pemCert(pki.cas['qwac-ca'].cert));
  for (const [i, p] of pki.partners.entries()) {
    const ref = manifest.partners[i]!;
    await putPair(ref.qwac, p.qwac);
    await put(ref.qwac.chain, pemCert(p.qwac.cert) + pemCert(pki.cas['qwac-ca'].cert));
    await putPair(ref.qseal, p.qseal);
  }
  for (const [i, b] of pki.bad.entries()) await putPair(manifest.bad[i]!, b);
  await put(manifest.trustedList, pki.trustedListXml);
  // Written last: its presence means the directory is complete (ensureDevPki keys on it).
  await put(MANIFEST_FILE, `${JSON.stringify(manifest, null, 2)}\n`);
}

async function readBounded(root: string, rel: string): Promise<Buffer> {
  const file = path.resolve(root, rel);
  if (!file.startsWith(root + path.sep)) throw new Error(`dev PKI manifest path escapes ${root}: ${rel}`);
  const data = await readFile(file);
  if (data.length > MAX_FILE_BYTES) throw new Error(`dev PKI file too large: ${rel}`);
  return data;
}

async function importKeys(cert: x509.X509Certificate, pem: string): Promise<CryptoKeyPair> {
  const pkcs8 = x509.PemConverter.decodeFirst(pem);
  const spkiAlg = cert.publicKey.algorithm as { name: string; namedCurve?: string };
  const alg =
    spkiAlg.name === 'ECDSA'
      ? { name: 'ECDSA', namedCurve: spkiAlg.namedCurve ?? 'P-256' }
      : { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  const privateKey = await webcrypto.subtle.importKey('pkcs8', pkcs8, alg, true, ['sign']);
  const publicKey = await cert.publicKey.export(alg, ['verify'], webcrypto as unknown as Parameters<x509.PublicKey['export']>[2]);
  return { privateKey, publicKey: publicKey as unknown as CryptoKeyPair['publicKey'] };
}

/** Reads a dev PKI written by writeDevPki. Throws with a clear message when the directory is incomplete. */
export async function loadDevPki(dir: string): Promise<DevPki> {
  const root = path.resolve(dir);
  const raw = await readBounded(root, MANIFEST_FILE);
  const parsed = manifestSchema.safeParse(JSON.parse(raw.toString('utf8')));
  if (!parsed.success) throw new Error(`invalid ${path.join(root, MANIFEST_FILE)}: ${parsed.error.message}`);
  const m = parsed.data;

  const pair = async (ref: { cert: string; key: string; serial: string }): Promise<IssuedCert> => {
    const cert = new x509.X509Certificate((await readBounded(root, ref.cert)).toString('utf8'));
    if (cert.serialNumber !== ref.serial) throw new Error(`${ref.cert} does not match the manifest serial`);
    const keys = await importKeys(cert, (await readBounded(root, ref.key)).toString('utf8'));
    return { cert, keys };
  };

  const cas = {} as Record<CaSlug, DevCa>;
  const crls = {} as Record<CaSlug, Uint8Array>;
  for (const c of m.cas) {
    cas[c.slug] = { ...(await pair(c)), slug: c.slug, name: c.name, issuer: c.issuer, trustedListService: c.trustedListService };
    crls[c.slug] = new Uint8Array(await readBounded(root, c.crl));
  }
  for (const slug of CA_SLUGS) if (!cas[slug]) throw new Error(`dev PKI manifest lacks CA ${slug}`);

  const issued = {} as Record<CaSlug, IssuedEntry[]>;
  for (const slug of CA_SLUGS) {
    issued[slug] = (m.issued[slug] ?? []).map((e) => {
      const entry: IssuedEntry = { serial: e.serial, subject: e.subject, file: e.file, status: e.status };
      if (e.revokedAt) entry.revokedAt = new Date(e.revokedAt);
      if (e.reason) entry.reason = e.reason;
      return entry;
    });
  }

  const partners: DevPartner[] = [];
  for (const p of m.partners) {
    partners.push({
      slug: p.slug,
      name: p.name,
      country: p.country,
      organizationIdentifier: p.organizationIdentifier,
      ncaId: p.ncaId,
      ncaName: p.ncaName,
      roles: p.roles,
      dns: p.dns,
      qwac: await pair(p.qwac),
      qseal: await pair(p.qseal),
    });
  }
  const bad: BadCert[] = [];
  for (const b of m.bad) {
    bad.push({
      ...(await pair(b)),
      name: b.name,
      description: b.description,
      issuer: b.issuer,
      validateAs: b.validateAs,
      expect: b.expect,
    });
  }

  return {
    generatedAt: new Date(m.generatedAt),
    responderBaseUrl: m.responderBaseUrl,
    cas,
    server: { ...(await pair(m.server)), dns: m.server.dns, ip: m.server.ip },
    partners,
    bad,
    issued,
    crls,
    trustedListXml: (await readBounded(root, m.trustedList)).toString('utf8'),
  };
}
