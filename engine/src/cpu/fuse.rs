//! Element-wise fusion: chains and trees of flat element-wise ops (unary
//! maps, and binary ops whose inputs are plain buffers or scalars) whose
//! intermediate results have a single consumer run as one kernel that pushes
//! blocks of `BLOCK` elements through the whole tree, so intermediates live in
//! cache-sized registers instead of full buffers.

use crate::graph::Prim;

pub(crate) const BLOCK: usize = 1024;

/// Where an instruction operand comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Src {
    /// Result of an earlier instruction of the same group.
    Reg(usize),
    /// A buffer read element by element.
    Buf(usize),
    /// A one-element buffer broadcast to every element.
    Scalar(usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Instr {
    pub prim: Prim,
    pub a: Src,
    pub b: Option<Src>,
}

/// A fused group: instructions in dependency order; the last one is the result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Group {
    pub instrs: Vec<Instr>,
}

enum Operand<'a> {
    Slice(&'a [f32]),
    Scalar(f32),
}

#[inline(always)]
fn apply2(f: impl Fn(f32, f32) -> f32, a: &Operand, b: &Operand, dst: &mut [f32]) {
    match (a, b) {
        (Operand::Slice(x), Operand::Slice(y)) => {
            for ((d, &p), &q) in dst.iter_mut().zip(x.iter()).zip(y.iter()) {
                *d = f(p, q);
            }
        }
        (Operand::Slice(x), Operand::Scalar(q)) => {
            for (d, &p) in dst.iter_mut().zip(x.iter()) {
                *d = f(p, *q);
            }
        }
        (Operand::Scalar(p), Operand::Slice(y)) => {
            for (d, &q) in dst.iter_mut().zip(y.iter()) {
                *d = f(*p, q);
            }
        }
        (Operand::Scalar(p), Operand::Scalar(q)) => dst.fill(f(*p, *q)),
    }
}

fn apply(prim: Prim, a: &Operand, b: Option<&Operand>, dst: &mut [f32]) {
    match (prim, b) {
        (Prim::Add, Some(b)) => apply2(|x, y| x + y, a, b, dst),
        (Prim::Mul, Some(b)) => apply2(|x, y| x * y, a, b, dst),
        (Prim::Mod, Some(b)) => apply2(|x, y| x % y, a, b, dst),
        (Prim::LessThan, Some(b)) => apply2(|x, y| (x < y) as i32 as f32, a, b, dst),
        (p, _) => {
            let one = Operand::Scalar(0.0);
            match p {
                Prim::Log2 => apply2(|x, _| x.log2(), a, &one, dst),
                Prim::Exp2 => apply2(|x, _| x.exp2(), a, &one, dst),
                Prim::Sin => apply2(|x, _| x.sin(), a, &one, dst),
                Prim::Sqrt => apply2(|x, _| x.sqrt(), a, &one, dst),
                _ => apply2(|x, _| 1.0 / x, a, &one, dst),
            }
        }
    }
}

impl Group {
    /// Every buffer slot the group reads, with the length it needs.
    pub fn reads(&self, n: usize) -> Vec<(usize, usize)> {
        let mut v = vec![];
        for i in &self.instrs {
            for s in std::iter::once(i.a).chain(i.b) {
                match s {
                    Src::Buf(b) => v.push((b, n)),
                    Src::Scalar(b) => v.push((b, 1)),
                    Src::Reg(_) => {}
                }
            }
        }
        v
    }

    /// Run over elements `lo..lo + out.len()` into `out`.
    pub fn run(&self, bufs: &[Vec<f32>], lo: usize, out: &mut [f32]) {
        let ni = self.instrs.len();
        SCRATCH.with_borrow_mut(|scratch| {
            scratch.resize(scratch.len().max(ni * BLOCK), 0.0);
            let mut start = 0;
            while start < out.len() {
                let len = BLOCK.min(out.len() - start);
                let at = lo + start;
                for (k, ins) in self.instrs.iter().enumerate() {
                    let (done, rest) = scratch.split_at_mut(k * BLOCK);
                    let dst = &mut rest[..len];
                    let fetch = |s: Src| match s {
                        Src::Reg(r) => Operand::Slice(&done[r * BLOCK..r * BLOCK + len]),
                        Src::Buf(b) => Operand::Slice(&bufs[b][at..at + len]),
                        Src::Scalar(b) => Operand::Scalar(bufs[b].first().copied().unwrap_or(0.0)),
                    };
                    let a = fetch(ins.a);
                    let b = ins.b.map(fetch);
                    apply(ins.prim, &a, b.as_ref(), dst);
                }
                let last = (ni - 1) * BLOCK;
                out[start..start + len].copy_from_slice(&scratch[last..last + len]);
                start += len;
            }
        });
    }
}

thread_local! {
    /// One block per instruction, per thread (pieces of one group run on
    /// several threads at once).
    static SCRATCH: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
}
