// Activations. gelu is the exact (erf) form that BERT uses; erf follows
// Abramowitz & Stegun 7.1.26, the same formula as the CPU kernel.

override WORKGROUP: u32 = 256u;

struct Params {
    len: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

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

@compute @workgroup_size(WORKGROUP)
fn gelu(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = gid.y * groups.x * WORKGROUP + gid.x;
    if (i >= p.len) {
        return;
    }
    let v = x[i];
    out[i] = 0.5 * v * (1.0 + erf_approx(v * 0.70710678118654752));
}
