//! Answers from the stored history: did a run get slower than another (`compare`), where
//! should a model run (`recommend`, with latency predicted for unmeasured shapes), and what
//! works where (the compatibility matrix of the report). Reads the store; runs nothing.

pub mod compare;
pub mod compat;
pub mod predict;
pub mod recommend;
pub mod significance;
