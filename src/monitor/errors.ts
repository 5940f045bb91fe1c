/**
 * Errors of the monitor area. Codes are stable: pages and tests switch on them. Messages are safe to show.
 */
import { AppError, ForbiddenError } from '../errors.js';

/** `monitor.busy` (409): another pass is running (in another process: the CLI next to the server's scheduler). */
export function monitorBusy(since: string): AppError {
  return new AppError('monitor.busy', 409, `A monitor pass has been running since ${since}; try again when it has finished.`);
}

/** `monitor.role_required` (403). */
export function monitorRoleRequired(role: string, what: string): AppError {
  return new ForbiddenError('monitor.role_required', `Only a member of staff with the ${role} role can ${what}.`);
}

/** `monitor.not_suspended_automatically` (409): four-eyes reinstatement here is for partners the system suspended. */
export function notSuspendedAutomatically(): AppError {
  return new AppError(
    'monitor.not_suspended_automatically',
    409,
    'This partner is not suspended by the system: reinstate it from the partners page.',
  );
}

/** `monitor.proposal_exists` (409): one open proposal per partner. */
export function proposalExists(): AppError {
  return new AppError('monitor.proposal_exists', 409, 'A reinstatement of this partner is already proposed and waits for a second officer.');
}

/** `monitor.proposal_closed` (409): the proposal was approved or declined already. */
export function proposalClosed(): AppError {
  return new AppError('monitor.proposal_closed', 409, 'This proposal has already been decided.');
}

/** `monitor.four_eyes` (403): the officer who proposed a reinstatement cannot decide it. */
export function fourEyesMonitor(): AppError {
  return new ForbiddenError('monitor.four_eyes', 'A different officer must decide: you proposed this reinstatement.');
}

/** `monitor.task_closed` (409). */
export function taskClosed(): AppError {
  return new AppError('monitor.task_closed', 409, 'This task has already been marked as reviewed.');
}
