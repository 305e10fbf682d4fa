//! The element-wise functions every backend implements, named once: each op's identity, the
//! code its WGSL kernel switches on, and its plain f64 definition (what tests check against).
//! Adding one means a variant here, its line in the CPU kernel (`backend/cpu/activations.rs`
//! or `elementwise.rs`), its case in the WGSL file and its WebNN builder call.

/// One input, one output, same shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    /// Exact (erf) GELU, as BERT uses it.
    Gelu,
    /// x · sigmoid(x) (SiLU / swish), LLaMA's gate activation.
    Silu,
    Tanh,
    /// max(x, 0), the vision heads' activation.
    Relu,
}

impl UnaryOp {
    pub const ALL: [UnaryOp; 4] = [UnaryOp::Gelu, UnaryOp::Silu, UnaryOp::Tanh, UnaryOp::Relu];

    pub fn name(self) -> &'static str {
        match self {
            UnaryOp::Gelu => "gelu",
            UnaryOp::Silu => "silu",
            UnaryOp::Tanh => "tanh",
            UnaryOp::Relu => "relu",
        }
    }

    /// The value of `OP` in `shaders/activation.wgsl` for this op.
    pub fn shader_code(self) -> u32 {
        self as u32
    }

    /// The plain f64 definition.
    pub fn reference(self, x: f64) -> f64 {
        match self {
            UnaryOp::Gelu => 0.5 * x * (1.0 + erf_f64(x / std::f64::consts::SQRT_2)),
            UnaryOp::Silu => x / (1.0 + (-x).exp()),
            UnaryOp::Tanh => x.tanh(),
            UnaryOp::Relu => x.max(0.0),
        }
    }
}

/// Two inputs broadcast against each other (numpy rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    Add,
    Mul,
}

impl BinaryOp {
    pub fn name(self) -> &'static str {
        match self {
            BinaryOp::Add => "add",
            BinaryOp::Mul => "mul",
        }
    }

    #[inline]
    pub fn apply(self, x: f32, y: f32) -> f32 {
        match self {
            BinaryOp::Add => x + y,
            BinaryOp::Mul => x * y,
        }
    }

    /// The value of `OP` in `shaders/elementwise.wgsl` for this op.
    pub fn shader_code(self) -> u32 {
        self as u32
    }
}

/// erf in f64 (Abramowitz & Stegun 7.1.26 refined by one Newton step is not needed here: the
/// series below converges to double precision for |x| ≤ 6, and erf is ±1 beyond).
fn erf_f64(x: f64) -> f64 {
    if x.abs() > 6.0 {
        return x.signum();
    }
    // Maclaurin series: erf(x) = 2/√π Σ (-1)^n x^(2n+1) / (n! (2n+1)).
    let mut term = x;
    let mut sum = x;
    let x2 = x * x;
    for n in 1..200 {
        term *= -x2 / n as f64;
        let add = term / (2 * n + 1) as f64;
        sum += add;
        if add.abs() < 1e-17 * sum.abs().max(1e-300) {
            break;
        }
    }
    sum * 2.0 / std::f64::consts::PI.sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f64_definitions_hit_known_values() {
        assert!((erf_f64(1.0) - 0.842_700_792_949_714_9).abs() < 1e-14);
        assert!((UnaryOp::Gelu.reference(1.0) - 0.841_344_746_068_543).abs() < 1e-12);
        assert!((UnaryOp::Silu.reference(2.0) - 1.761_594_155_955_764_9).abs() < 1e-12);
        assert_eq!(UnaryOp::ALL.iter().map(|op| op.shader_code()).collect::<Vec<_>>(), [0, 1, 2, 3]);
    }
}
