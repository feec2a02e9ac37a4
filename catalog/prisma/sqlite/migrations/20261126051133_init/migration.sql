-- CreateTable
CREATE TABLE "Entity" (
    "ref" TEXT NOT NULL PRIMARY KEY,
    "kind" TEXT NOT NULL,
    "namespace" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "uid" TEXT NOT NULL,
    "etag" TEXT NOT NULL,
    "body" TEXT NOT NULL,
    "sourceFile" TEXT,
    "line" INTEGER,
    "stale" BOOLEAN NOT NULL DEFAULT false,
    "staleReason" TEXT,
    "updatedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateTable
CREATE TABLE "Relation" (
    "sourceRef" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "targetRef" TEXT NOT NULL,

    PRIMARY KEY ("sourceRef", "type", "targetRef")
);

-- CreateTable
CREATE TABLE "SourceFile" (
    "path" TEXT NOT NULL PRIMARY KEY,
    "hash" TEXT NOT NULL,
    "entityRefs" TEXT NOT NULL,
    "ok" BOOLEAN NOT NULL,
    "ingestedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateTable
CREATE TABLE "IngestError" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "file" TEXT NOT NULL,
    "line" INTEGER NOT NULL,
    "column" INTEGER NOT NULL,
    "entityRef" TEXT,
    "message" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateTable
CREATE TABLE "Location" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "type" TEXT NOT NULL,
    "target" TEXT NOT NULL,
    "entityRef" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateTable
CREATE TABLE "AuditEvent" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actor" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "target" TEXT NOT NULL,
    "details" TEXT
);

-- CreateTable
CREATE TABLE "ApiToken" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "name" TEXT NOT NULL,
    "hash" TEXT NOT NULL,
    "createdBy" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "revokedAt" DATETIME
);

-- CreateIndex
CREATE UNIQUE INDEX "Entity_uid_key" ON "Entity"("uid");

-- CreateIndex
CREATE INDEX "Entity_kind_idx" ON "Entity"("kind");

-- CreateIndex
CREATE INDEX "Entity_sourceFile_idx" ON "Entity"("sourceFile");

-- CreateIndex
CREATE INDEX "Relation_targetRef_idx" ON "Relation"("targetRef");

-- CreateIndex
CREATE INDEX "IngestError_file_idx" ON "IngestError"("file");

-- CreateIndex
CREATE UNIQUE INDEX "Location_target_key" ON "Location"("target");

-- CreateIndex
CREATE INDEX "AuditEvent_at_idx" ON "AuditEvent"("at");

-- CreateIndex
CREATE UNIQUE INDEX "ApiToken_hash_key" ON "ApiToken"("hash");
