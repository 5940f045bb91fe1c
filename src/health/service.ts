/** Health of the running instance, shaped for probes and the status page. */
import type { Config } from '../config.js';
import type { EidasService } from '../eidas/service.js';
import { databaseHealthy, type Db } from '../store/database.js';

export interface HealthCheck {
  name: string;
  status: 'ok' | 'fail';
  detail: string;
}

export interface HealthReport {
  status: 'ok' | 'fail';
  environment: string;
  mtlsPort: number;
  checks: HealthCheck[];
}

export interface HealthService {
  report(): HealthReport;
}

export function createHealthService(deps: { config: Config; db: Db; eidas: EidasService; mtlsPort: () => number }): HealthService {
  return {
    report() {
      const dbOk = databaseHealthy(deps.db);
      const trust = deps.eidas.trustSummary();
      const checks: HealthCheck[] = [
        { name: 'Database', status: dbOk ? 'ok' : 'fail', detail: dbOk ? 'SQLite answers' : 'SQLite does not answer' },
        {
          name: 'Trust profile',
          status: trust.anchors > 0 ? 'ok' : 'fail',
          detail: `${trust.name}: ${trust.anchors} trust anchor(s)`,
        },
        { name: 'Revocation policy', status: 'ok', detail: deps.config.revocation.policy },
      ];
      return {
        status: checks.every((c) => c.status === 'ok') ? 'ok' : 'fail',
        environment: deps.config.env,
        mtlsPort: deps.mtlsPort(),
        checks,
      };
    },
  };
}
