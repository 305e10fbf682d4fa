//! Each kernel's uniform parameters, defined once: the macro below makes the Rust struct, its
//! bytes in WGSL's uniform layout, and the `struct Params` declaration that `shaders.rs`
//! prepends to the kernel's WGSL (so the two can never disagree; a test checks the offsets
//! against naga's layout of the composed shader).

/// A field's WGSL type: scalars align to 4 bytes, `vec4<u32>` to 16.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    U32,
    F32,
    Vec4U32,
}

impl FieldType {
    fn size_align(self) -> (usize, usize) {
        match self {
            FieldType::U32 | FieldType::F32 => (4, 4),
            FieldType::Vec4U32 => (16, 16),
        }
    }
    fn wgsl(self) -> &'static str {
        match self {
            FieldType::U32 => "u32",
            FieldType::F32 => "f32",
            FieldType::Vec4U32 => "vec4<u32>",
        }
    }
}

/// A kernel's parameter block.
pub trait Params {
    const FIELDS: &'static [(&'static str, FieldType)];
    /// The field values as 32-bit words, in declaration order.
    fn words(&self) -> Vec<u32>;

    /// Byte offset of each field in WGSL's uniform layout, and the struct's size (a multiple of 16).
    fn layout() -> (Vec<usize>, usize) {
        let mut offsets = Vec::with_capacity(Self::FIELDS.len());
        let mut at: usize = 0;
        for (_, ty) in Self::FIELDS {
            let (size, align) = ty.size_align();
            at = at.next_multiple_of(align);
            offsets.push(at);
            at += size;
        }
        (offsets, at.next_multiple_of(16).max(16))
    }

    fn bytes(&self) -> Vec<u8> {
        let (offsets, size) = Self::layout();
        let mut out = vec![0u8; size];
        let words = self.words();
        let mut w = 0;
        for ((_, ty), offset) in Self::FIELDS.iter().zip(offsets) {
            let count = ty.size_align().0 / 4;
            for i in 0..count {
                out[offset + 4 * i..offset + 4 * i + 4].copy_from_slice(&words[w].to_le_bytes());
                w += 1;
            }
        }
        out
    }

    /// `struct Params { … }` for the kernel's WGSL.
    fn wgsl() -> String {
        let fields: String = Self::FIELDS.iter().map(|(name, ty)| format!("    {name}: {},\n", ty.wgsl())).collect();
        format!("struct Params {{\n{fields}}}\n")
    }
}

macro_rules! params {
    (@ty u32) => { u32 };
    (@ty f32) => { f32 };
    (@ty vec4u) => { [u32; 4] };
    (@kind u32) => { FieldType::U32 };
    (@kind f32) => { FieldType::F32 };
    (@kind vec4u) => { FieldType::Vec4U32 };
    (@words $out:ident, u32, $v:expr) => { $out.push($v) };
    (@words $out:ident, f32, $v:expr) => { $out.push($v.to_bits()) };
    (@words $out:ident, vec4u, $v:expr) => { $out.extend($v) };
    ($(#[$meta:meta])* $name:ident { $($field:ident : $ty:tt),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, Default)]
        pub struct $name { $(pub $field: params!(@ty $ty)),* }
        impl Params for $name {
            const FIELDS: &'static [(&'static str, FieldType)] = &[$((stringify!($field), params!(@kind $ty))),*];
            #[allow(clippy::vec_init_then_push)]
            fn words(&self) -> Vec<u32> {
                let mut out = Vec::new();
                $(params!(@words out, $ty, self.$field);)*
                out
            }
        }
    };
}

params!(
    /// Batched matmul read through (batch, row, col) strides of both operands.
    MatmulParams {
        m: u32, n: u32, k: u32, batch: u32,
        a_offset: u32, a_batch_stride: u32, a_row_stride: u32, a_col_stride: u32,
        b_offset: u32, b_batch_stride: u32, b_row_stride: u32, b_col_stride: u32,
    }
);
params!(
    /// Broadcast binary ops and scaling; shapes right-aligned into 4 dims (broadcast stride 0).
    BinaryParams { len: u32, scale: f32, out_shape: vec4u, a_strides: vec4u, b_strides: vec4u }
);
params!(
    /// Element-wise kernels over `len` values.
    UnaryParams { len: u32 }
);
params!(
    /// Row-wise kernels (softmax, layernorm, rmsnorm).
    RowParams { rows: u32, cols: u32, eps: f32 }
);
params!(
    /// A strided view (rank ≤ 4, right-aligned) copied contiguous.
    CopyParams { len: u32, offset: u32, shape: vec4u, strides: vec4u }
);
params!(GatherParams { rows: u32, dim: u32, table_rows: u32 });
params!(KvWriteParams { seq: u32, heads: u32, dim: u32, capacity: u32, start: u32 });
params!(RopeParams { seq: u32, heads: u32, head_dim: u32 });
params!(QmatmulParams { m: u32, n: u32, k: u32, row_bytes: u32 });
