-- CreateTable
CREATE TABLE "Cell" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "name" TEXT NOT NULL,
    "workspaceId" TEXT NOT NULL,
    "templateId" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "workflowId" TEXT NOT NULL,
    "brief" TEXT NOT NULL,
    "options" TEXT NOT NULL DEFAULT '{}',
    "baseRef" TEXT NOT NULL DEFAULT 'HEAD',
    "readyAt" DATETIME,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL
);

-- CreateIndex
CREATE UNIQUE INDEX "Cell_workflowId_key" ON "Cell"("workflowId");

-- CreateIndex
CREATE INDEX "Cell_workspaceId_status_idx" ON "Cell"("workspaceId", "status");

-- CreateIndex
CREATE INDEX "Cell_workspaceId_templateId_readyAt_idx" ON "Cell"("workspaceId", "templateId", "readyAt");

