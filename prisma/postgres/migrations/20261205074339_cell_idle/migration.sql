-- AlterTable
ALTER TABLE "Cell" ADD COLUMN     "lastRequestAt" TIMESTAMP(3),
ADD COLUMN     "suspended" TEXT;
