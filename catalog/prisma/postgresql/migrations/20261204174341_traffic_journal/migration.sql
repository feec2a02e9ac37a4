-- CreateTable
CREATE TABLE "TrafficJournal" (
    "id" SERIAL NOT NULL,
    "atMs" BIGINT NOT NULL,
    "body" TEXT NOT NULL,

    CONSTRAINT "TrafficJournal_pkey" PRIMARY KEY ("id")
);
