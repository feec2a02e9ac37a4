-- CreateTable
CREATE TABLE "CatalogState" (
    "id" INTEGER NOT NULL,
    "generation" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "CatalogState_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "CatalogChange" (
    "generation" INTEGER NOT NULL,
    "kind" TEXT NOT NULL,
    "key" TEXT NOT NULL,

    CONSTRAINT "CatalogChange_pkey" PRIMARY KEY ("generation","kind","key")
);

-- The one row that every catalogue write moves on (catalog/src/store/store.ts).
INSERT INTO "CatalogState" ("id", "generation") VALUES (1, 0);
