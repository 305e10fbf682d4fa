// Element-wise activations, one per `OP` value (core::UnaryOp::shader_code): 0 gelu (exact,
// erf as Abramowitz & Stegun 7.1.26, the CPU kernel's formula), 1 silu, 2 tanh, 3 relu.
// Params: UnaryParams.

override OP: u32 = 0u;

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

fn erf_approx(v: f32) -> f32 {
    let s = sign(v);
    let z = abs(v);
    let t = 1.0 / (1.0 + 0.3275911 * z);
    let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
    return s * (1.0 - poly * exp(-z * z));
}

fn activate(v: f32) -> f32 {
    switch OP {
        case 0u: { return 0.5 * v * (1.0 + erf_approx(v * 0.70710678118654752)); }
        case 1u: { return v / (1.0 + exp(-v)); }
        case 2u: { return tanh(v); }
        default: { return max(v, 0.0); }
    }
}

@compute @workgroup_size(WORKGROUP)
fn unary(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = grid_index(gid, groups);
    if (i >= p.len) {
        return;
    }
    out[i] = activate(x[i]);
}
