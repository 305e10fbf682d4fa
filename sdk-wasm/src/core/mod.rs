//! Leaves: element types, shapes and layouts, block formats, f16 helpers, the error type and
//! seeded data. Nothing here imports anything else of the crate, so every layer above may
//! use them (see docs/architecture.md for the layering).

pub mod blocks;
mod broadcast;
mod dtype;
mod elementwise;
pub mod error;
pub mod f16;
pub mod finite;
pub mod low_bits;
mod option_name;
mod random;
mod shape;

pub use broadcast::{broadcast_shape, broadcast_strides};
pub use dtype::DType;
pub use elementwise::{BinaryOp, UnaryOp};
pub use error::{Error, Result};
pub use option_name::OptionStyle;
pub use random::SeededRng;
pub use shape::{Layout, Shape};
