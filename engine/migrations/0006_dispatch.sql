-- 0006: what the dispatch path reads often. (Reconciliation, which is rare, scans the outbox
-- by id instead of indexing every queued row on the hot path.)
-- The enqueuer mirrors opted-out households into Redis every few seconds (engine/enqueuer.hpp);
-- this partial index keeps that a read of the few opted-out rows, not of every household.
CREATE INDEX households_opted_out ON households(id) WHERE opt_out_sms = 1 OR opt_out_zalo = 1;
