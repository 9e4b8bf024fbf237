-- CreateEnum
CREATE TYPE "OffboardingStatus" AS ENUM ('running', 'clean', 'incomplete');

-- CreateTable
CREATE TABLE "offboardings" (
    "run_id" TEXT NOT NULL,
    "status" "OffboardingStatus" NOT NULL DEFAULT 'running',
    "progress" JSONB,
    "result" JSONB,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "started_by_upn" TEXT NOT NULL,
    "lease_owner" TEXT,
    "lease_expires_at" TIMESTAMPTZ(3),
    "started_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "offboardings_pkey" PRIMARY KEY ("run_id")
);

-- AddForeignKey
ALTER TABLE "offboardings" ADD CONSTRAINT "offboardings_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "onboarding_runs"("id") ON DELETE CASCADE ON UPDATE CASCADE;
