/**
 * Evidence files: what they are (by their bytes, never by name or the browser's media type), what they are
 * called on screen (a sanitised copy of the uploaded name) and where they live on disk (a random id under
 * `<dataDir>/evidence/<applicationId>/`, never derived from the uploaded name).
 *
 * Files are written before the database transaction (temporary name, then rename), with mode 0600, and
 * removed again when the transaction fails: the row and the file exist together or not at all.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';

export const CERTIFICATE_MAX_BYTES = 64 * 1024;
/** Hard cap whatever the questionnaire asks. */
export const EVIDENCE_MAX_BYTES = 10 * 1024 * 1024;

/** Media types recognised by their content. */
export function sniffMediaType(bytes: Uint8Array): string | null {
  const starts = (sig: number[]) => sig.every((b, i) => bytes[i] === b);
  if (starts([0x25, 0x50, 0x44, 0x46, 0x2d])) return 'application/pdf'; // %PDF-
  if (starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (starts([0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (isPlainText(bytes) && !looksLikeMarkup(bytes)) return 'text/plain';
  return null;
}

/** HTML, SVG or XML passed off as text: refused, so that no stored file can ever be rendered as a page. */
function looksLikeMarkup(bytes: Uint8Array): boolean {
  const head = Buffer.from(bytes.subarray(0, 512)).toString('utf8').replace(/^\ufeff/, '').trimStart().toLowerCase();
  return /^<(!doctype|html|head|body|script|svg|\?xml|iframe|meta|a\s)/.test(head);
}

/** Valid UTF-8 without NUL (a text file, not a binary one with a .txt name). */
export function isPlainText(bytes: Uint8Array): boolean {
  if (bytes.length === 0 || bytes.includes(0)) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/**
 * The uploaded name for display only: no directories, no control or bidi-override characters, at most
 * 100 characters (the extension kept when it fits). Empty results get a neutral name.
 */
export function sanitiseFileName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  // C0/C1 controls, DEL, and the bidi/zero-width characters used to disguise extensions.
  // eslint-disable-next-line no-control-regex
  let clean = base.replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g, '');
  clean = clean.replace(/["<>|:*?]/g, '_').replace(/\s+/g, ' ').trim();
  clean = clean.replace(/^\.+/, '').trim();
  if (clean === '') clean = 'file';
  const chars = [...clean];
  if (chars.length > 100) {
    const ext = /\.[A-Za-z0-9]{1,8}$/.exec(clean)?.[0] ?? '';
    clean = chars.slice(0, 100 - ext.length).join('') + ext;
  }
  return clean;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function evidenceDir(dataDir: string, applicationId: string): string {
  // Application ids are UUIDs we generate; the check keeps a corrupted id from ever becoming a path.
  if (!/^[0-9a-f-]{36}$/.test(applicationId)) throw new Error(`not an application id: ${applicationId}`);
  return path.join(dataDir, 'evidence', applicationId);
}

export function evidencePath(dataDir: string, applicationId: string, storedName: string): string {
  if (!/^[0-9a-f-]{36}$/.test(storedName)) throw new Error(`not a stored evidence name: ${storedName}`);
  return path.join(evidenceDir(dataDir, applicationId), storedName);
}

/** Writes the bytes under a fresh random name (temp file + rename, mode 0600) and returns that name. */
export async function writeEvidenceFile(dataDir: string, applicationId: string, bytes: Uint8Array): Promise<string> {
  const dir = evidenceDir(dataDir, applicationId);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const storedName = randomUUID();
  const tmp = path.join(dir, `.${storedName}.tmp`);
  const handle = await open(tmp, 'wx', 0o600);
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } catch (err) {
    await handle.close();
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await handle.close();
  await rename(tmp, path.join(dir, storedName));
  return storedName;
}

export async function removeEvidenceFile(dataDir: string, applicationId: string, storedName: string): Promise<void> {
  await unlink(evidencePath(dataDir, applicationId, storedName)).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
}
