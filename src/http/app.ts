/**
 * Express wiring shared by both listeners: security headers, request context, static files, the areas'
 * routers, then the error handlers. Routers stay thin; decisions live in the areas' services.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type Express, type Router } from 'express';
import helmet from 'helmet';
import type { Logger } from '../logger.js';
import { errorHandler, notFound } from './middleware/errors.js';
import { requestContext } from './middleware/request-context.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export function createApp(deps: { logger: Logger; routers: Router[] }): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('views', path.join(ROOT, 'views'));
  app.set('view engine', 'ejs');
  // Listeners face clients directly; a proxy in front is configured explicitly (issue: mTLS behind a proxy).
  app.set('trust proxy', false);
  app.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: true,
        // No inline scripts or styles anywhere: the pages work without JavaScript and style via portal.css.
        directives: {
          'form-action': ["'self'"],
          'frame-ancestors': ["'none'"],
          'style-src': ["'self'"],
          'font-src': ["'self'"],
          'img-src': ["'self'", 'data:'],
        },
      },
      strictTransportSecurity: { maxAge: 31536000, includeSubDomains: true },
      // same-origin, not no-referrer: with no-referrer Chromium sends `Origin: null` on our own form posts.
      referrerPolicy: { policy: 'same-origin' },
    }),
  );
  app.use(requestContext(deps.logger));
  app.use('/static', express.static(path.join(ROOT, 'public'), { index: false, maxAge: '1h' }));
  for (const router of deps.routers) app.use(router);
  app.use(notFound);
  app.use(errorHandler);
  return app;
}
