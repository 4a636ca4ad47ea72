//! Fetches the browser libraries Baton serves (the Reports page's charts) from npm, pinned by
//! `vendor/package-lock.json` (versions and integrity hashes), and hands them to the build:
//! they ship inside the binary, never from a CDN.

use std::path::Path;
use std::process::Command;

const CHART: &str = "vendor/node_modules/chart.js/dist/chart.umd.min.js";

fn main() {
    println!("cargo:rerun-if-changed=vendor/package.json");
    println!("cargo:rerun-if-changed=vendor/package-lock.json");
    println!("cargo:rerun-if-changed={CHART}");
    if !Path::new(CHART).exists() {
        let npm = if cfg!(windows) { "npm.cmd" } else { "npm" };
        let status = Command::new(npm)
            .args(["ci", "--prefix", "vendor", "--no-audit", "--no-fund", "--loglevel=error"])
            .status()
            .unwrap_or_else(|e| panic!("Baton's build fetches its chart library with npm (from vendor/package-lock.json), but npm did not run: {e}. Install Node.js with npm, or run `npm ci --prefix vendor` once."));
        assert!(status.success(), "`npm ci --prefix vendor` failed ({status}); Baton's build needs its chart library from npm");
    }
    let js = std::fs::read_to_string(CHART).unwrap_or_else(|e| panic!("cannot read {CHART}: {e}"));
    // The source map is not shipped: drop the comment that would ask for it.
    let js = js.trim_end().trim_end_matches("//# sourceMappingURL=chart.umd.min.js.map").trim_end();
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("chart.umd.min.js");
    std::fs::write(&out, js).unwrap_or_else(|e| panic!("cannot write {}: {e}", out.display()));
}
