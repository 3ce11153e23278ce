-- AlterTable
ALTER TABLE "Cell" ADD COLUMN "idempotencyKey" TEXT;

-- CreateIndex
CREATE UNIQUE INDEX "Cell_idempotencyKey_key" ON "Cell"("idempotencyKey");

