-- AlterTable
ALTER TABLE "Cell" ADD COLUMN     "reserveCpu" DOUBLE PRECISION,
ADD COLUMN     "reserveMemoryMb" INTEGER;

-- CreateTable
CREATE TABLE "Host" (
    "id" TEXT NOT NULL,
    "taskQueue" TEXT NOT NULL,
    "workspaces" TEXT NOT NULL DEFAULT '[]',
    "cpus" DOUBLE PRECISION NOT NULL,
    "memoryMb" INTEGER NOT NULL,
    "freeMemoryMb" INTEGER NOT NULL DEFAULT 0,
    "freeDiskMb" INTEGER NOT NULL DEFAULT 0,
    "load" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "liveCells" INTEGER NOT NULL DEFAULT 0,
    "drained" BOOLEAN NOT NULL DEFAULT false,
    "heartbeatAt" TIMESTAMP(3) NOT NULL,
    "startedAt" TIMESTAMP(3) NOT NULL,
    "lostAt" TIMESTAMP(3),
    "placements" INTEGER NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Host_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Cell_host_status_idx" ON "Cell"("host", "status");
