// Tiled (batched) matmul: C[b] = A[b] · B[b].
// A 16×16 workgroup computes a 64×64 block of C; each invocation a 4×4 register block.
// A and B are read through strides, so transposed views need no copy.

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

const TILE_M: u32 = 64u;
const TILE_N: u32 = 64u;
const TILE_K: u32 = 16u;
const THREADS: u32 = 256u;

// Stored k-major so each invocation reads 4 consecutive rows / columns.
var<workgroup> tile_a: array<f32, 1024>; // TILE_K × TILE_M
var<workgroup> tile_b: array<f32, 1024>; // TILE_K × TILE_N

@compute @workgroup_size(16, 16, 1)
fn matmul(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
    let batch = wid.z;
    let row0 = wid.y * TILE_M;
    let col0 = wid.x * TILE_N;
    let tid = lid.y * 16u + lid.x;
    let a_base = p.a_offset + batch * p.a_batch_stride;
    let b_base = p.b_offset + batch * p.b_batch_stride;

    var acc: array<vec4<f32>, 4>;
    for (var k0 = 0u; k0 < p.k; k0 = k0 + TILE_K) {
        for (var i = 0u; i < 4u; i = i + 1u) {
            let idx = tid + i * THREADS;
            let ar = idx / TILE_K;
            let ak = idx % TILE_K;
            var av = 0.0;
            if (row0 + ar < p.m && k0 + ak < p.k) {
                av = a[a_base + (row0 + ar) * p.a_row_stride + (k0 + ak) * p.a_col_stride];
            }
            tile_a[ak * TILE_M + ar] = av;
            let bk = idx / TILE_N;
            let bc = idx % TILE_N;
            var bv = 0.0;
            if (k0 + bk < p.k && col0 + bc < p.n) {
                bv = b[b_base + (k0 + bk) * p.b_row_stride + (col0 + bc) * p.b_col_stride];
            }
            tile_b[bk * TILE_N + bc] = bv;
        }
        workgroupBarrier();
        for (var kk = 0u; kk < TILE_K; kk = kk + 1u) {
            let ao = kk * TILE_M + lid.y * 4u;
            let bo = kk * TILE_N + lid.x * 4u;
            let bv = vec4<f32>(tile_b[bo], tile_b[bo + 1u], tile_b[bo + 2u], tile_b[bo + 3u]);
            acc[0] = fma(vec4<f32>(tile_a[ao]), bv, acc[0]);
            acc[1] = fma(vec4<f32>(tile_a[ao + 1u]), bv, acc[1]);
            acc[2] = fma(vec4<f32>(tile_a[ao + 2u]), bv, acc[2]);
            acc[3] = fma(vec4<f32>(tile_a[ao + 3u]), bv, acc[3]);
        }
        workgroupBarrier();
    }

    let c_base = batch * p.m * p.n;
    for (var i = 0u; i < 4u; i = i + 1u) {
        let row = row0 + lid.y * 4u + i;
        for (var j = 0u; j < 4u; j = j + 1u) {
            let col = col0 + lid.x * 4u + j;
            if (row < p.m && col < p.n) {
                c[c_base + row * p.n + col] = acc[i][j];
            }
        }
    }
}
