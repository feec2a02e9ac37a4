-- CreateTable
CREATE TABLE "CatalogState" (
    "id" INTEGER NOT NULL,
    "generation" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "CatalogState_pkey" PRIMARY KEY ("id")
);

-- The one row that every catalogue write moves on (catalog/src/store/store.ts).
INSERT INTO "CatalogState" ("id", "generation") VALUES (1, 0);
