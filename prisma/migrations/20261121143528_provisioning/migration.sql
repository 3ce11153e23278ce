-- CreateTable
CREATE TABLE "Step" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "cellId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "attempt" INTEGER NOT NULL DEFAULT 1,
    "operation" TEXT,
    "detail" TEXT,
    "startedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "endedAt" DATETIME,
    CONSTRAINT "Step_cellId_fkey" FOREIGN KEY ("cellId") REFERENCES "Cell" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "PortAllocation" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "cellId" TEXT NOT NULL,
    "service" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "host" TEXT NOT NULL,
    "port" INTEGER NOT NULL,
    "activeKey" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "releasedAt" DATETIME,
    CONSTRAINT "PortAllocation_cellId_fkey" FOREIGN KEY ("cellId") REFERENCES "Cell" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "ServiceInstance" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "cellId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "pid" INTEGER,
    "pgid" INTEGER,
    "startTicks" TEXT,
    "port" INTEGER,
    "url" TEXT,
    "logPath" TEXT,
    "exitCode" INTEGER,
    "startedAt" DATETIME,
    "stoppedAt" DATETIME,
    CONSTRAINT "ServiceInstance_cellId_fkey" FOREIGN KEY ("cellId") REFERENCES "Cell" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "Prompt" (
    "cellId" TEXT NOT NULL PRIMARY KEY,
    "content" TEXT NOT NULL,
    "path" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "Prompt_cellId_fkey" FOREIGN KEY ("cellId") REFERENCES "Cell" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Cell" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "name" TEXT NOT NULL,
    "workspaceId" TEXT NOT NULL,
    "templateId" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "workflowId" TEXT NOT NULL,
    "brief" TEXT NOT NULL,
    "options" TEXT NOT NULL DEFAULT '{}',
    "baseRef" TEXT NOT NULL DEFAULT 'HEAD',
    "constraints" TEXT NOT NULL DEFAULT '[]',
    "successCriteria" TEXT NOT NULL DEFAULT '[]',
    "readyAt" DATETIME,
    "worktreePath" TEXT,
    "branch" TEXT,
    "host" TEXT,
    "failure" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL
);
INSERT INTO "new_Cell" ("baseRef", "brief", "createdAt", "id", "name", "options", "readyAt", "status", "templateId", "updatedAt", "workflowId", "workspaceId") SELECT "baseRef", "brief", "createdAt", "id", "name", "options", "readyAt", "status", "templateId", "updatedAt", "workflowId", "workspaceId" FROM "Cell";
DROP TABLE "Cell";
ALTER TABLE "new_Cell" RENAME TO "Cell";
CREATE UNIQUE INDEX "Cell_workflowId_key" ON "Cell"("workflowId");
CREATE INDEX "Cell_workspaceId_status_idx" ON "Cell"("workspaceId", "status");
CREATE INDEX "Cell_workspaceId_templateId_readyAt_idx" ON "Cell"("workspaceId", "templateId", "readyAt");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- CreateIndex
CREATE UNIQUE INDEX "Step_cellId_name_kind_key" ON "Step"("cellId", "name", "kind");

-- CreateIndex
CREATE UNIQUE INDEX "PortAllocation_activeKey_key" ON "PortAllocation"("activeKey");

-- CreateIndex
CREATE INDEX "PortAllocation_cellId_idx" ON "PortAllocation"("cellId");

-- CreateIndex
CREATE INDEX "PortAllocation_host_port_idx" ON "PortAllocation"("host", "port");

-- CreateIndex
CREATE UNIQUE INDEX "ServiceInstance_cellId_name_key" ON "ServiceInstance"("cellId", "name");

