-- CreateTable
CREATE TABLE "TrafficService" (
    "name" TEXT NOT NULL PRIMARY KEY,
    "firstSeenMs" BIGINT NOT NULL,
    "lastSeenMs" BIGINT NOT NULL
);

-- CreateTable
CREATE TABLE "TrafficEdge" (
    "caller" TEXT NOT NULL,
    "callee" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "virtual" BOOLEAN NOT NULL,
    "requests" BIGINT NOT NULL,
    "errors" BIGINT NOT NULL,
    "firstSeenMs" BIGINT NOT NULL,
    "lastSeenMs" BIGINT NOT NULL,

    PRIMARY KEY ("caller", "callee", "type")
);

-- CreateTable
CREATE TABLE "TrafficEdgeBucket" (
    "caller" TEXT NOT NULL,
    "callee" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "window" TEXT NOT NULL,
    "startMs" BIGINT NOT NULL,
    "requests" INTEGER NOT NULL,
    "errors" INTEGER NOT NULL,
    "latency" BLOB NOT NULL,

    PRIMARY KEY ("caller", "callee", "type", "window", "startMs")
);

-- CreateIndex
CREATE INDEX "TrafficEdgeBucket_window_startMs_idx" ON "TrafficEdgeBucket"("window", "startMs");
