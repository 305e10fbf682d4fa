//! Writing an ONNX model: a graph of nodes over f32 initializers, serialised as the protobuf
//! `ModelProto` ONNX Runtime reads. Only what an exported forward pass needs — float and int64
//! tensors, int/ints/float attributes, one float input and output.

/// ONNX `TensorProto.DataType` codes.
const FLOAT: u64 = 1;
const INT64: u64 = 7;

/// A protobuf message under construction.
#[derive(Default)]
struct Message(Vec<u8>);

impl Message {
    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }

    fn key(&mut self, field: u64, wire: u64) {
        self.varint(field << 3 | wire);
    }

    fn int(&mut self, field: u64, v: i64) -> &mut Self {
        self.key(field, 0);
        self.varint(v as u64);
        self
    }

    fn float(&mut self, field: u64, v: f32) -> &mut Self {
        self.key(field, 5);
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }

    fn bytes(&mut self, field: u64, b: &[u8]) -> &mut Self {
        self.key(field, 2);
        self.varint(b.len() as u64);
        self.0.extend_from_slice(b);
        self
    }

    fn text(&mut self, field: u64, s: &str) -> &mut Self {
        self.bytes(field, s.as_bytes())
    }

    fn message(&mut self, field: u64, m: &Message) -> &mut Self {
        self.bytes(field, &m.0)
    }
}

/// An attribute of a node.
pub enum Attr {
    Int(i64),
    Ints(Vec<i64>),
    Float(f32),
}

/// An ONNX graph being built: `node` returns the name of its output.
#[derive(Default)]
pub struct Graph {
    nodes: Vec<Message>,
    initializers: Vec<Message>,
    count: usize,
}

fn tensor(name: &str, dims: &[usize], data_type: u64, raw: &[u8]) -> Message {
    let mut t = Message::default();
    for &d in dims {
        t.int(1, d as i64);
    }
    t.int(2, data_type as i64).text(8, name).bytes(9, raw);
    t
}

/// `name`: a float tensor of `dims`, dimension `None` left free.
fn value_info(name: &str, dims: &[Option<usize>]) -> Message {
    let mut shape = Message::default();
    for (i, d) in dims.iter().enumerate() {
        let mut dim = Message::default();
        match d {
            Some(v) => dim.int(1, *v as i64),
            None => dim.text(2, &format!("d{i}")),
        };
        shape.message(1, &dim);
    }
    let mut tensor_type = Message::default();
    tensor_type.int(1, FLOAT as i64).message(2, &shape);
    let mut ty = Message::default();
    ty.message(1, &tensor_type);
    let mut v = Message::default();
    v.text(1, name).message(2, &ty);
    v
}

impl Graph {
    /// A float initializer; returns its name.
    pub fn weight(&mut self, name: &str, dims: &[usize], values: &[f32]) -> String {
        let raw: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.initializers.push(tensor(name, dims, FLOAT, &raw));
        name.to_string()
    }

    /// An int64 initializer (shapes, axes, split sizes); returns its name.
    pub fn ints(&mut self, values: &[i64]) -> String {
        self.count += 1;
        let name = format!("const_{}", self.count);
        let raw: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.initializers.push(tensor(&name, &[values.len()], INT64, &raw));
        name
    }

    /// A node of `op` over `inputs` with `outputs` results; returns their names.
    pub fn node_n(&mut self, op: &str, inputs: &[&str], attrs: &[(&str, Attr)], outputs: usize) -> Vec<String> {
        self.count += 1;
        let names: Vec<String> = (0..outputs).map(|i| format!("{}_{}_{i}", op.to_lowercase(), self.count)).collect();
        let mut n = Message::default();
        for i in inputs {
            n.text(1, i);
        }
        for o in &names {
            n.text(2, o);
        }
        n.text(3, &format!("{op}_{}", self.count)).text(4, op);
        for (name, value) in attrs {
            let mut a = Message::default();
            a.text(1, name);
            match value {
                Attr::Int(v) => a.int(3, *v).int(20, 2),
                Attr::Float(v) => a.float(2, *v).int(20, 1),
                Attr::Ints(vs) => {
                    for v in vs {
                        a.int(8, *v);
                    }
                    a.int(20, 7)
                }
            };
            n.message(5, &a);
        }
        self.nodes.push(n);
        names
    }

    /// A node with one output.
    pub fn node(&mut self, op: &str, inputs: &[&str], attrs: &[(&str, Attr)]) -> String {
        self.node_n(op, inputs, attrs, 1).remove(0)
    }

    /// The serialised model: input `input` and output `output` (float tensors of these dims),
    /// at ONNX opset `opset`.
    pub fn finish(self, input: (&str, &[Option<usize>]), output: (&str, &str, &[Option<usize>]), opset: i64) -> Vec<u8> {
        let mut g = Message::default();
        for n in &self.nodes {
            g.message(1, n);
        }
        g.text(2, "exported");
        for t in &self.initializers {
            g.message(5, t);
        }
        g.message(11, &value_info(input.0, input.1));
        // The graph's output is an Identity of the last value, under the output's own name.
        let mut identity = Message::default();
        identity.text(1, output.0).text(2, output.1).text(3, "output").text(4, "Identity");
        g.message(1, &identity);
        g.message(12, &value_info(output.1, output.2));
        let mut opset_id = Message::default();
        opset_id.text(1, "").int(2, opset);
        let mut model = Message::default();
        model.int(1, 8).text(2, "ipfs-accelerate").message(7, &g).message(8, &opset_id);
        model.0
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn varints_are_little_endian_base_128() {
        let mut m = super::Message::default();
        m.varint(300);
        assert_eq!(m.0, vec![0xAC, 0x02]);
    }
}
