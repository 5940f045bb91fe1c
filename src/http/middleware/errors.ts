/**
 * Turns any error into the response its route family expects: JSON problem details (RFC 9457) for API
 * callers, a rendered page for browsers. Only exposed (4xx) messages reach the client; the detail, the
 * cause and the stack go to the log with the request id.
 */
import type { NextFunction, Request, Response } from 'express';
import { toAppError } from '../../errors.js';

export function notFound(req: Request, res: Response): void {
  const body = { type: 'about:blank', title: 'Not found.', status: 404, code: 'not_found' };
  res.status(404);
  if (prefersHtml(req)) res.render('errors/error', { status: 404, code: 'not_found', title: 'Page not found', message: body.title, requestId: req.id });
  else res.type('application/problem+json').json(body);
}

export function errorHandler(err: unknown, req: Request, res: Response, _next: NextFunction): void {
  const e = toAppError(err);
  const log = req.log ?? console;
  if (e.status >= 500) log.error({ err: e.cause ?? e, code: e.code, detail: e.detail }, 'request failed');
  else log.warn({ code: e.code, detail: e.detail }, 'request refused');
  if (res.headersSent) return;
  const message = e.expose ? e.message : 'Something went wrong on our side. It has been logged.';
  res.status(e.status);
  res.setHeader('Cache-Control', 'no-store');
  if (prefersHtml(req)) {
    res.render('errors/error', {
      status: e.status,
      code: e.expose ? e.code : 'internal',
      title: e.status >= 500 ? 'Server error' : 'Request refused',
      message,
      requestId: req.id,
    });
    return;
  }
  const body: Record<string, unknown> = { type: 'about:blank', title: message, status: e.status, code: e.expose ? e.code : 'internal', requestId: req.id };
  const fields = (e as { fields?: unknown }).fields;
  if (e.expose && Array.isArray(fields) && fields.length) body.errors = fields;
  res.type('application/problem+json').json(body);
}

function prefersHtml(req: Request): boolean {
  return req.accepts(['json', 'html']) === 'html';
}
