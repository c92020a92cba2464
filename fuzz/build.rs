//! Bakes libvosk's directory into the fuzz binaries' rpath, as the top-level
//! build.rs does for the attendant's own binaries: the attendant library links
//! libvosk, and a build script's link arguments reach only its own package.

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
            PathBuf::from(manifest_dir).join("../.deps")
        }
    };
    let vosk_dir = deps.join("vosk");
    let vosk_dir = vosk_dir.canonicalize().unwrap_or(vosk_dir);
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", vosk_dir.display());
}
