/**
 * Reads the NCA/EBA register source the monitor re-imports: a local file or an https URL. Bounded in size and
 * time; any failure is a `RegisterSourceError` that the monitor turns into an alert (never a suspension: UK
 * guidance is not to cut TPPs off because a directory is down).
 */
import { open } from 'node:fs/promises';
import { MAX_REGISTER_BYTES } from '../register/eba.js';

export class RegisterSourceError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RegisterSourceError';
  }
}

export interface SourceOptions {
  maxBytes?: number;
  timeoutMs?: number;
  /** For tests and proxies; defaults to the global fetch. */
  fetch?: typeof fetch;
}

export type RegisterSourceReader = (source: string) => Promise<Buffer>;

export function isUrlSource(source: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(source);
}

export function createRegisterSourceReader(opts: SourceOptions = {}): RegisterSourceReader {
  const maxBytes = opts.maxBytes ?? MAX_REGISTER_BYTES;
  const timeoutMs = opts.timeoutMs ?? 60_000;
  return async (source) => (isUrlSource(source) ? readUrl(source) : readFile(source));

  async function readFile(file: string): Promise<Buffer> {
    let handle;
    try {
      handle = await open(file, 'r');
    } catch (err) {
      throw new RegisterSourceError(`the register file ${file} cannot be opened (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { cause: err });
    }
    try {
      const stat = await handle.stat();
      if (!stat.isFile()) throw new RegisterSourceError(`the register source ${file} is not a file`);
      if (stat.size > maxBytes) throw new RegisterSourceError(`the register file ${file} is larger than ${maxBytes} bytes`);
      return await handle.readFile();
    } catch (err) {
      if (err instanceof RegisterSourceError) throw err;
      throw new RegisterSourceError(`the register file ${file} cannot be read`, { cause: err });
    } finally {
      await handle.close();
    }
  }

  async function readUrl(url: string): Promise<Buffer> {
    if (!url.toLowerCase().startsWith('https://')) throw new RegisterSourceError('the register URL must use https');
    const doFetch = opts.fetch ?? fetch;
    let res: Response;
    try {
      // No redirects: the configured URL is the source we vouch for, not wherever it points next.
      res = await doFetch(url, { redirect: 'error', signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
    } catch (err) {
      throw new RegisterSourceError(`the register URL ${url} cannot be reached (${(err as Error).name})`, { cause: err });
    }
    if (!res.ok) throw new RegisterSourceError(`the register URL ${url} answered HTTP ${res.status}`);
    const declared = Number(res.headers.get('content-length') ?? NaN);
    if (Number.isFinite(declared) && declared > maxBytes) throw new RegisterSourceError(`the register at ${url} is larger than ${maxBytes} bytes`);
    if (!res.body) return Buffer.alloc(0);
    const chunks: Buffer[] = [];
    let total = 0;
    try {
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
        total += chunk.byteLength;
        if (total > maxBytes) throw new RegisterSourceError(`the register at ${url} is larger than ${maxBytes} bytes`);
        chunks.push(Buffer.from(chunk));
      }
    } catch (err) {
      if (err instanceof RegisterSourceError) throw err;
      throw new RegisterSourceError(`the register download from ${url} was interrupted (${(err as Error).name})`, { cause: err });
    }
    return Buffer.concat(chunks);
  }
}
