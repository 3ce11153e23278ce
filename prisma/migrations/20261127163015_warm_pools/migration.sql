-- AlterTable
ALTER TABLE "Cell" ADD COLUMN "claimedAt" DATETIME;
ALTER TABLE "Cell" ADD COLUMN "poolKey" TEXT;
ALTER TABLE "Cell" ADD COLUMN "poolState" TEXT;

-- CreateIndex
CREATE INDEX "Cell_workspaceId_templateId_poolState_idx" ON "Cell"("workspaceId", "templateId", "poolState");

