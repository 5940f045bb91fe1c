/**
 * The front door: signed-in users go to their own start page, everyone else sees what the portal offers.
 */
import { Router } from 'express';
import { policy } from '../ops/policy.js';

export function homeRouter(): Router {
  const router = Router();
  router.get('/', policy({ auth: 'none', returns: "the portal's front page (signed-in users are sent to their start page)" }), (_req, res) => {
    const user = res.locals.currentUser as { kind: 'applicant' | 'staff' } | null | undefined;
    if (user?.kind === 'applicant') return res.redirect(303, '/applications');
    if (user?.kind === 'staff') return res.redirect(303, '/staff/applications');
    res.render('home');
  });
  return router;
}
