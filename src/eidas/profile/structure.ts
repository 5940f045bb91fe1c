/**
 * Certificate-level structure: CT pre-certificates, duplicate extensions, extensions that do not decode.
 */
import { ct_precert_poison } from '../oids.js';
import type { ProfileCheck } from './context.js';
import { report } from './context.js';

/** RFC 6962 §3.1: the poison extension marks a pre-certificate, never usable as a certificate. */
export const precertificate: ProfileCheck = (cert, ctx) =>
  cert.extensions.some((e) => e.oid === ct_precert_poison)
    ? [
        report(
          ctx,
          'precertificate',
          'This is a Certificate Transparency pre-certificate: it carries the CT poison extension (1.3.6.1.4.1.11129.2.4.3).',
        ),
      ]
    : [];

/** RFC 5280 §4.2: "A certificate MUST NOT include more than one instance of a particular extension." */
export const duplicateExtensions: ProfileCheck = (cert, ctx) => {
  const counts = new Map<string, number>();
  for (const e of cert.extensions) counts.set(e.oid, (counts.get(e.oid) ?? 0) + 1);
  const dups = [...counts].filter(([, n]) => n > 1);
  if (dups.length === 0) return [];
  const list = dups.map(([oid, n]) => `${oid} (${n} times)`).join(', ');
  return [report(ctx, 'extension.duplicate', `These extensions appear more than once: ${list}.`)];
};

/** RFC 5280 §4.2.1: an extension this engine reads must follow its ASN.1 syntax. */
export const extensionSyntax: ProfileCheck = (cert, ctx) =>
  cert.extensionErrors.length > 0
    ? [report(ctx, 'malformed', cert.extensionErrors.map((e) => e.message).join(' '))]
    : [];
