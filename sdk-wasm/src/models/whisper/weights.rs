//! Whisper's weights out of a CTranslate2 `WhisperSpec` model.bin, named as CTranslate2 names
//! them (`encoder/layer_0/self_attention/linear_0/weight`: the fused query-key-value map), each
//! Linear's [out, in] weight transposed once into the [in, out] matmul operand.

use crate::core::error::{Error, Result};
use crate::device::Device;
use crate::models::layers::{matmul_operand, LayerNorm, Linear};
use crate::ops;
use crate::tensor::Tensor;
use crate::weights::Ct2Model;

pub(super) struct Weights<'m, 'f> {
    pub file: &'m Ct2Model<'f>,
    pub device: &'m Device,
}

impl Weights<'_, '_> {
    /// `{prefix}/weight` [out, in] and `{prefix}/bias` [out] as a Linear.
    pub async fn linear(&self, prefix: &str, inputs: usize, outputs: usize) -> Result<Linear> {
        let w = self.file.tensor(&format!("{prefix}/weight"), &[outputs, inputs])?;
        let weight_t = matmul_operand(ops::contiguous(&w.transpose(0, 1)?).await?, self.device).await?;
        Ok(Linear { weight_t, bias: self.vector(&format!("{prefix}/bias"), outputs).await? })
    }

    pub async fn norm(&self, prefix: &str, width: usize) -> Result<LayerNorm> {
        Ok(LayerNorm {
            gamma: self.vector(&format!("{prefix}/gamma"), width).await?,
            beta: self.vector(&format!("{prefix}/beta"), width).await?,
        })
    }

    pub async fn vector(&self, name: &str, width: usize) -> Result<Tensor> {
        self.file.tensor(name, &[width])?.to_device(self.device).await
    }

    pub fn count_layers(&self, stack: &str) -> usize {
        (0..).take_while(|i| self.file.contains(&format!("{stack}/layer_{i}/ffn/layer_norm/gamma"))).count()
    }

    /// A spec setting that must have one value (e.g. pre-norm layers).
    pub fn expect(&self, name: &str, want: i64, meaning: &str) -> Result<()> {
        match self.file.int(name)? {
            v if v == want => Ok(()),
            v => Err(Error::Model(format!("{name} is {v}; only {meaning} ({want}) is supported"))),
        }
    }
}
