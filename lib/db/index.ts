// The portal's database API. Callers import from "@/lib/db" (or its modules) and never from Prisma;
// db()/createDb() hand out the Prisma client and are for lib/db modules only.
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
  listAuditEvents,
  recordAuditEvent,
  type AuditEvent,
  type AuditOutcome,
  type JsonValue,
  type NewAuditEvent,
} from "./audit";
