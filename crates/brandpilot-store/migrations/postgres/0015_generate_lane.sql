-- A third lane for the job queue: `generate`, where Studio's batch items run with their own
-- workers, so a long batch never holds up ingestion on the `long` lane.
ALTER TABLE jobs
    DROP CONSTRAINT jobs_lane,
    ADD CONSTRAINT jobs_lane CHECK (lane IN ('fast', 'long', 'generate'));
