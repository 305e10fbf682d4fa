// out[m×n] = x[m×k] · Wᵀ with W's n rows kept in a block format and decoded here, in the
// kernel, block by block (weights never expand to f32 in GPU memory). One workgroup per output
// value: its threads split the row's blocks, then reduce. The format is an override constant:
// 2 = Q4_0, 3 = Q4_1, 8 = Q8_0 (GGUF layouts), 20 = Q2, 21 = Q3 (ours, see tensor/low_bits.rs).

override FORMAT: u32 = 3u;

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

const QWORKGROUP: u32 = 64u;

fn byte_at(i: u32) -> u32 {
    return (w[i >> 2u] >> ((i & 3u) * 8u)) & 0xffu;
}

fn f16_at(i: u32) -> f32 {
    return unpack2x16float(byte_at(i) | (byte_at(i + 1u) << 8u)).x;
}

fn block_bytes() -> u32 {
    switch FORMAT {
        case 2u: { return 18u; }
        case 8u: { return 34u; }
        case 20u: { return 12u; }
        case 21u: { return 16u; }
        default: { return 20u; }
    }
}

// Dot product of one block (32 weights at byte `base`) with x[xo .. xo+32].
fn block_dot(base: u32, xo: u32) -> f32 {
    var acc = 0.0;
    let d = f16_at(base);
    if (FORMAT == 8u) {
        for (var j = 0u; j < 32u; j = j + 1u) {
            let q = i32(byte_at(base + 2u + j) << 24u) >> 24u;
            acc = acc + d * f32(q) * x[xo + j];
        }
        return acc;
    }
    if (FORMAT == 2u || FORMAT == 3u) {
        let off = select(4u, 2u, FORMAT == 2u);
        let m = select(f16_at(base + 2u), -8.0 * d, FORMAT == 2u);
        for (var j = 0u; j < 16u; j = j + 1u) {
            let q = byte_at(base + off + j);
            acc = acc + (d * f32(q & 15u) + m) * x[xo + j] + (d * f32(q >> 4u) + m) * x[xo + j + 16u];
        }
        return acc;
    }
    // Q2 / Q3: 2 low bits in 8 bytes (byte j: values j, j+8, j+16, j+24), Q3's third bits in a u32.
    let m = f16_at(base + 2u);
    var high = 0u;
    if (FORMAT == 21u) {
        high = byte_at(base + 12u) | (byte_at(base + 13u) << 8u) | (byte_at(base + 14u) << 16u) | (byte_at(base + 15u) << 24u);
    }
    for (var j = 0u; j < 8u; j = j + 1u) {
        let b = byte_at(base + 4u + j);
        for (var s = 0u; s < 4u; s = s + 1u) {
            let i = j + 8u * s;
            let q = ((b >> (2u * s)) & 3u) | (((high >> i) & 1u) << 2u);
            acc = acc + (d * f32(q) + m) * x[xo + i];
        }
    }
    return acc;
}

@compute @workgroup_size(64)
fn qmatmul(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let index = group_index(wid, groups);
    if (index >= p.m * p.n) {
        return;
    }
    let i = index / p.n;
    let r = index % p.n;
    let blocks = p.k / 32u;
    var part = 0.0;
    for (var b = lid.x; b < blocks; b = b + QWORKGROUP) {
        part = part + block_dot(r * p.row_bytes + b * block_bytes(), i * p.k + b * 32u);
    }
    let total = workgroup_sum(lid.x, QWORKGROUP, part);
    if (lid.x == 0u) {
        out[index] = total;
    }
}
