-- Deleting or merging cases checks the merged_into foreign key against
-- every row without an index: deletes grew quadratically with the table.
CREATE INDEX cases_merged_into_idx ON cases (merged_into) WHERE merged_into IS NOT NULL;
