/**
 * Storage for the accounts area. Async so that a PostgreSQL implementation can keep the shape; the SQLite
 * one is src/store/sqlite/accounts.ts. Records are internal: the service shapes what leaves the area.
 */
import type { StaffRole } from '../partners/types.js';
import type { UserKind, UserStatus } from './types.js';

export interface UserRecord {
  id: string;
  kind: UserKind;
  email: string;
  displayName: string;
  passwordHash: string;
  passwordChangedAt: string;
  passwordMustChange: boolean;
  totpSecretEnc: string;
  totpEnrolledAt: string | null;
  totpLastStep: number;
  roles: StaffRole[];
  status: UserStatus;
  createdAt: string;
  createdBy: string | null;
}

export interface ThrottleRecord {
  key: string;
  failures: number;
  windowStart: string;
  lockedUntil: string | null;
}

export interface AccountsRepository {
  findById(id: string): Promise<UserRecord | null>;
  findByEmail(kind: UserKind, email: string): Promise<UserRecord | null>;
  insert(user: UserRecord): Promise<void>;
  updatePassword(id: string, hash: string, changedAt: string, mustChange: boolean): Promise<void>;
  /** Same password, new parameters: the change time stays (sessions are not ended by a rehash). */
  replaceHash(id: string, hash: string): Promise<void>;
  markTotpEnrolled(id: string, at: string, step: number): Promise<void>;
  setTotpLastStep(id: string, step: number): Promise<void>;
  setRoles(id: string, roles: StaffRole[]): Promise<void>;
  setStatus(id: string, status: UserStatus): Promise<void>;
  /** Ordered by e-mail. */
  listByKind(kind: UserKind): Promise<UserRecord[]>;
  countActiveAdmins(): Promise<number>;

  getThrottle(key: string): Promise<ThrottleRecord | null>;
  putThrottle(rec: ThrottleRecord): Promise<void>;
  deleteThrottle(key: string): Promise<void>;
  /** Drops counters whose window started before `windowStartBefore` and whose lock (if any) ended before `now`. */
  purgeThrottle(windowStartBefore: string, now: string): Promise<number>;
}
