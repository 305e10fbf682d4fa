//! `accelerate bench --matrix` for real (native backends, real weights, a real DuckDB file):
//! every cell is stored as its own run tagged with the matrix, and running the matrix again —
//! as after an interruption, or with a shape added — measures only what is not stored yet.

use std::process::Command;

fn accelerate(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_accelerate")).args(args).output().unwrap();
    (out.status.code().unwrap_or(-1), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

fn matrix_file(dir: &std::path::Path, shapes: &str) -> std::path::PathBuf {
    let path = dir.join("matrix.toml");
    let text = format!(
        "name = \"resume-test\"\nmodels = [\"minilm-l3\"]\nbackends = [\"native-cpu\"]\ndtypes = [\"f32\", \"int8\"]\n\
         shapes = [{shapes}]\nwarmup = 0\nsamples = 2\nparallel = 2\n"
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// (backend, workload) of every steady-state case stored by the matrix.
fn stored(db: &std::path::Path) -> Vec<(String, String)> {
    let conn = duckdb::Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT e.backend, c.shape FROM cases c JOIN environments e USING (run_id, env_id) JOIN matrix_runs USING (run_id)
             WHERE matrix = 'resume-test' AND c.shape NOT IN ('load') AND c.shape NOT LIKE 'first call%' ORDER BY 1, 2",
        )
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect()
}

#[test]
fn a_matrix_stores_each_cell_and_resumes_with_only_what_is_missing() {
    let dir = std::env::temp_dir().join(format!("ipfs-accelerate-matrix-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("bench.duckdb");
    let db_arg = db.to_str().unwrap();

    let file = matrix_file(&dir, "\"b1xshort\"");
    let (code, out) = accelerate(&["bench", "--matrix", file.to_str().unwrap(), "--db", db_arg]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("2 cell(s) run, 0 skipped"), "{out}");
    let want = |pairs: &[(&str, &str)]| pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect::<Vec<_>>();
    assert_eq!(stored(&db), want(&[("native-cpu", "b1×short"), ("native-cpu-int8", "b1×short")]));

    // The same matrix again: nothing to do.
    let (code, out) = accelerate(&["bench", "--matrix", file.to_str().unwrap(), "--db", db_arg]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("0 cell(s) run, 2 skipped"), "{out}");

    // A shape added: only it is measured, each case stored once.
    let file = matrix_file(&dir, "\"b1×short\", \"b8×short\"");
    let (code, out) = accelerate(&["bench", "--matrix", file.to_str().unwrap(), "--db", db_arg]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("2 cell(s) run, 0 skipped"), "{out}");
    assert_eq!(
        stored(&db),
        want(&[("native-cpu", "b1×short"), ("native-cpu", "b8×short"), ("native-cpu-int8", "b1×short"), ("native-cpu-int8", "b8×short")])
    );

    // A bad file changes nothing and says what is wrong.
    std::fs::write(&file, "name = \"resume-test\"\nmodels = [\"nope\"]\nbackends = [\"native-cpu\"]\nshapes = [\"b1×short\"]\n").unwrap();
    let (code, out) = accelerate(&["bench", "--matrix", file.to_str().unwrap(), "--db", db_arg]);
    assert_eq!(code, 1);
    assert!(out.contains("unknown model \"nope\"") && out.contains("minilm-l3"), "{out}");
    assert_eq!(stored(&db).len(), 4);
    let _ = std::fs::remove_dir_all(&dir);
}
