//! Deliberately plain reference implementations (f64 accumulation, no blocking, no SIMD).
//! Every device's kernels are checked against these, never against another fast kernel.

pub fn matmul(a: &[f32], b: &[f32], batch: usize, m: usize, k: usize, n: usize, b_shared: bool) -> Vec<f32> {
    let mut out = vec![0.0f32; batch * m * n];
    for bi in 0..batch {
        let a0 = bi * m * k;
        let b0 = if b_shared { 0 } else { bi * k * n };
        for i in 0..m {
            for j in 0..n {
                let mut sum = 0.0f64;
                for p in 0..k {
                    sum += a[a0 + i * k + p] as f64 * b[b0 + p * n + j] as f64;
                }
                out[bi * m * n + i * n + j] = sum as f32;
            }
        }
    }
    out
}

pub fn softmax(x: &[f32], cols: usize) -> Vec<f32> {
    x.chunks(cols.max(1))
        .flat_map(|row| {
            let max = row.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v as f64));
            let exps: Vec<f64> = row.iter().map(|&v| (v as f64 - max).exp()).collect();
            let sum: f64 = exps.iter().sum();
            exps.into_iter().map(move |e| (e / sum) as f32)
        })
        .collect()
}

pub fn layernorm(x: &[f32], gamma: &[f32], beta: &[f32], cols: usize, eps: f32) -> Vec<f32> {
    x.chunks(cols.max(1))
        .flat_map(|row| {
            let n = row.len() as f64;
            let mean = row.iter().map(|&v| v as f64).sum::<f64>() / n;
            let var = row.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n;
            let inv = 1.0 / (var + eps as f64).sqrt();
            row.iter().zip(gamma).zip(beta).map(move |((&v, &g), &b)| ((v as f64 - mean) * inv * g as f64 + b as f64) as f32)
        })
        .collect()
}

/// erf by its Maclaurin series (|x| < 4, where it converges well in f64); 1 beyond, where
/// 1 - erf(x) < 2e-8 is below f32 resolution.
pub fn erf(x: f64) -> f64 {
    if x.abs() >= 4.0 {
        return x.signum();
    }
    let mut term = x;
    let mut sum = x;
    for n in 1..200 {
        term *= -x * x / n as f64;
        let add = term / (2 * n + 1) as f64;
        sum += add;
        if add.abs() < 1e-17 {
            break;
        }
    }
    sum * 2.0 / std::f64::consts::PI.sqrt()
}

pub fn gelu(x: &[f32]) -> Vec<f32> {
    x.iter().map(|&v| (0.5 * v as f64 * (1.0 + erf(v as f64 / std::f64::consts::SQRT_2))) as f32).collect()
}

/// The shape numpy broadcasting gives `a` and `b` (dims right-aligned, each pair equal or
/// one of them 1), or None if they do not broadcast.
pub fn broadcast_shape(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let rank = a.len().max(b.len());
    let at = |d: &[usize], i: usize| if i + d.len() >= rank { d[i + d.len() - rank] } else { 1 };
    (0..rank)
        .map(|i| match (at(a, i), at(b, i)) {
            (x, y) if x == y || y == 1 => Some(x),
            (1, y) => Some(y),
            _ => None,
        })
        .collect()
}

/// `x` (shape `dims`) expanded to the shape `to` by numpy broadcasting, row-major; None if
/// `dims` does not broadcast to exactly `to`.
pub fn broadcast_to(x: &[f32], dims: &[usize], to: &[usize]) -> Option<Vec<f32>> {
    if dims.len() > to.len() || broadcast_shape(dims, to)? != to || x.len() != dims.iter().product::<usize>() {
        return None;
    }
    // Strides of x seen through `to`: 0 where x has size 1 (or no dimension at all).
    let pad = to.len() - dims.len();
    let mut strides = vec![0; to.len()];
    let mut stride = 1;
    for i in (0..dims.len()).rev() {
        strides[pad + i] = if dims[i] == 1 { 0 } else { stride };
        stride *= dims[i];
    }
    Some(strided(x, to, &strides, 0))
}

/// The elements at `offset + Σ index·stride` for every index of `dims`, in row-major order:
/// what any strided view (transpose, permute, a KV-cache window) reads.
pub fn strided(data: &[f32], dims: &[usize], strides: &[usize], offset: usize) -> Vec<f32> {
    let total: usize = dims.iter().product();
    let mut out = Vec::with_capacity(total);
    let mut index = vec![0usize; dims.len()];
    for _ in 0..total {
        out.push(data[offset + index.iter().zip(strides).map(|(i, s)| i * s).sum::<usize>()]);
        for d in (0..dims.len()).rev() {
            index[d] += 1;
            if index[d] < dims[d] {
                break;
            }
            index[d] = 0;
        }
    }
    out
}

/// The contiguous tensor `x` (shape `dims`) with its dimensions reordered: output dimension i
/// is input dimension `perm[i]`.
pub fn permute(x: &[f32], dims: &[usize], perm: &[usize]) -> Vec<f32> {
    let mut contiguous = vec![1; dims.len()];
    for i in (0..dims.len().saturating_sub(1)).rev() {
        contiguous[i] = contiguous[i + 1] * dims[i + 1];
    }
    let out_dims: Vec<usize> = perm.iter().map(|&p| dims[p]).collect();
    let strides: Vec<usize> = perm.iter().map(|&p| contiguous[p]).collect();
    strided(x, &out_dims, &strides, 0)
}

fn broadcast_binary(a: &[f32], ad: &[usize], b: &[f32], bd: &[usize], f: fn(f64, f64) -> f64) -> Option<(Vec<f32>, Vec<usize>)> {
    let dims = broadcast_shape(ad, bd)?;
    let (a, b) = (broadcast_to(a, ad, &dims)?, broadcast_to(b, bd, &dims)?);
    Some((a.iter().zip(&b).map(|(&x, &y)| f(x as f64, y as f64) as f32).collect(), dims))
}

/// `a + b` with numpy broadcasting: (values, shape), or None if the shapes do not broadcast.
pub fn add(a: &[f32], a_dims: &[usize], b: &[f32], b_dims: &[usize]) -> Option<(Vec<f32>, Vec<usize>)> {
    broadcast_binary(a, a_dims, b, b_dims, |x, y| x + y)
}

/// `a · b` elementwise with numpy broadcasting, as [`add`].
pub fn mul(a: &[f32], a_dims: &[usize], b: &[f32], b_dims: &[usize]) -> Option<(Vec<f32>, Vec<usize>)> {
    broadcast_binary(a, a_dims, b, b_dims, |x, y| x * y)
}

pub fn scale(x: &[f32], factor: f32) -> Vec<f32> {
    x.iter().map(|&v| (v as f64 * factor as f64) as f32).collect()
}

/// `x / sqrt(mean(x²) + eps) · gamma` per `cols`-long row.
pub fn rmsnorm(x: &[f32], gamma: &[f32], cols: usize, eps: f32) -> Vec<f32> {
    x.chunks(cols.max(1))
        .flat_map(|row| {
            let mean_sq = row.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / row.len() as f64;
            let inv = 1.0 / (mean_sq + eps as f64).sqrt();
            row.iter().zip(gamma).map(move |(&v, &g)| (v as f64 * inv * g as f64) as f32)
        })
        .collect()
}

/// Rotary embedding of x [seq, heads, head_dim] with tables cos/sin [seq, head_dim/2]: in
/// every head, values 2i and 2i+1 rotate together by the angle of (position, i).
pub fn rope(x: &[f32], cos: &[f32], sin: &[f32], seq: usize, heads: usize, head_dim: usize) -> Vec<f32> {
    let half = head_dim / 2;
    let mut out = vec![0.0f32; seq * heads * head_dim];
    for s in 0..seq {
        for h in 0..heads {
            for i in 0..half {
                let at = (s * heads + h) * head_dim + 2 * i;
                let (a, b) = (x[at] as f64, x[at + 1] as f64);
                let (c, n) = (cos[s * half + i] as f64, sin[s * half + i] as f64);
                out[at] = (a * c - b * n) as f32;
                out[at + 1] = (a * n + b * c) as f32;
            }
        }
    }
    out
}

/// SwiGLU's gate: silu(gate) · up = gate / (1 + e^−gate) · up, elementwise.
pub fn silu_mul(gate: &[f32], up: &[f32]) -> Vec<f32> {
    gate.iter().zip(up).map(|(&g, &u)| (g as f64 / (1.0 + (-g as f64).exp()) * u as f64) as f32).collect()
}

/// `cache` [heads, capacity, dim] after writing `rows` [seq, heads, dim] at positions
/// `start..start + seq` (seq = rows.len() / (heads·dim)).
pub fn kv_write(cache: &[f32], rows: &[f32], heads: usize, capacity: usize, dim: usize, start: usize) -> Vec<f32> {
    let mut out = cache.to_vec();
    let seq = rows.len() / (heads * dim).max(1);
    for s in 0..seq {
        for h in 0..heads {
            let src = (s * heads + h) * dim;
            let dst = (h * capacity + start + s) * dim;
            out[dst..dst + dim].copy_from_slice(&rows[src..src + dim]);
        }
    }
    out
}

/// Rows `ids` of the row-major `table` whose rows have `dim` values.
pub fn gather_rows(table: &[f32], dim: usize, ids: &[u32]) -> Vec<f32> {
    ids.iter().flat_map(|&id| table[id as usize * dim..(id as usize + 1) * dim].iter().copied()).collect()
}

/// IEEE binary16 bits as f64 (normals, subnormals, infinities and NaN).
pub fn f16_to_f64(bits: u16) -> f64 {
    let sign = if bits & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = ((bits >> 10) & 0x1f) as i32;
    let mant = (bits & 0x3ff) as f64;
    sign * match exp {
        0 => mant * 2f64.powi(-24),
        31 if mant == 0.0 => f64::INFINITY,
        31 => f64::NAN,
        _ => (1.0 + mant / 1024.0) * 2f64.powi(exp - 15),
    }
}

/// Decode GGUF blocks of 32 values, written out from the format's definition (not the
/// crate's decoder): Q8_0 = f16 d, 32 × i8 q (w = d·q); Q4_0 = f16 d, 16 bytes (w = d·(q − 8));
/// Q4_1 = f16 d, f16 m, 16 bytes (w = d·q + m). In the 4-bit formats byte j holds value j in
/// its low nibble and value j + 16 in its high nibble. None for other dtypes or a length
/// that is not whole blocks.
pub fn dequantize(dtype: crate::DType, bytes: &[u8]) -> Option<Vec<f64>> {
    use crate::DType;
    let block = match dtype {
        DType::Q8_0 => 34,
        DType::Q4_0 => 18,
        DType::Q4_1 => 20,
        _ => return None,
    };
    if !bytes.len().is_multiple_of(block) {
        return None;
    }
    let half = |b: &[u8], i: usize| f16_to_f64(u16::from_le_bytes([b[i], b[i + 1]]));
    let mut out = Vec::with_capacity(bytes.len() / block * 32);
    for b in bytes.chunks_exact(block) {
        let d = half(b, 0);
        match dtype {
            DType::Q8_0 => out.extend(b[2..34].iter().map(|&q| d * (q as i8) as f64)),
            DType::Q4_0 => {
                out.extend(b[2..18].iter().map(|&q| d * ((q & 15) as f64 - 8.0)));
                out.extend(b[2..18].iter().map(|&q| d * ((q >> 4) as f64 - 8.0)));
            }
            _ => {
                let m = half(b, 2);
                out.extend(b[4..20].iter().map(|&q| d * (q & 15) as f64 + m));
                out.extend(b[4..20].iter().map(|&q| d * (q >> 4) as f64 + m));
            }
        }
    }
    Some(out)
}

/// x [m, k] · Wᵀ where W is n×k in `dtype` blocks (each row its own run of blocks):
/// the blocks are decoded by [`dequantize`], the product accumulated in f64.
pub fn qmatmul(x: &[f32], m: usize, k: usize, w: &[u8], dtype: crate::DType, n: usize) -> Option<Vec<f32>> {
    let w = dequantize(dtype, w)?;
    if w.len() != n * k || x.len() != m * k {
        return None;
    }
    let mut out = vec![0.0f32; m * n];
    for i in 0..m {
        for j in 0..n {
            out[i * n + j] = (0..k).map(|p| x[i * k + p] as f64 * w[j * k + p]).sum::<f64>() as f32;
        }
    }
    Some(out)
}

/// Scaled dot-product attention: softmax(q·kᵀ·scale + bias)·v per batch entry, with
/// q [b, sq, d], k [b, sk, d], v [b, sk, dv] and `bias` already expanded to [b, sq, sk]
/// (see [`broadcast_to`]); all in f64. Returns [b, sq, dv].
#[allow(clippy::too_many_arguments)]
pub fn attention(
    q: &[f32],
    k: &[f32],
    v: &[f32],
    bias: Option<&[f32]>,
    b: usize,
    sq: usize,
    sk: usize,
    d: usize,
    dv: usize,
    scale: f32,
) -> Vec<f32> {
    let mut out = vec![0.0f32; b * sq * dv];
    for bi in 0..b {
        for i in 0..sq {
            let qi = &q[(bi * sq + i) * d..][..d];
            let scores: Vec<f64> = (0..sk)
                .map(|j| {
                    let kj = &k[(bi * sk + j) * d..][..d];
                    let dot = qi.iter().zip(kj).map(|(&x, &y)| x as f64 * y as f64).sum::<f64>();
                    dot * scale as f64 + bias.map_or(0.0, |bias| bias[(bi * sq + i) * sk + j] as f64)
                })
                .collect();
            let max = scores.iter().fold(f64::NEG_INFINITY, |m, &s| m.max(s));
            let exps: Vec<f64> = scores.iter().map(|s| (s - max).exp()).collect();
            let sum: f64 = exps.iter().sum();
            for c in 0..dv {
                let o = exps.iter().enumerate().map(|(j, e)| e / sum * v[(bi * sk + j) * dv + c] as f64).sum::<f64>();
                out[(bi * sq + i) * dv + c] = o as f32;
            }
        }
    }
    out
}

/// Largest absolute and relative (|d| / max(|want|, 1e-3)) difference.
pub fn max_errors(got: &[f32], want: &[f32]) -> (f64, f64) {
    got.iter().zip(want).fold((0.0f64, 0.0f64), |(abs, rel), (&g, &w)| {
        let d = (g as f64 - w as f64).abs();
        let d = if d.is_nan() { f64::INFINITY } else { d };
        (abs.max(d), rel.max(d / (w as f64).abs().max(1e-3)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erf_series_matches_known_values() {
        // Values from Abramowitz & Stegun table 7.1.
        for (x, want) in [(0.5, 0.520_499_877_8), (1.0, 0.842_700_792_9), (2.0, 0.995_322_265_0), (-1.5, -0.966_105_146_5)] {
            assert!((erf(x) - want).abs() < 1e-9, "erf({x}) = {}", erf(x));
        }
    }

    #[test]
    fn broadcasting_follows_numpy() {
        assert_eq!(broadcast_shape(&[2, 3, 4], &[3, 1]), Some(vec![2, 3, 4]));
        assert_eq!(broadcast_shape(&[5, 1, 7], &[6, 1]), Some(vec![5, 6, 7]));
        assert_eq!(broadcast_shape(&[2, 3], &[4, 3]), None);
        let (sum, dims) = add(&[1.0, 2.0], &[2, 1], &[10.0, 20.0, 30.0], &[3]).unwrap();
        assert_eq!(dims, vec![2, 3]);
        assert_eq!(sum, vec![11.0, 21.0, 31.0, 12.0, 22.0, 32.0]);
        assert_eq!(broadcast_to(&[1.0, 2.0], &[2], &[3]), None);
    }

    #[test]
    fn permute_moves_dimensions() {
        let x: Vec<f32> = (0..6).map(|v| v as f32).collect();
        assert_eq!(permute(&x, &[2, 3], &[1, 0]), vec![0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);
    }

    #[test]
    fn f16_decoding_covers_normals_subnormals_and_specials() {
        for (bits, want) in [(0x3c00, 1.0), (0xc000, -2.0), (0x3555, 0.333_251_953_125), (0x0001, 2f64.powi(-24)), (0x7bff, 65504.0)] {
            assert_eq!(f16_to_f64(bits), want, "{bits:#06x}");
        }
        assert_eq!(f16_to_f64(0xfc00), f64::NEG_INFINITY);
        assert!(f16_to_f64(0x7e00).is_nan());
    }

    #[test]
    fn quant_blocks_decode_by_their_definition() {
        // Q4_1 block: d = 0.5, m = -1, bytes 0x21 → value 0 = 0.5·1 − 1, value 16 = 0.5·2 − 1.
        let mut q4_1 = vec![0x00, 0x38, 0x00, 0xbc];
        q4_1.extend([0x21; 16]);
        let w = dequantize(crate::DType::Q4_1, &q4_1).unwrap();
        assert_eq!((w[0], w[15], w[16], w[31]), (-0.5, -0.5, 0.0, 0.0));
        // Q4_0: d = 2, nibble 9 → 2·(9 − 8).
        let mut q4_0 = vec![0x00, 0x40];
        q4_0.extend([0x09; 16]);
        assert_eq!(dequantize(crate::DType::Q4_0, &q4_0).unwrap()[16], -16.0);
        assert_eq!(dequantize(crate::DType::Q4_0, &q4_0).unwrap()[0], 2.0);
        // Q8_0: d = 1, q = -3 (0xfd).
        let mut q8 = vec![0x00, 0x3c];
        q8.extend([0xfd; 32]);
        assert_eq!(dequantize(crate::DType::Q8_0, &q8).unwrap()[31], -3.0);
        assert_eq!(dequantize(crate::DType::Q8_0, &q8[..33]), None);
    }

    #[test]
    fn attention_of_one_key_returns_its_value() {
        let out = attention(&[0.3, -0.2], &[1.0, 2.0], &[5.0, 7.0, 9.0], None, 1, 1, 1, 2, 3, 0.5);
        assert_eq!(out, vec![5.0, 7.0, 9.0]);
    }

    #[test]
    fn max_errors_treats_nan_as_infinite() {
        assert_eq!(max_errors(&[f32::NAN], &[1.0]).0, f64::INFINITY);
    }
}
