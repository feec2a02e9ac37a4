-- CreateTable
CREATE TABLE "DeployEnvironment" (
    "name" TEXT NOT NULL,
    "rank" INTEGER NOT NULL,

    CONSTRAINT "DeployEnvironment_pkey" PRIMARY KEY ("name")
);

-- CreateTable
CREATE TABLE "DeployEvent" (
    "id" TEXT NOT NULL,
    "service" TEXT NOT NULL,
    "environment" TEXT NOT NULL,
    "version" TEXT NOT NULL,
    "image" TEXT,
    "commit" TEXT,
    "actor" TEXT,
    "status" TEXT NOT NULL,
    "statusRank" INTEGER NOT NULL,
    "startedAtMs" BIGINT NOT NULL,
    "finishedAtMs" BIGINT,
    "source" TEXT NOT NULL,
    "labels" TEXT,
    "recordedBy" TEXT NOT NULL,
    "receivedAtMs" BIGINT NOT NULL,

    CONSTRAINT "DeployEvent_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "DeployEvent_service_startedAtMs_idx" ON "DeployEvent"("service", "startedAtMs");

-- CreateIndex
CREATE INDEX "DeployEvent_startedAtMs_idx" ON "DeployEvent"("startedAtMs");

-- CreateIndex
CREATE INDEX "DeployEvent_source_idx" ON "DeployEvent"("source");
