//! Whisper's encoder for ONNX Runtime: no ONNX export of these weights exists offline, so the
//! encoder is written out as an ONNX graph of standard operators (Conv, Erf GELU,
//! LayerNormalization, MatMul attention) straight from the CTranslate2 model.bin as our
//! reader sees it, then run by ONNX Runtime's CPU EP on the same log-mel features as ours.

use super::onnx_export::{Attr, Graph};
use super::ort::{adapter, cpu_session_from_memory, err};
use crate::error::Result;
use ipfs_accelerate::weights::Ct2Model;
use ipfs_accelerate::AdapterSummary;
use ort::session::Session;
use ort::value::Tensor;

/// LayerNormalization arrived in opset 17.
const OPSET: i64 = 17;
const EPS: f32 = 1e-5;

pub struct OrtWhisperEncoder {
    session: Session,
    threads: usize,
    mels: usize,
    frames: usize,
}

/// A variable as f32 values in its own shape.
async fn values(file: &Ct2Model<'_>, name: &str, dims: &[usize]) -> Result<Vec<f32>> {
    Ok(file.tensor(name, dims)?.to_vec().await?)
}

/// `[out, in]` → `[in, out]`: ONNX MatMul multiplies rows by the right operand.
fn transposed(w: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut t = vec![0.0; w.len()];
    for r in 0..rows {
        for c in 0..cols {
            t[c * rows + r] = w[r * cols + c];
        }
    }
    t
}

struct Builder<'f, 'a> {
    g: Graph,
    file: &'f Ct2Model<'a>,
    /// GELU's constants (√2, ½, 1), written once.
    gelu_constants: Option<[String; 3]>,
}

impl Builder<'_, '_> {
    async fn weight(&mut self, name: &str, dims: &[usize]) -> Result<String> {
        let v = values(self.file, name, dims).await?;
        Ok(self.g.weight(name, dims, &v))
    }

    /// x · Wᵀ + b for the Linear at `prefix` ([out, in] weight).
    async fn linear(&mut self, x: &str, prefix: &str, inputs: usize, outputs: usize) -> Result<String> {
        let w = values(self.file, &format!("{prefix}/weight"), &[outputs, inputs]).await?;
        let w = self.g.weight(&format!("{prefix}/weight_t"), &[inputs, outputs], &transposed(&w, outputs, inputs));
        let b = self.weight(&format!("{prefix}/bias"), &[outputs]).await?;
        let y = self.g.node("MatMul", &[x, &w], &[]);
        Ok(self.g.node("Add", &[&y, &b], &[]))
    }

    async fn norm(&mut self, x: &str, prefix: &str, d: usize) -> Result<String> {
        let gamma = self.weight(&format!("{prefix}/gamma"), &[d]).await?;
        let beta = self.weight(&format!("{prefix}/beta"), &[d]).await?;
        Ok(self.g.node("LayerNormalization", &[x, &gamma, &beta], &[("axis", Attr::Int(-1)), ("epsilon", Attr::Float(EPS))]))
    }

    /// Exact GELU: x · ½ · (1 + erf(x / √2)).
    fn gelu(&mut self, x: &str) -> String {
        let g = &mut self.g;
        let [sqrt2, half, one] = self
            .gelu_constants
            .get_or_insert_with(|| {
                [g.weight("sqrt2", &[], &[std::f32::consts::SQRT_2]), g.weight("half", &[], &[0.5]), g.weight("one", &[], &[1.0])]
            })
            .clone();
        let scaled = self.g.node("Div", &[x, &sqrt2], &[]);
        let e = self.g.node("Erf", &[&scaled], &[]);
        let one_plus = self.g.node("Add", &[&e, &one], &[]);
        let inner = self.g.node("Mul", &[&one_plus, &half], &[]);
        self.g.node("Mul", &[x, &inner], &[])
    }

    async fn conv(&mut self, x: &str, prefix: &str, inputs: usize, d: usize, stride: i64) -> Result<String> {
        let w = self.weight(&format!("{prefix}/weight"), &[d, inputs, 3]).await?;
        let b = self.weight(&format!("{prefix}/bias"), &[d]).await?;
        let attrs = [("pads", Attr::Ints(vec![1, 1])), ("strides", Attr::Ints(vec![stride])), ("kernel_shape", Attr::Ints(vec![3]))];
        let y = self.g.node("Conv", &[x, &w, &b], &attrs);
        Ok(self.gelu(&y))
    }

    /// Pre-norm self-attention and feed-forward over x [1, seq, d].
    async fn layer(&mut self, x: &str, p: &str, seq: usize, d: usize, heads: usize) -> Result<String> {
        let hd = d / heads;
        let h = self.norm(x, &format!("{p}/self_attention/layer_norm"), d).await?;
        let qkv = self.linear(&h, &format!("{p}/self_attention/linear_0"), d, 3 * d).await?;
        let split = self.g.ints(&[d as i64; 3]);
        let parts = self.g.node_n("Split", &[&qkv, &split], &[("axis", Attr::Int(-1))], 3);
        let heads_shape = self.g.ints(&[1, seq as i64, heads as i64, hd as i64]);
        let mut per_head = |part: &str, perm: Vec<i64>| {
            let r = self.g.node("Reshape", &[part, &heads_shape], &[]);
            self.g.node("Transpose", &[&r], &[("perm", Attr::Ints(perm))])
        };
        let q = per_head(&parts[0], vec![0, 2, 1, 3]);
        let k_t = per_head(&parts[1], vec![0, 2, 3, 1]);
        let v = per_head(&parts[2], vec![0, 2, 1, 3]);
        let scale = self.g.weight(&format!("{p}/scale"), &[], &[1.0 / (hd as f32).sqrt()]);
        let products = self.g.node("MatMul", &[&q, &k_t], &[]);
        let scores = self.g.node("Mul", &[&products, &scale], &[]);
        let attn = self.g.node("Softmax", &[&scores], &[("axis", Attr::Int(-1))]);
        let context = self.g.node("MatMul", &[&attn, &v], &[]);
        let merged = self.g.node("Transpose", &[&context], &[("perm", Attr::Ints(vec![0, 2, 1, 3]))]);
        let rows = self.g.ints(&[1, seq as i64, d as i64]);
        let merged = self.g.node("Reshape", &[&merged, &rows], &[]);
        let out = self.linear(&merged, &format!("{p}/self_attention/linear_1"), d, d).await?;
        let x = self.g.node("Add", &[x, &out], &[]);
        let h = self.norm(&x, &format!("{p}/ffn/layer_norm"), d).await?;
        let up = self.linear(&h, &format!("{p}/ffn/linear_0"), d, 4 * d).await?;
        let up = self.gelu(&up);
        let down = self.linear(&up, &format!("{p}/ffn/linear_1"), 4 * d, d).await?;
        Ok(self.g.node("Add", &[&x, &down], &[]))
    }
}

/// The encoder of a WhisperSpec model.bin as ONNX: input `mel` [1, mels, frames], output
/// `encoded` [1, frames / 2, d].
pub async fn export_encoder(model_bin: &[u8]) -> Result<(Vec<u8>, usize, usize)> {
    let file = Ct2Model::parse(model_bin)?;
    let conv1 = file.variable("encoder/conv1/weight")?;
    let &[d, mels, 3] = conv1.dims.as_slice() else {
        return Err(err(format!("encoder/conv1/weight has shape {:?}, expected [d, mels, 3]", conv1.dims)));
    };
    let positions = file.variable("encoder/position_encodings/encodings")?.dims.first().copied().unwrap_or(0);
    let heads = file.int("encoder/num_heads")? as usize;
    if heads == 0 || d % heads != 0 {
        return Err(err(format!("{heads} heads do not divide width {d}")));
    }
    let frames = 2 * positions;
    let mut b = Builder { g: Graph::default(), file: &file, gelu_constants: None };
    let x = b.conv("mel", "encoder/conv1", mels, d, 1).await?;
    let x = b.conv(&x, "encoder/conv2", d, d, 2).await?;
    let x = b.g.node("Transpose", &[&x], &[("perm", Attr::Ints(vec![0, 2, 1]))]);
    let pos = b.weight("encoder/position_encodings/encodings", &[positions, d]).await?;
    let mut x = b.g.node("Add", &[&x, &pos], &[]);
    for i in (0..).take_while(|i| file.contains(&format!("encoder/layer_{i}/ffn/layer_norm/gamma"))) {
        x = b.layer(&x, &format!("encoder/layer_{i}"), positions, d, heads).await?;
    }
    let x = b.norm(&x, "encoder/layer_norm", d).await?;
    let bytes = b.g.finish(("mel", &[Some(1), Some(mels), Some(frames)]), (&x, "encoded", &[Some(1), Some(positions), Some(d)]), OPSET);
    Ok((bytes, mels, frames))
}

impl OrtWhisperEncoder {
    pub async fn load(model_bin: &[u8]) -> Result<OrtWhisperEncoder> {
        let (onnx, mels, frames) = export_encoder(model_bin).await?;
        let (session, threads) = cpu_session_from_memory(&onnx)?;
        Ok(OrtWhisperEncoder { session, threads, mels, frames })
    }

    pub fn adapter(&self) -> AdapterSummary {
        adapter(self.threads)
    }

    /// `features` time-major [frames, mels] (as `Whisper::features` gives them) → [frames / 2, d].
    pub fn encode(&mut self, features: &[f32]) -> Result<Vec<f32>> {
        if features.len() != self.frames * self.mels {
            return Err(err(format!("{} feature values, the window is {} frames × {} mels", features.len(), self.frames, self.mels)));
        }
        // ONNX Conv wants channels first: [1, mels, frames].
        let channels_first = transposed(features, self.frames, self.mels);
        let feed = Tensor::from_array(([1, self.mels, self.frames], channels_first)).map_err(err)?;
        let outputs = self.session.run(vec![("mel".to_string(), feed)]).map_err(err)?;
        let (_, encoded) = outputs["encoded"].try_extract_tensor::<f32>().map_err(err)?;
        Ok(encoded.to_vec())
    }
}
