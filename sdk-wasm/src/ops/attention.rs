//! Scaled dot-product attention: a backend's fused kernel where it has one (the CPU: tiled,
//! online softmax, no score matrix), else composed from the public ops (matmul with the keys
//! transposed as a view, scale, add, softmax, matmul), so it runs wherever they run.

use super::{add, check_f32, contiguous, finish, matmul, operand, scale as scale_by, softmax};
use crate::backend::{AttentionOps, AttentionPlan};
use crate::error::{Error, Result};
use crate::tensor::storage::dispatch;
use crate::tensor::Tensor;

/// `softmax(q·kᵀ·scale + bias)·v` for every one of `b` independent problems (b = batch·heads):
/// q [b, sq, d], k [b, sk, d], v [b, sk, dv] → [b, sq, dv].
///
/// `bias` is added to the scaled scores [b, sq, sk] before the softmax:
/// - of rank ≤ 3 it must broadcast (numpy rules) to exactly [b, sq, sk]: a causal mask
///   [sq, sk], a per-problem mask [b, 1, sk], a full bias [b, sq, sk];
/// - of rank 4 it is [B, H, sq or 1, sk or 1] with B dividing b and H either 1 or b / B, and
///   the scores are seen as [B, b / B, sq, sk] (b = batch·heads with the batch outer): a
///   padding mask [batch, 1, 1, sk] as BERT builds it, or a per-head bias [batch, heads, sq, sk].
///
/// Masked positions want a large finite negative value (e.g. −1e9): exp of it underflows to
/// exactly 0 in f32, whereas WGSL leaves arithmetic on infinities undefined. A row whose
/// every key is masked has no defined softmax.
///
/// q, k and v may be strided views (a transposed or permuted tensor, a window of a KV cache);
/// the scores and probabilities are always dense.
pub async fn attention(q: &Tensor, k: &Tensor, v: &Tensor, bias: Option<&Tensor>, scale: f32) -> Result<Tensor> {
    check_f32("attention", &[q, k, v])?;
    check_f32("attention", &bias.into_iter().collect::<Vec<_>>())?;
    let plan = plan(q, k, v, bias)?;
    let [b, sq, _] = plan.scores;
    let (d, dv) = (q.shape().last_dim(), v.shape().last_dim());
    let fused = AttentionPlan { b, sq, sk: k.dims()[1], d, dv, scale, bias_groups: plan.bias_groups };
    let out = match bias {
        None => dispatch!(optional "attention", [q.storage(), k.storage(), v.storage()] => |be, qs, ks, vs| {
            be.attention(operand(qs, q), operand(ks, k), operand(vs, v), None, &fused)
        }),
        Some(bias) => dispatch!(optional "attention", [q.storage(), k.storage(), v.storage(), bias.storage()] => |be, qs, ks, vs, bs| {
            be.attention(operand(qs, q), operand(ks, k), operand(vs, v), Some(operand(bs, bias)), &fused)
        }),
    };
    match out {
        Some(out) => finish(out, [b, sq, dv]).await,
        None => composed(q, k, v, bias, scale, &plan).await,
    }
}

/// The same from the public ops, for backends without a fused kernel.
async fn composed(q: &Tensor, k: &Tensor, v: &Tensor, bias: Option<&Tensor>, scale: f32, plan: &Plan) -> Result<Tensor> {
    let scores = matmul(q, &k.transpose(1, 2)?).await?;
    let scores = if scale == 1.0 { scores } else { scale_by(&scores, scale).await? };
    let scores = match (bias, plan.bias_groups) {
        (None, _) => scores,
        (Some(bias), None) => add(&scores, &contiguous(bias).await?).await?,
        (Some(bias), Some(groups)) => {
            let [b, sq, sk] = plan.scores;
            let grouped = scores.reshape([groups, b / groups, sq, sk])?;
            add(&grouped, &contiguous(bias).await?).await?.reshape([b, sq, sk])?
        }
    };
    matmul(&softmax(&scores).await?, v).await
}

struct Plan {
    /// [b, sq, sk]
    scores: [usize; 3],
    /// For a rank-4 bias: its leading dimension B (the scores are grouped as [B, b / B, ..]).
    bias_groups: Option<usize>,
}

fn plan(q: &Tensor, k: &Tensor, v: &Tensor, bias: Option<&Tensor>) -> Result<Plan> {
    let err = |detail: String| Error::shape("attention", detail);
    let (&[b, sq, d], &[kb, sk, kd], &[vb, vk, _dv]) = (q.dims(), k.dims(), v.dims()) else {
        return Err(err(format!(
            "expected q [b, sq, d], k [b, sk, d], v [b, sk, dv]; got q {}, k {}, v {}",
            q.shape(),
            k.shape(),
            v.shape()
        )));
    };
    if kb != b || vb != b {
        return Err(err(format!("q {}, k {} and v {} must share their first (batch·heads) dimension", q.shape(), k.shape(), v.shape())));
    }
    if kd != d {
        return Err(err(format!("q {} and k {} must share their last (head) dimension", q.shape(), k.shape())));
    }
    if vk != sk {
        return Err(err(format!("k {} and v {} must have the same number of positions", k.shape(), v.shape())));
    }
    if sk == 0 {
        return Err(err(format!("no keys to attend to (k {})", k.shape())));
    }
    for (name, t) in [("k", k), ("v", v)].into_iter().chain(bias.map(|t| ("bias", t))) {
        if !t.device().same_as(&q.device()) {
            return Err(Error::DeviceMismatch(format!("attention: q on {}, {name} on {}", q.device().name(), t.device().name())));
        }
    }
    let scores = [b, sq, sk];
    let Some(bias) = bias else {
        return Ok(Plan { scores, bias_groups: None });
    };
    let fits = |have: usize, want: usize| have == want || have == 1;
    match *bias.dims() {
        [groups, heads, bq, bk] => {
            let ok = groups > 0 && b % groups == 0 && fits(heads, b / groups) && fits(bq, sq) && fits(bk, sk);
            if !ok {
                return Err(err(format!(
                    "a rank-4 bias must be [B, H, sq, sk] with B dividing b = {b}, H = 1 or b / B, sq = 1 or {sq}, sk = 1 or {sk}; got {}",
                    bias.shape()
                )));
            }
            Ok(Plan { scores, bias_groups: Some(groups) })
        }
        ref dims if dims.len() <= 3 && dims.iter().rev().zip(scores.iter().rev()).all(|(&h, &w)| fits(h, w)) => {
            Ok(Plan { scores, bias_groups: None })
        }
        _ => Err(err(format!("bias {} does not broadcast to the scores [{b}, {sq}, {sk}]", bias.shape()))),
    }
}
