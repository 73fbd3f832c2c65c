-- How a case's unit was chosen: the ownership rule's kind (grid.Rule*:
-- category, default, or fallback for the district's fallback unit, 属地兜底)
-- at intake or on a re-assignment that named only the grid; manual when a
-- dispatcher named the unit. NULL for cases stored before it was recorded.
ALTER TABLE cases ADD COLUMN unit_rule text
    CHECK (unit_rule IN ('category', 'default', 'fallback', 'manual'));
