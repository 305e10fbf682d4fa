//! Embed the run-time search path of the prebuilt libduckdb (fetched by `cargo xtask setup`
//! into `.deps/duckdb`, exported as DUCKDB_LIB_DIR by .cargo/config.toml), so `accelerate`
//! and the tests run without LD_LIBRARY_PATH.
fn main() {
    println!("cargo:rerun-if-env-changed=DUCKDB_LIB_DIR");
    if let Ok(dir) = std::env::var("DUCKDB_LIB_DIR") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
    }
}
