-- AlterTable
ALTER TABLE "step_runs" ADD COLUMN     "attention" JSONB;
