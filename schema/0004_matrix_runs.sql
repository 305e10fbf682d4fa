-- Runs made by `accelerate bench --matrix`: which matrix (its name) and which cell (browser,
-- backend, model) each run measured, so an interrupted matrix resumes where it stopped.
CREATE TABLE matrix_runs (
    matrix  VARCHAR NOT NULL,
    run_id  VARCHAR NOT NULL REFERENCES runs (run_id),
    cell    VARCHAR NOT NULL,
    PRIMARY KEY (matrix, run_id)
);
