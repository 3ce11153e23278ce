-- AlterTable
ALTER TABLE "Cell" ADD COLUMN "poolReady" TEXT;

