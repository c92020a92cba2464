//! The decode workers: a fixed set of threads that run every call's recognizer.
//!
//! Decoding is CPU-bound C/C++ code. Run on tokio's blocking pool, every
//! utterance would get a thread of its own (up to 512), and a burst of callers
//! would share the cores between all of them at once; here `[asr]
//! decode_workers` threads (default: one per core) do all the decoding, so the
//! CPU given to speech is bounded and the async threads that carry every call's
//! RTP are never starved.
//!
//! Each recognition is a [`DecodeStream`]: its jobs (start the recognizer, feed
//! blocks of audio while the caller speaks, finish) run in the order they were
//! given, never two at once, on whichever worker is free. A stream that has a
//! finish waiting goes ahead of streams that only have audio: the caller who
//! stopped speaking is the one waiting for an answer.
//!
//! Backpressure degrades one call, not all: a stream whose audio waits
//! undecoded for longer than `[asr] decode_backlog` refuses the next block
//! ([`DecodeError::Backlogged`]); the call drops it and goes on with the keypad,
//! and the work it frees lets the other calls catch up.
//!
//! Dropping a stream abandons it (the caller hung up, the burst was noise):
//! its queued audio is discarded and its recognizer dropped on a worker.
//! Dropping the pool stops the workers once they finish the job in hand;
//! finishes still queued are answered with [`DecodeError::ShutDown`].

use std::collections::{HashMap, VecDeque};
use std::num::NonZeroUsize;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

use tracing::warn;

use crate::asr::{AsrError, Recognition, Recognizer};

/// How a pool is sized and how much a stream may lag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeSettings {
    /// Worker threads.
    pub workers: NonZeroUsize,
    /// Samples (8 kHz) a stream may have waiting for a worker before its next
    /// block is refused.
    pub max_backlog_samples: usize,
}

impl DecodeSettings {
    /// One worker per core (as the OS reports them; 1 if it cannot say), and a
    /// backlog of two seconds of audio.
    pub fn for_this_machine() -> DecodeSettings {
        DecodeSettings {
            workers: std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN),
            max_backlog_samples: 2 * 8000,
        }
    }
}

/// Why a stream cannot go on.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The stream's audio waits longer than the backlog allows: the workers are
    /// saturated. This stream is dropped; the others go on.
    #[error("decoding is {waiting} samples behind (limit {limit}): stream dropped")]
    Backlogged { waiting: usize, limit: usize },
    /// The pool is stopping.
    #[error("the decode workers are shut down")]
    ShutDown,
    /// The engine failed (starting the recognizer, or decoding).
    #[error("recognition failed")]
    Asr(#[from] AsrError),
    /// A decode job panicked (a bug in an engine binding): this stream is lost,
    /// the worker goes on.
    #[error("a decode job panicked")]
    Panicked,
    /// The OS refused to start a worker thread.
    #[error("cannot start decode worker {index}")]
    Spawn { index: usize, source: std::io::Error },
}

/// Makes the recognizer of a stream; runs on a worker (PocketSphinx may build
/// a decoder there, about 100 ms).
pub type StartRecognizer = Box<dyn FnOnce() -> Result<Box<dyn Recognizer>, AsrError> + Send>;

/// Receives the result of a finished stream; runs on a worker, so it must
/// only hand the result on (a channel send).
pub type OnFinished = Box<dyn FnOnce(Result<Recognition, DecodeError>) + Send>;

enum Job {
    Start(StartRecognizer),
    Audio(Vec<i16>),
    Finish(OnFinished),
}

/// A stream's state inside the pool.
#[derive(Default)]
struct Slot {
    jobs: VecDeque<Job>,
    /// Audio samples in `jobs`.
    backlog: usize,
    /// `None` before the start job ran, and while a worker holds it.
    recognizer: Option<Box<dyn Recognizer>>,
    /// The first error: later audio is skipped, the finish reports it.
    failed: Option<DecodeError>,
    /// In a ready queue or held by a worker.
    scheduled: bool,
    /// The handle was dropped: discard everything.
    abandoned: bool,
}

impl Slot {
    fn has_finish(&self) -> bool {
        self.jobs.iter().any(|job| matches!(job, Job::Finish(_)))
    }
}

#[derive(Default)]
struct State {
    slots: HashMap<u64, Slot>,
    next_id: u64,
    /// Streams with a finish queued: served first.
    urgent: VecDeque<u64>,
    /// Streams with audio queued.
    ready: VecDeque<u64>,
    shutdown: bool,
}

impl State {
    /// Queues `id` for a worker if it has work and is not already queued or held.
    fn schedule(&mut self, id: u64) -> bool {
        let Some(slot) = self.slots.get_mut(&id) else { return false };
        if slot.scheduled || slot.jobs.is_empty() {
            return false;
        }
        slot.scheduled = true;
        if slot.has_finish() {
            self.urgent.push_back(id);
        } else {
            self.ready.push_back(id);
        }
        true
    }

    /// A finish was queued on a stream already waiting in the normal queue:
    /// move it ahead.
    fn promote(&mut self, id: u64) {
        if let Some(position) = self.ready.iter().position(|&queued| queued == id) {
            self.ready.remove(position);
            self.urgent.push_back(id);
        }
    }

    fn next(&mut self) -> Option<u64> {
        self.urgent.pop_front().or_else(|| self.ready.pop_front())
    }
}

struct Shared {
    state: Mutex<State>,
    work: Condvar,
    max_backlog: usize,
}

impl Shared {
    /// The state; a poisoned lock only means a thread panicked while holding
    /// it, and every update here leaves the state consistent at each step.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The decode workers. Dropping the pool stops them (see the module docs).
pub struct DecodePool {
    shared: Arc<Shared>,
    workers: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for DecodePool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecodePool").field("workers", &self.workers.len()).finish()
    }
}

impl DecodePool {
    /// Starts `settings.workers` threads.
    pub fn start(settings: DecodeSettings) -> Result<DecodePool, DecodeError> {
        let shared = Arc::new(Shared { state: Mutex::new(State::default()), work: Condvar::new(), max_backlog: settings.max_backlog_samples });
        let mut pool = DecodePool { shared, workers: Vec::new() };
        for index in 0..settings.workers.get() {
            let shared = pool.shared.clone();
            // On failure, `pool` is dropped here and stops the workers started so far.
            let handle = std::thread::Builder::new()
                .name(format!("decode-{index}"))
                .spawn(move || work(&shared))
                .map_err(|source| DecodeError::Spawn { index, source })?;
            pool.workers.push(handle);
        }
        Ok(pool)
    }

    /// Worker threads.
    pub fn workers(&self) -> usize {
        self.workers.len()
    }

    /// Streams open now (started and not yet finished or dropped).
    pub fn open_streams(&self) -> usize {
        self.shared.lock().slots.len()
    }

    /// Opens a stream; `start` makes its recognizer on a worker, before any audio.
    pub fn open(&self, start: StartRecognizer) -> Result<DecodeStream, DecodeError> {
        let mut state = self.shared.lock();
        if state.shutdown {
            return Err(DecodeError::ShutDown);
        }
        let id = state.next_id;
        state.next_id += 1;
        let mut slot = Slot::default();
        slot.jobs.push_back(Job::Start(start));
        state.slots.insert(id, slot);
        state.schedule(id);
        drop(state);
        self.shared.work.notify_one();
        Ok(DecodeStream { id, shared: self.shared.clone(), finished: false })
    }
}

impl Drop for DecodePool {
    fn drop(&mut self) {
        self.shared.lock().shutdown = true;
        self.shared.work.notify_all();
        for worker in self.workers.drain(..) {
            // A worker only ends by returning (job panics are caught): nothing to report.
            let _ = worker.join();
        }
        // Answer the finishes nobody will run; drop the rest outside the lock.
        let slots: Vec<Slot> = {
            let mut state = self.shared.lock();
            state.urgent.clear();
            state.ready.clear();
            state.slots.drain().map(|(_, slot)| slot).collect()
        };
        for slot in slots {
            for job in slot.jobs {
                if let Job::Finish(done) = job {
                    done(Err(DecodeError::ShutDown));
                }
            }
        }
    }
}

/// One recognition's handle: feed it audio in order, then finish it. Dropping
/// it unfinished abandons the recognition.
pub struct DecodeStream {
    id: u64,
    shared: Arc<Shared>,
    finished: bool,
}

impl std::fmt::Debug for DecodeStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecodeStream").field("id", &self.id).finish()
    }
}

impl DecodeStream {
    /// Queues a block of audio. Never waits: refused when the stream is too far
    /// behind (then drop the stream) or the pool is shut down.
    pub fn push(&self, samples: Vec<i16>) -> Result<(), DecodeError> {
        let mut state = self.shared.lock();
        if state.shutdown {
            return Err(DecodeError::ShutDown);
        }
        let Some(slot) = state.slots.get_mut(&self.id) else { return Err(DecodeError::ShutDown) };
        let waiting = slot.backlog + samples.len();
        if waiting > self.shared.max_backlog {
            return Err(DecodeError::Backlogged { waiting, limit: self.shared.max_backlog });
        }
        slot.backlog = waiting;
        slot.jobs.push_back(Job::Audio(samples));
        if state.schedule(self.id) {
            drop(state);
            self.shared.work.notify_one();
        }
        Ok(())
    }

    /// Ends the audio; `done` gets the recognition (or why there is none) on a
    /// worker, once every block pushed before has been decoded.
    pub fn finish(mut self, done: OnFinished) {
        self.finished = true;
        let mut state = self.shared.lock();
        let shutdown = state.shutdown;
        let Some(slot) = state.slots.get_mut(&self.id).filter(|_| !shutdown) else {
            drop(state);
            done(Err(DecodeError::ShutDown));
            return;
        };
        slot.jobs.push_back(Job::Finish(done));
        if !state.schedule(self.id) {
            state.promote(self.id);
        }
        drop(state);
        self.shared.work.notify_one();
    }
}

impl Drop for DecodeStream {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        let mut state = self.shared.lock();
        let Some(slot) = state.slots.get_mut(&self.id) else { return };
        slot.abandoned = true;
        let jobs = std::mem::take(&mut slot.jobs);
        slot.backlog = 0;
        if !slot.scheduled {
            // A worker removes it: dropping a recognizer is engine work (a
            // PocketSphinx decoder closes its utterance), not for this thread.
            slot.scheduled = true;
            state.ready.push_back(self.id);
            self.shared.work.notify_one();
        }
        drop(state);
        // Queued audio and a start closure: plain memory.
        drop(jobs);
    }
}

/// A worker: takes the next stream, runs all its queued jobs, repeats.
fn work(shared: &Shared) {
    loop {
        let (id, jobs, recognizer, failed) = {
            let mut state = shared.lock();
            let id = loop {
                if state.shutdown {
                    return;
                }
                if let Some(id) = state.next() {
                    break id;
                }
                state = shared.work.wait(state).unwrap_or_else(PoisonError::into_inner);
            };
            let Some(slot) = state.slots.get_mut(&id) else { continue };
            if slot.abandoned {
                let slot = state.slots.remove(&id);
                drop(state);
                drop(slot);
                continue;
            }
            slot.backlog = 0;
            (id, std::mem::take(&mut slot.jobs), slot.recognizer.take(), slot.failed.take())
        };
        let outcome = run_jobs(jobs, recognizer, failed);
        let mut state = shared.lock();
        let Some(slot) = state.slots.get_mut(&id) else { continue };
        slot.scheduled = false;
        match outcome {
            Outcome::Open { recognizer, failed } if !slot.abandoned => {
                slot.recognizer = recognizer;
                slot.failed = failed;
                if state.schedule(id) {
                    drop(state);
                    shared.work.notify_one();
                }
            }
            Outcome::Open { recognizer, .. } => {
                let slot = state.slots.remove(&id);
                drop(state);
                drop((slot, recognizer));
            }
            Outcome::Finished { done, result } => {
                // Gone from the pool before its owner hears of it.
                let slot = state.slots.remove(&id);
                drop(state);
                drop(slot);
                done(result);
            }
        }
    }
}

enum Outcome {
    /// The stream goes on (no finish yet).
    Open { recognizer: Option<Box<dyn Recognizer>>, failed: Option<DecodeError> },
    /// The finish ran: its result, for its receiver.
    Finished { done: OnFinished, result: Result<Recognition, DecodeError> },
}

/// Runs one stream's jobs in order. A panicking engine loses this stream only.
fn run_jobs(jobs: VecDeque<Job>, mut recognizer: Option<Box<dyn Recognizer>>, mut failed: Option<DecodeError>) -> Outcome {
    for job in jobs {
        match job {
            Job::Start(start) => match catch(start) {
                Ok(started) => recognizer = Some(started),
                Err(error) => failed = Some(error),
            },
            Job::Audio(samples) => {
                if failed.is_some() {
                    continue;
                }
                let Some(mut active) = recognizer.take() else { continue };
                match catch(move || active.push_audio(&samples).map(|()| active)) {
                    Ok(active) => recognizer = Some(active),
                    Err(error) => failed = Some(error),
                }
            }
            Job::Finish(done) => {
                let result = match (failed.take(), recognizer.take()) {
                    (Some(error), _) => Err(error),
                    (None, Some(active)) => catch(move || active.finish()),
                    // The start job always comes first, so this is unreachable in
                    // practice; answer rather than lose the caller's result.
                    (None, None) => Err(DecodeError::ShutDown),
                };
                return Outcome::Finished { done, result };
            }
        }
    }
    Outcome::Open { recognizer, failed }
}

/// Runs an engine call, turning its error and any panic into a [`DecodeError`].
fn catch<T>(call: impl FnOnce() -> Result<T, AsrError>) -> Result<T, DecodeError> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(call)) {
        Ok(result) => result.map_err(DecodeError::Asr),
        Err(_) => {
            warn!("a decode job panicked: its recognition is lost");
            Err(DecodeError::Panicked)
        }
    }
}

#[cfg(test)]
mod tests {
    //! The pool keeps each stream's jobs in order and never runs one stream on
    //! two workers at once, never runs more jobs at once than it has workers,
    //! refuses audio of a stream that lags (only that stream), serves finishes
    //! first, discards abandoned streams, and answers queued finishes at shutdown.
    //! Test recognizers block on gates the test opens: no sleeps, no clock.
    use super::*;
    use crate::asr::Hypothesis;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::mpsc;

    /// What the test recognizers report.
    #[derive(Default)]
    struct Probe {
        /// Jobs running now, and the most ever seen at once.
        running: AtomicUsize,
        peak: AtomicUsize,
        /// (stream tag, first sample of the block) in the order blocks ran.
        log: Mutex<Vec<(u32, i16)>>,
        /// Recognizers made and dropped.
        created: AtomicUsize,
        dropped: AtomicUsize,
    }

    /// A gate that blocks jobs until opened (and can be closed again).
    #[derive(Default)]
    struct Gate {
        open: Mutex<bool>,
        changed: Condvar,
        waiting: AtomicUsize,
    }

    impl Gate {
        fn wait(&self) {
            let mut open = self.open.lock().unwrap();
            self.waiting.fetch_add(1, Ordering::SeqCst);
            self.changed.notify_all();
            while !*open {
                open = self.changed.wait(open).unwrap();
            }
            self.waiting.fetch_sub(1, Ordering::SeqCst);
        }
        fn set(&self, value: bool) {
            *self.open.lock().unwrap() = value;
            self.changed.notify_all();
        }
        /// Blocks until `n` jobs wait at the gate.
        fn until_waiting(&self, n: usize) {
            let mut open = self.open.lock().unwrap();
            while self.waiting.load(Ordering::SeqCst) < n {
                open = self.changed.wait(open).unwrap();
            }
            drop(open);
        }
    }

    struct TestRecognizer {
        tag: u32,
        probe: Arc<Probe>,
        gate: Arc<Gate>,
        blocks: Vec<i16>,
    }

    impl Recognizer for TestRecognizer {
        fn push_audio(&mut self, samples: &[i16]) -> Result<(), AsrError> {
            let now = self.probe.running.fetch_add(1, Ordering::SeqCst) + 1;
            self.probe.peak.fetch_max(now, Ordering::SeqCst);
            self.gate.wait();
            if samples.first() == Some(&-1) {
                self.probe.running.fetch_sub(1, Ordering::SeqCst);
                panic!("test engine bug");
            }
            self.probe.log.lock().unwrap().push((self.tag, samples[0]));
            self.blocks.push(samples[0]);
            self.probe.running.fetch_sub(1, Ordering::SeqCst);
            Ok(())
        }
        fn partial(&mut self) -> Option<String> {
            None
        }
        fn finish(self: Box<Self>) -> Result<Recognition, AsrError> {
            let text = self.blocks.iter().map(|b| b.to_string()).collect::<Vec<_>>().join(" ");
            Ok(Recognition { alternatives: vec![Hypothesis { text: format!("{}: {text}", self.tag), confidence: 1.0 }], in_grammar: None })
        }
    }

    impl Drop for TestRecognizer {
        fn drop(&mut self) {
            self.probe.dropped.fetch_add(1, Ordering::SeqCst);
        }
    }

    struct Bench {
        pool: DecodePool,
        probe: Arc<Probe>,
        gate: Arc<Gate>,
    }

    impl Bench {
        fn new(workers: usize, max_backlog_samples: usize) -> Bench {
            let settings = DecodeSettings { workers: NonZeroUsize::new(workers).unwrap(), max_backlog_samples };
            Bench { pool: DecodePool::start(settings).unwrap(), probe: Arc::default(), gate: Arc::default() }
        }
        fn open(&self, tag: u32) -> DecodeStream {
            let (probe, gate) = (self.probe.clone(), self.gate.clone());
            self.pool
                .open(Box::new(move || {
                    probe.created.fetch_add(1, Ordering::SeqCst);
                    Ok(Box::new(TestRecognizer { tag, probe, gate, blocks: Vec::new() }) as Box<dyn Recognizer>)
                }))
                .unwrap()
        }
    }

    type Results = mpsc::Receiver<Result<Recognition, DecodeError>>;

    fn finish(stream: DecodeStream) -> Results {
        let (tx, rx) = mpsc::channel();
        stream.finish(Box::new(move |result| tx.send(result).unwrap()));
        rx
    }

    fn text(result: Result<Recognition, DecodeError>) -> String {
        result.unwrap().best().unwrap().text.clone()
    }

    #[test]
    fn each_stream_decodes_its_blocks_in_order_within_the_worker_bound() {
        for workers in [1, 2, 4] {
            let bench = Bench::new(workers, usize::MAX);
            bench.gate.set(true);
            let streams: Vec<DecodeStream> = (0..8).map(|tag| bench.open(tag)).collect();
            for block in 0..20i16 {
                for stream in &streams {
                    stream.push(vec![block; 800]).unwrap();
                }
            }
            let results: Vec<Results> = streams.into_iter().map(finish).collect();
            let expected: String = (0..20).map(|b: i16| b.to_string()).collect::<Vec<_>>().join(" ");
            for (tag, rx) in results.iter().enumerate() {
                assert_eq!(text(rx.recv().unwrap()), format!("{tag}: {expected}"), "workers {workers}");
            }
            assert!(bench.probe.peak.load(Ordering::SeqCst) <= workers, "workers {workers}: peak {}", bench.probe.peak.load(Ordering::SeqCst));
            assert_eq!(bench.pool.open_streams(), 0);
            // Per stream, the log is in block order (no two workers on one stream).
            let log = bench.probe.log.lock().unwrap();
            for tag in 0..8 {
                let blocks: Vec<i16> = log.iter().filter(|(t, _)| *t == tag).map(|(_, b)| *b).collect();
                assert_eq!(blocks, (0..20).collect::<Vec<_>>());
            }
        }
    }

    #[test]
    fn all_workers_are_used_and_no_more() {
        let bench = Bench::new(2, usize::MAX);
        let streams: Vec<DecodeStream> = (0..4).map(|tag| bench.open(tag)).collect();
        for stream in &streams {
            stream.push(vec![1; 800]).unwrap();
        }
        // Two streams reach the engine; the other two wait for a worker.
        bench.gate.until_waiting(2);
        assert_eq!(bench.probe.running.load(Ordering::SeqCst), 2);
        bench.gate.set(true);
        let results: Vec<Results> = streams.into_iter().map(finish).collect();
        for rx in results {
            assert!(rx.recv().unwrap().is_ok());
        }
        assert_eq!(bench.probe.peak.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn a_lagging_stream_is_refused_alone() {
        let bench = Bench::new(1, 3 * 800);
        let slow = bench.open(0);
        slow.push(vec![0; 800]).unwrap();
        // The only worker is stuck in the first block: what follows waits.
        bench.gate.until_waiting(1);
        for block in 1..=3 {
            slow.push(vec![block; 800]).unwrap();
        }
        match slow.push(vec![4; 800]) {
            Err(DecodeError::Backlogged { waiting, limit }) => assert_eq!((waiting, limit), (4 * 800, 3 * 800)),
            other => panic!("expected Backlogged, got {other:?}"),
        }
        // Another call is not refused for it.
        let other = bench.open(1);
        other.push(vec![7; 800]).unwrap();
        bench.gate.set(true);
        drop(slow);
        assert_eq!(text(finish(other).recv().unwrap()), "1: 7");
    }

    #[test]
    fn finishes_go_before_streams_that_only_have_audio() {
        let bench = Bench::new(1, usize::MAX);
        let busy = bench.open(0);
        busy.push(vec![0; 800]).unwrap();
        bench.gate.until_waiting(1);
        // While the worker is held: three streams with audio, then one finishing.
        let talking: Vec<DecodeStream> = (1..=3).map(|tag| bench.open(tag)).collect();
        for stream in &talking {
            stream.push(vec![1; 800]).unwrap();
        }
        let done = bench.open(9);
        done.push(vec![9; 800]).unwrap();
        let done = finish(done);
        bench.gate.set(true);
        assert_eq!(text(done.recv().unwrap()), "9: 9");
        let log = bench.probe.log.lock().unwrap().clone();
        let order: Vec<u32> = log.iter().map(|(tag, _)| *tag).collect();
        // Stream 9 ran right after the block in hand, ahead of 1, 2 and 3.
        assert_eq!(order.iter().position(|&t| t == 9), Some(1), "{order:?}");
        drop(talking);
        drop(busy);
    }

    #[test]
    fn an_abandoned_stream_is_discarded() {
        let bench = Bench::new(1, usize::MAX);
        let blocker = bench.open(0);
        blocker.push(vec![0; 800]).unwrap();
        bench.gate.until_waiting(1);
        let gone = bench.open(1);
        gone.push(vec![5; 800]).unwrap();
        drop(gone);
        bench.gate.set(true);
        assert_eq!(text(finish(blocker).recv().unwrap()), "0: 0");
        // Stream 1 was never decoded; a later stream proves the worker goes on.
        assert_eq!(text(finish(bench.open(2)).recv().unwrap()), "2: ");
        assert!(bench.probe.log.lock().unwrap().iter().all(|(tag, _)| *tag != 1));
        // Made: 0 and 2 (1 was abandoned before its start ran); all freed.
        assert_eq!(bench.probe.created.load(Ordering::SeqCst), 2);
        assert_eq!(bench.probe.dropped.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn engine_errors_and_panics_lose_one_stream_only() {
        let bench = Bench::new(1, usize::MAX);
        bench.gate.set(true);
        let failing = bench.pool.open(Box::new(|| Err(AsrError::GrammarLoad { engine: crate::asr::EngineKind::Vosk }))).unwrap();
        failing.push(vec![1; 800]).unwrap();
        assert!(matches!(finish(failing).recv().unwrap(), Err(DecodeError::Asr(AsrError::GrammarLoad { .. }))));
        let panicking = bench.open(1);
        panicking.push(vec![-1; 800]).unwrap();
        assert!(matches!(finish(panicking).recv().unwrap(), Err(DecodeError::Panicked)));
        let fine = bench.open(2);
        fine.push(vec![3; 800]).unwrap();
        assert_eq!(text(finish(fine).recv().unwrap()), "2: 3");
    }

    #[test]
    fn shutdown_answers_queued_finishes_and_stops_the_workers() {
        let bench = Bench::new(1, usize::MAX);
        let held = bench.open(0);
        held.push(vec![0; 800]).unwrap();
        bench.gate.until_waiting(1);
        let queued = finish(bench.open(1));
        let Bench { pool, probe, gate } = bench;
        // Open the gate only once the pool is shutting down: the job in hand
        // ends, then the worker stops instead of taking stream 1.
        let shared = pool.shared.clone();
        let opener = std::thread::spawn(move || {
            while !shared.lock().shutdown {
                std::thread::yield_now();
            }
            gate.set(true);
        });
        let late = held;
        drop(pool);
        opener.join().unwrap();
        assert!(matches!(queued.recv().unwrap(), Err(DecodeError::ShutDown)));
        assert!(matches!(late.push(vec![1; 800]), Err(DecodeError::ShutDown)));
        assert!(matches!(finish(late).recv().unwrap(), Err(DecodeError::ShutDown)));
        // Stream 1 never started; stream 0's recognizer was freed with the pool.
        assert_eq!(probe.created.load(Ordering::SeqCst), 1);
        assert_eq!(probe.dropped.load(Ordering::SeqCst), 1);
    }
}
