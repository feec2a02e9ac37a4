-- CreateTable
CREATE TABLE "TrafficJournal" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "atMs" BIGINT NOT NULL,
    "body" TEXT NOT NULL
);
