-- DropIndex
DROP INDEX "Entity_kind_idx";

-- DropIndex
DROP INDEX "Entity_sourceFile_idx";

-- DropIndex
DROP INDEX "Relation_targetRef_idx";

-- Relations are stored one side per pair from now on, the other side is derived when the store loads
-- (catalog/src/model/relations.ts, STORED_RELATIONS). Drop the rows of the derived side.
DELETE FROM "Relation" WHERE "type" IN ('ownerOf', 'hasPart', 'apiProvidedBy', 'apiConsumedBy', 'dependencyOf', 'hasMember', 'parentOf');
