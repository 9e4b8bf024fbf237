// JSON column values as lib/db hands them out, and their conversion to Prisma inputs.
import "server-only";
import { Prisma } from "./generated/client";

/** Any JSON value (audit detail, run config and plan, step outputs). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Prisma input for a nullable Json column: SQL NULL for null/undefined (plain null is rejected by Prisma). */
export function nullableJson(value: JsonValue | undefined): Prisma.InputJsonValue | typeof Prisma.DbNull {
  return value === undefined || value === null ? Prisma.DbNull : (value as Prisma.InputJsonValue);
}

/** Text for a `${…}::jsonb` parameter in raw SQL; null stays SQL NULL. */
export function jsonParam(value: JsonValue | undefined): string | null {
  return value === undefined || value === null ? null : JSON.stringify(value);
}

/** A plain object as a JSON column value: a real round-trip, so undefined fields and class instances can't slip in. */
export function toJsonValue(value: object): JsonValue {
  return JSON.parse(JSON.stringify(value)) as JsonValue;
}
