-- The handler's request awaiting the dispatcher's decision (延期申请,
-- 挂账申请; cases.Request): {"event": the id of its event in case_events,
-- which a decision names, "kind": "extension" or "pause", "at": when it was
-- made, "extension": {"value", "unit"} asked for}. Kept on the case so that
-- the pending request is known without reading the history, and set by the
-- code that applies every case change (cases.ApplyUpdate), never by hand:
-- NULL when no request awaits a decision. Cases stored before this
-- migration had no way to make one.
ALTER TABLE cases ADD COLUMN pending_request jsonb
    CHECK (pending_request IS NULL OR (jsonb_typeof(pending_request) = 'object'
                                       AND pending_request->>'kind' IN ('extension', 'pause')
                                       AND jsonb_typeof(pending_request->'event') = 'number'));
