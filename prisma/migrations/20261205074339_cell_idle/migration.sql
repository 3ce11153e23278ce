-- AlterTable
ALTER TABLE "Cell" ADD COLUMN "lastRequestAt" DATETIME;
ALTER TABLE "Cell" ADD COLUMN "suspended" TEXT;

