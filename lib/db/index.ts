// The portal's database API. Callers import from "@/lib/db" (or its modules) and never from Prisma;
// db()/createDb() hand out the Prisma client and are for lib/db modules only.
import "server-only";
export { closeDb, configureDb, migrate, type DbOptions } from "./client";
export { findUser, upsertUser, type User, type UserSignIn } from "./users";
export {
  createSession,
  deleteExpiredSessions,
  deleteSession,
  findSession,
  updateSessionTokenCache,
  type NewSession,
  type Session,
  type SessionWithUser,
} from "./sessions";
export { consumeAuthRequest, createAuthRequest, deleteExpiredAuthRequests, type AuthRequest, type NewAuthRequest } from "./auth-requests";
export {
  listAuditChain,
  listAuditEvents,
  recordAuditEvent,
  recordAuditEvents,
  type AuditEvent,
  type AuditScope,
  type AuditOutcome,
  type JsonValue,
  type NewAuditEvent,
} from "./audit";
export { auditEventHash, canonicalJson, GENESIS_HASH, type HashedAuditFields } from "./audit-hash";
export {
  confirmRunPlan,
  createRun,
  getRunForTenant,
  listRunsForTenant,
  RUN_STATUSES,
  runChangeStamp,
  type LiveStepProgress,
  type RunChange,
  setRunPlan,
  setRunStatus,
  type NewRun,
  type OnboardingRun,
  type OnboardingRunWithSteps,
  type RunStatus,
} from "./runs";
export {
  acquireLease,
  LEASE_KINDS,
  leaseOfLog,
  LeaseLostError,
  logStepIdOf,
  releaseLease,
  renewLease,
  ROTATION_STEP_ID,
  setLeaseProgress,
  stepLease,
  type AcquireOptions,
  type LeaseKey,
  type LeaseKind,
} from "./leases";
export {
  acquireStepLease,
  listExpiredRunningSteps,
  releaseStepLease,
  renewStepLease,
  setStepProgress,
  STEP_OUTCOMES,
  STEP_STATUSES,
  type ExpiredStep,
  type StepError,
  type StepOutcome,
  type StepOutcomeStatus,
  parseStepAttention,
  type StepAttention,
  type StepProgress,
  type StepRun,
  type StepStatus,
} from "./step-runs";
export {
  findPendingIntents,
  lastSucceeded,
  listOperations,
  OPERATION_KINDS,
  OPERATION_STATUSES,
  recordIntent,
  recordIntents,
  recordOutcome,
  recordOutcomesWithAudit,
  type IntentBatch,
  type NewOperationIntent,
  type Operation,
  type OperationKind,
  type OperationOutcome,
  type OperationStatus,
  type OutcomeWithAudit,
} from "./operations";
export { deleteExpiredRunSecrets, deleteRunSecret, getRunSecret, putRunSecret, type NewRunSecret, type RunSecret } from "./run-secrets";
export { tenantNames, upsertTenantName, type TenantName } from "./tenants";
export {
  getRunAcrossTenants,
  listRunsAcrossTenants,
  VENDOR_VIEW_ACTION,
  type CrossTenantRun,
  type CrossTenantRunDetail,
  type LastAct,
} from "./vendor-runs";
export {
  acquireOffboardingLease,
  getOffboarding,
  OFFBOARDING_STATUSES,
  OFFBOARDING_STEP_ID,
  releaseOffboardingLease,
  renewOffboardingLease,
  setOffboardingProgress,
  type Offboarding,
  type OffboardingStatus,
} from "./offboardings";
