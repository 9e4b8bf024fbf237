-- CreateTable
CREATE TABLE "tenants" (
    "id" TEXT NOT NULL,
    "display_name" TEXT NOT NULL,
    "default_domain" TEXT,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "tenants_pkey" PRIMARY KEY ("id")
);
