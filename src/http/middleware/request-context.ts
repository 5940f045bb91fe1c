/**
 * A request id for every request (echoed in X-Request-Id) and one log line when the response ends.
 * The path is logged without its query string: queries can carry codes and tokens.
 */
import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../../logger.js';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace -- Express's request type is augmented this way
  namespace Express {
    interface Request {
      id: string;
      log: Logger;
    }
  }
}

export function requestContext(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const id = randomUUID();
    req.id = id;
    // The child logger is made when a handler logs (most never do): creating one per request costs.
    let child: Logger | undefined;
    Object.defineProperty(req, 'log', { configurable: true, enumerable: true, get: () => (child ??= logger.child({ reqId: id })) });
    res.setHeader('X-Request-Id', id);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      if (!logger.isLevelEnabled('info')) return;
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      req.log.info(
        { method: req.method, path: req.path, status: res.statusCode, ms: Math.round(ms * 10) / 10 },
        'request',
      );
    });
    next();
  };
}
