// The portal's database API. Callers import from "@/lib/db" and never from Prisma.
export { closeDb, configureDb, createDb, db, migrate, type Database, type DbOptions } from "./client";
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
