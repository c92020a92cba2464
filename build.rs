//! Links the two native speech engines.
//!
//! - libvosk comes from `.deps/vosk` (installed by `scripts/fetch-models.sh`, see
//!   `models/libvosk.toml`). `vosk-sys` only says `#[link(name = "vosk")]`, so the
//!   search path is given here, and the absolute directory is baked into the rpath
//!   of every binary, test and bench: they run without `LD_LIBRARY_PATH`.
//! - libpocketsphinx and libsphinxbase come from the system (Debian
//!   `libpocketsphinx-dev`), found with pkg-config.
//!
//! `ATTENDANT_DEPS` overrides the `.deps` directory (e.g. one shared install for
//! several checkouts).

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=ATTENDANT_DEPS");

    let deps = match std::env::var_os("ATTENDANT_DEPS") {
        Some(dir) => PathBuf::from(dir),
        None => {
            // Cargo always sets CARGO_MANIFEST_DIR for build scripts.
            let manifest_dir =
                std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
            PathBuf::from(manifest_dir).join(".deps")
        }
    };
    let vosk_dir = deps.join("vosk");
    let libvosk = vosk_dir.join("libvosk.so");
    println!("cargo:rerun-if-changed={}", libvosk.display());
    if !libvosk.is_file() {
        panic!(
            "\n\nlibvosk.so not found at {}.\nRun `make setup` (or `scripts/fetch-models.sh`) to install the speech \
             engines and models into .deps/, or point ATTENDANT_DEPS at an existing install.\n\n",
            libvosk.display()
        );
    }
    let vosk_dir = vosk_dir.canonicalize().unwrap_or(vosk_dir);
    println!("cargo:rustc-link-search=native={}", vosk_dir.display());
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", vosk_dir.display());
    // Exposed to the crate so that the engines find .deps at run time by default.
    println!(
        "cargo:rustc-env=ATTENDANT_BUILD_DEPS_DIR={}",
        deps.display()
    );

    if let Err(error) = pkg_config::Config::new().probe("pocketsphinx") {
        panic!(
            "\n\npkg-config cannot find pocketsphinx ({error}).\nInstall libpocketsphinx-dev and libsphinxbase-dev \
             (`make setup` does it).\n\n"
        );
    }
}
