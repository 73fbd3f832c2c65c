-- Open311 GeoReport v2 (issue 15): what a category says about itself as a
-- service. open311 = false keeps a leaf category out of the service list;
-- public = true lets anonymous Open311 clients read its cases (with the
-- -open311-public-read flag); attributes are the extra fields a report of
-- it asks for (the service definition's attributes), in order.
ALTER TABLE categories
    ADD COLUMN open311    boolean NOT NULL DEFAULT true,
    ADD COLUMN public     boolean NOT NULL DEFAULT false,
    ADD COLUMN attributes jsonb   NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(attributes) = 'array');

-- Open311 clients follow changes by date range (servicerequestupdates):
-- events by time, ties by id.
CREATE INDEX case_events_at_idx ON case_events (at, id);
