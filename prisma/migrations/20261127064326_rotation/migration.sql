-- CreateTable
CREATE TABLE "credential_rotations" (
    "run_id" TEXT NOT NULL,
    "rotation_id" UUID NOT NULL,
    "status" TEXT NOT NULL,
    "phase" TEXT NOT NULL,
    "mode" TEXT NOT NULL,
    "old_key_id" TEXT,
    "old_hint" TEXT,
    "old_expires_at" TIMESTAMPTZ(3),
    "new_key_id" TEXT,
    "new_hint" TEXT,
    "new_expires_at" TIMESTAMPTZ(3),
    "handed_off_at" TIMESTAMPTZ(3),
    "error" JSONB,
    "lease_owner" TEXT,
    "lease_expires_at" TIMESTAMPTZ(3),
    "started_by_upn" TEXT NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "credential_rotations_pkey" PRIMARY KEY ("run_id")
);
