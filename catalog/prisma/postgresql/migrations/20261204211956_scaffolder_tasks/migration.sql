-- CreateTable
CREATE TABLE "ScaffolderTask" (
    "id" TEXT NOT NULL,
    "template" TEXT NOT NULL,
    "version" TEXT,
    "createdBy" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "parameters" TEXT NOT NULL,
    "createdAtMs" BIGINT NOT NULL,
    "completedAtMs" BIGINT,
    "result" TEXT,
    "error" TEXT,
    "runner" TEXT NOT NULL,
    "heartbeatAtMs" BIGINT NOT NULL,
    "droppedLogLines" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "ScaffolderTask_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ScaffolderTaskEvent" (
    "taskId" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "type" TEXT NOT NULL,
    "atMs" BIGINT NOT NULL,
    "body" TEXT NOT NULL,

    CONSTRAINT "ScaffolderTaskEvent_pkey" PRIMARY KEY ("taskId","seq")
);

-- CreateIndex
CREATE INDEX "ScaffolderTask_createdBy_createdAtMs_idx" ON "ScaffolderTask"("createdBy", "createdAtMs");

-- CreateIndex
CREATE INDEX "ScaffolderTask_createdAtMs_idx" ON "ScaffolderTask"("createdAtMs");

-- CreateIndex
CREATE INDEX "ScaffolderTask_status_idx" ON "ScaffolderTask"("status");
