//! ONNX (over the protobuf reader): parse, then extract BERT weights (renaming, int8
//! dequantization) as a load would.
#![no_main]
use ipfs_accelerate::models::bert_onnx::bert_weights_from_onnx;
use ipfs_accelerate::weights::OnnxModel;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(model) = OnnxModel::parse(data) {
        let _ = bert_weights_from_onnx(&model);
    }
});
