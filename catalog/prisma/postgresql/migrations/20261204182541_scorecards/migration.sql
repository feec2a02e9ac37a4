-- CreateTable
CREATE TABLE "ScorecardScore" (
    "scorecard" TEXT NOT NULL,
    "entityRef" TEXT NOT NULL,
    "level" TEXT,
    "failing" TEXT NOT NULL,
    "owner" TEXT,
    "collective" TEXT,
    "updatedMs" BIGINT NOT NULL,

    CONSTRAINT "ScorecardScore_pkey" PRIMARY KEY ("scorecard","entityRef")
);

-- CreateTable
CREATE TABLE "ScorecardHistory" (
    "id" SERIAL NOT NULL,
    "scorecard" TEXT NOT NULL,
    "entityRef" TEXT NOT NULL,
    "level" TEXT,
    "failing" TEXT NOT NULL,
    "removed" BOOLEAN NOT NULL DEFAULT false,
    "atMs" BIGINT NOT NULL,

    CONSTRAINT "ScorecardHistory_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ScorecardDaily" (
    "scorecard" TEXT NOT NULL,
    "day" TEXT NOT NULL,
    "team" TEXT NOT NULL,
    "services" INTEGER NOT NULL,
    "atLeast" TEXT NOT NULL,

    CONSTRAINT "ScorecardDaily_pkey" PRIMARY KEY ("scorecard","day","team")
);

-- CreateIndex
CREATE INDEX "ScorecardHistory_scorecard_atMs_idx" ON "ScorecardHistory"("scorecard", "atMs");

-- CreateIndex
CREATE INDEX "ScorecardHistory_entityRef_atMs_idx" ON "ScorecardHistory"("entityRef", "atMs");
