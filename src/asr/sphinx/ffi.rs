//! Raw declarations of the libpocketsphinx / libsphinxbase 5prealpha C API used
//! here (Debian `libpocketsphinx-dev`; linked by build.rs through pkg-config).
//! Only [`super`] calls them, through safe wrappers.
#![allow(non_camel_case_types)]

use std::ffi::{c_char, c_int, c_void};

/// Opaque `ps_decoder_t`.
#[repr(C)]
pub struct ps_decoder_t {
    _private: [u8; 0],
}
/// Opaque `cmd_ln_t` (a parsed configuration).
#[repr(C)]
pub struct cmd_ln_t {
    _private: [u8; 0],
}
/// Opaque `arg_t` (argument definitions).
#[repr(C)]
pub struct arg_t {
    _private: [u8; 0],
}
/// Opaque `ps_nbest_t` (an A* N-best iterator).
#[repr(C)]
pub struct ps_nbest_t {
    _private: [u8; 0],
}
/// Opaque `logmath_t` (log-domain arithmetic tables).
#[repr(C)]
pub struct logmath_t {
    _private: [u8; 0],
}

unsafe extern "C" {
    pub fn ps_args() -> *const arg_t;
    pub fn cmd_ln_parse_r(
        inout_cmdln: *mut cmd_ln_t,
        defn: *const arg_t,
        argc: i32,
        argv: *mut *mut c_char,
        strict: i32,
    ) -> *mut cmd_ln_t;
    pub fn cmd_ln_free_r(cmdln: *mut cmd_ln_t) -> c_int;
    pub fn ps_init(config: *mut cmd_ln_t) -> *mut ps_decoder_t;
    pub fn ps_free(ps: *mut ps_decoder_t) -> c_int;
    pub fn ps_add_word(
        ps: *mut ps_decoder_t,
        word: *const c_char,
        phones: *const c_char,
        update: c_int,
    ) -> c_int;
    pub fn ps_lookup_word(ps: *mut ps_decoder_t, word: *const c_char) -> *mut c_char;
    pub fn ps_set_jsgf_string(
        ps: *mut ps_decoder_t,
        name: *const c_char,
        jsgf_string: *const c_char,
    ) -> c_int;
    pub fn ps_set_allphone_file(
        ps: *mut ps_decoder_t,
        name: *const c_char,
        path: *const c_char,
    ) -> c_int;
    pub fn ps_get_n_frames(ps: *mut ps_decoder_t) -> c_int;
    pub fn ps_set_search(ps: *mut ps_decoder_t, name: *const c_char) -> c_int;
    pub fn ps_start_stream(ps: *mut ps_decoder_t) -> c_int;
    pub fn ps_start_utt(ps: *mut ps_decoder_t) -> c_int;
    pub fn ps_process_raw(
        ps: *mut ps_decoder_t,
        data: *const i16,
        n_samples: usize,
        no_search: c_int,
        full_utt: c_int,
    ) -> c_int;
    pub fn ps_end_utt(ps: *mut ps_decoder_t) -> c_int;
    pub fn ps_get_hyp(ps: *mut ps_decoder_t, out_best_score: *mut i32) -> *const c_char;
    pub fn ps_get_prob(ps: *mut ps_decoder_t) -> i32;
    pub fn ps_get_logmath(ps: *mut ps_decoder_t) -> *mut logmath_t;
    pub fn logmath_exp(lmath: *mut logmath_t, logb_p: c_int) -> f64;
    pub fn logmath_log_to_ln(lmath: *mut logmath_t, logb_p: c_int) -> f64;
    pub fn ps_nbest(ps: *mut ps_decoder_t) -> *mut ps_nbest_t;
    pub fn ps_nbest_next(nbest: *mut ps_nbest_t) -> *mut ps_nbest_t;
    pub fn ps_nbest_hyp(nbest: *mut ps_nbest_t, out_score: *mut i32) -> *const c_char;
    pub fn ps_nbest_free(nbest: *mut ps_nbest_t);
    /// `FILE *`; NULL switches sphinxbase's (process-wide) logging off.
    pub fn err_set_logfp(stream: *mut c_void);
    pub fn ckd_free(ptr: *mut c_void);
}
