/**
 * Notification e-mail through nodemailer: SMTP from SMTP_URL, or, without it outside production, a file sink
 * that writes each message as one `.eml` file under `DATA_DIR/mail/` (directory 0700, files 0600: they hold
 * partner contacts). SMTP_URL=off (or production without SMTP_URL, which the config refuses) has no mailer:
 * e-mail deliveries are then not queued.
 *
 * Plain text only. The Message-ID is derived from the delivery id, so a retried message is recognisably the
 * same one.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import nodemailer from 'nodemailer';

export interface MailMessage {
  /** The delivery id (Message-ID and file name). */
  id: string;
  to: string;
  subject: string;
  text: string;
  headers?: Record<string, string>;
}

export interface Mailer {
  kind: 'smtp' | 'file';
  /** Throws on failure; the error's message is not shown as is (see safeMailError). */
  send(message: MailMessage): Promise<void>;
  close(): void;
}

export interface MailerOptions {
  smtpUrl: string | null;
  /** SMTP_URL=off: no mailer in any environment. */
  off?: boolean;
  from: string;
  dataDir: string;
  env: 'development' | 'test' | 'production';
  /** SMTP connection and greeting timeout. Default 5000 ms. */
  timeoutMs?: number;
}

function messageIdDomain(from: string): string {
  const m = /@([A-Za-z0-9.-]+)>?\s*$/.exec(from);
  return m?.[1] ?? 'portal.invalid';
}

/** The mailer for this configuration, or null (SMTP_URL=off, or production without SMTP_URL). */
export function createMailer(opts: MailerOptions): Mailer | null {
  if (opts.off) return null;
  const domain = messageIdDomain(opts.from);
  const envelope = (m: MailMessage) => ({
    from: opts.from,
    to: m.to,
    subject: m.subject,
    text: m.text,
    messageId: `<${m.id}@${domain}>`,
    headers: { 'Auto-Submitted': 'auto-generated', ...m.headers },
  });

  if (opts.smtpUrl) {
    const timeout = opts.timeoutMs ?? 5000;
    const transport = nodemailer.createTransport({
      url: opts.smtpUrl,
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      socketTimeout: 2 * timeout,
    });
    return {
      kind: 'smtp',
      async send(m) {
        await transport.sendMail(envelope(m));
      },
      close: () => transport.close(),
    };
  }
  if (opts.env === 'production') return null;

  const dir = path.join(opts.dataDir, 'mail');
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    kind: 'file',
    async send(m) {
      const info = await transport.sendMail(envelope(m));
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      chmodSync(dir, 0o700);
      const file = path.join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${m.id}.eml`);
      writeFileSync(file, info.message as Buffer, { mode: 0o600, flag: 'wx' });
    },
    close: () => transport.close(),
  };
}

/**
 * What is kept of a mail failure: nodemailer's error code and the SMTP response code, never the message
 * text (it may echo addresses or, for a bad URL, credentials).
 */
export function safeMailError(err: unknown): string {
  const e = err as { code?: unknown; responseCode?: unknown } | null;
  const code = typeof e?.code === 'string' && /^[A-Z_]{1,40}$/.test(e.code) ? e.code : 'ERROR';
  const smtp = typeof e?.responseCode === 'number' ? ` (SMTP ${e.responseCode})` : '';
  return `e-mail not sent: ${code}${smtp}`;
}
