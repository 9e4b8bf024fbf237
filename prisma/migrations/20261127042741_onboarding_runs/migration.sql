-- CreateEnum
CREATE TYPE "RunStatus" AS ENUM ('draft', 'planned', 'running', 'completed', 'failed', 'cancelled');

-- CreateEnum
CREATE TYPE "StepStatus" AS ENUM ('pending', 'running', 'done', 'failed', 'needs_admin');

-- CreateEnum
CREATE TYPE "OperationStatus" AS ENUM ('intent', 'succeeded', 'failed');

-- CreateTable
CREATE TABLE "onboarding_runs" (
    "id" TEXT NOT NULL,
    "tenant_id" TEXT NOT NULL,
    "created_by_user_id" UUID,
    "created_by_upn" TEXT NOT NULL,
    "status" "RunStatus" NOT NULL DEFAULT 'draft',
    "config" JSONB NOT NULL,
    "plan" JSONB,
    "plan_confirmed_at" TIMESTAMPTZ(3),
    "plan_confirmed_by_upn" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "onboarding_runs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "step_runs" (
    "id" UUID NOT NULL,
    "run_id" TEXT NOT NULL,
    "step_id" TEXT NOT NULL,
    "position" INTEGER NOT NULL,
    "status" "StepStatus" NOT NULL DEFAULT 'pending',
    "progress" JSONB,
    "outputs" JSONB,
    "error" JSONB,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "lease_owner" TEXT,
    "lease_expires_at" TIMESTAMPTZ(3),
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "step_runs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "operations" (
    "id" BIGSERIAL NOT NULL,
    "run_id" TEXT NOT NULL,
    "step_id" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "target" TEXT NOT NULL,
    "status" "OperationStatus" NOT NULL DEFAULT 'intent',
    "resource_id" TEXT,
    "request_id" TEXT,
    "error_code" TEXT,
    "error_message" TEXT,
    "started_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "completed_at" TIMESTAMPTZ(3),
    "actor_upn" TEXT NOT NULL,

    CONSTRAINT "operations_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "run_secrets" (
    "run_id" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "ciphertext" TEXT NOT NULL,
    "key_id" TEXT NOT NULL,
    "hint" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "run_secrets_pkey" PRIMARY KEY ("run_id","kind")
);

-- CreateIndex
CREATE INDEX "onboarding_runs_tenant_id_created_at_idx" ON "onboarding_runs"("tenant_id", "created_at");

-- CreateIndex
CREATE INDEX "onboarding_runs_created_by_user_id_idx" ON "onboarding_runs"("created_by_user_id");

-- CreateIndex
CREATE INDEX "step_runs_status_lease_expires_at_idx" ON "step_runs"("status", "lease_expires_at");

-- CreateIndex
CREATE UNIQUE INDEX "step_runs_run_id_step_id_key" ON "step_runs"("run_id", "step_id");

-- CreateIndex
CREATE INDEX "operations_run_id_step_id_idx" ON "operations"("run_id", "step_id");

-- CreateIndex
CREATE INDEX "operations_run_id_key_idx" ON "operations"("run_id", "key");

-- CreateIndex
CREATE INDEX "run_secrets_expires_at_idx" ON "run_secrets"("expires_at");

-- AddForeignKey
ALTER TABLE "onboarding_runs" ADD CONSTRAINT "onboarding_runs_created_by_user_id_fkey" FOREIGN KEY ("created_by_user_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "step_runs" ADD CONSTRAINT "step_runs_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "onboarding_runs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "operations" ADD CONSTRAINT "operations_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "onboarding_runs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "run_secrets" ADD CONSTRAINT "run_secrets_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "onboarding_runs"("id") ON DELETE CASCADE ON UPDATE CASCADE;
