-- AlterTable
ALTER TABLE "Cell" ADD COLUMN "reserveCpu" REAL;
ALTER TABLE "Cell" ADD COLUMN "reserveMemoryMb" INTEGER;

-- CreateTable
CREATE TABLE "Host" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "taskQueue" TEXT NOT NULL,
    "workspaces" TEXT NOT NULL DEFAULT '[]',
    "cpus" REAL NOT NULL,
    "memoryMb" INTEGER NOT NULL,
    "freeMemoryMb" INTEGER NOT NULL DEFAULT 0,
    "freeDiskMb" INTEGER NOT NULL DEFAULT 0,
    "load" REAL NOT NULL DEFAULT 0,
    "liveCells" INTEGER NOT NULL DEFAULT 0,
    "drained" BOOLEAN NOT NULL DEFAULT false,
    "heartbeatAt" DATETIME NOT NULL,
    "startedAt" DATETIME NOT NULL,
    "lostAt" DATETIME,
    "placements" INTEGER NOT NULL DEFAULT 0,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateIndex
CREATE INDEX "Cell_host_status_idx" ON "Cell"("host", "status");

