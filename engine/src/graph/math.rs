//! Composite math built from the primitive ops (what luminal's hl_ops do, on
//! runtime shapes). Autograd only ever sees the primitives these expand to.

use std::f32::consts::{FRAC_PI_2, LN_2, LOG2_E};

use super::{Dim, Graph, Tensor};
use crate::error::EngineError;

type R = Result<Tensor, EngineError>;

impl Graph {
    pub fn add_scalar(&mut self, a: Tensor, v: f32) -> R {
        let c = self.scalar(v);
        self.add(a, c)
    }
    pub fn mul_scalar(&mut self, a: Tensor, v: f32) -> R {
        let c = self.scalar(v);
        self.mul(a, c)
    }
    pub fn neg(&mut self, a: Tensor) -> R {
        self.mul_scalar(a, -1.0)
    }
    pub fn sub(&mut self, a: Tensor, b: Tensor) -> R {
        let nb = self.neg(b)?;
        self.add(a, nb)
    }
    pub fn div(&mut self, a: Tensor, b: Tensor) -> R {
        let rb = self.recip(b);
        self.mul(a, rb)
    }
    pub fn square(&mut self, a: Tensor) -> R {
        self.mul(a, a)
    }
    /// e^x as 2^(x log2 e).
    pub fn exp(&mut self, a: Tensor) -> R {
        let s = self.mul_scalar(a, LOG2_E)?;
        Ok(self.exp2(s))
    }
    /// ln x as log2(x) ln 2.
    pub fn ln(&mut self, a: Tensor) -> R {
        let l = self.log2(a);
        self.mul_scalar(l, LN_2)
    }
    pub fn cos(&mut self, a: Tensor) -> R {
        let s = self.add_scalar(a, FRAC_PI_2)?;
        Ok(self.sin(s))
    }
    /// 1.0 where a > b.
    pub fn greater_than(&mut self, a: Tensor, b: Tensor) -> R {
        self.less_than(b, a)
    }
    /// 1.0 where a == b, as 1 - (a<b) - (b<a).
    pub fn equal(&mut self, a: Tensor, b: Tensor) -> R {
        let l = self.less_than(a, b)?;
        let g = self.less_than(b, a)?;
        let s = self.add(l, g)?;
        let n = self.neg(s)?;
        self.add_scalar(n, 1.0)
    }
    /// max(a, b) = a + (b - a) * (a < b).
    pub fn maximum(&mut self, a: Tensor, b: Tensor) -> R {
        let (a, b) = self.broadcast_pair(a, b)?;
        let m = self.less_than(a, b)?;
        let d = self.sub(b, a)?;
        let dm = self.mul(d, m)?;
        self.add(a, dm)
    }
    pub fn abs(&mut self, a: Tensor) -> R {
        // |x| = x * (2*(0<x) - 1)
        let z = self.scalar(0.0);
        let pos = self.less_than(z, a)?;
        let s = self.mul_scalar(pos, 2.0)?;
        let s = self.add_scalar(s, -1.0)?;
        self.mul(a, s)
    }

    /// Sum over several axes.
    pub fn sum_axes(&mut self, a: Tensor, axes: &[usize]) -> R {
        let mut ax = axes.to_vec();
        ax.sort_unstable();
        ax.dedup();
        let mut t = a;
        for &x in ax.iter().rev() {
            t = self.sum_reduce(t, x)?;
        }
        Ok(t)
    }
    /// Sum of every element (shape `[]`).
    pub fn sum_all(&mut self, a: Tensor) -> R {
        let axes: Vec<usize> = (0..a.view.len()).collect();
        self.sum_axes(a, &axes)
    }
    /// Product of dims as a scalar tensor (constant-folded when concrete).
    pub fn count(&mut self, dims: &[Dim]) -> Tensor {
        let prod = super::dim_product(dims);
        match prod.to_usize() {
            Some(n) => self.scalar(n as f32),
            None => self.dim_scalar(prod),
        }
    }
    pub fn mean_axes(&mut self, a: Tensor, axes: &[usize]) -> R {
        let shape = self.shape(a);
        let dims: Vec<Dim> = axes.iter().map(|&x| shape[x]).collect();
        let s = self.sum_axes(a, axes)?;
        let n = self.count(&dims);
        self.div(s, n)
    }
    pub fn mean_all(&mut self, a: Tensor) -> R {
        let axes: Vec<usize> = (0..a.view.len()).collect();
        self.mean_axes(a, &axes)
    }
    /// `a @ b`: a `[.., M, K]` with b `[K, N]`, or batched `[Z, M, K] @ [Z, K, N]`.
    /// Emitted as broadcast multiply + sum over the last axis, which our CPU
    /// program turns into one GEMM call.
    pub fn matmul(&mut self, a: Tensor, b: Tensor) -> R {
        let (sa, sb) = (self.shape(a), self.shape(b));
        let ra = sa.len();
        if ra < 2 || !(sb.len() == 2 || sb.len() == ra) || sa[ra - 1] != sb[sb.len() - 2] {
            return Err(EngineError::Shape(format!("matmul {sa:?} @ {sb:?}")));
        }
        let n = sb[sb.len() - 1];
        let m = sa[ra - 2];
        // a: [.., M, N(bcast), K]
        let ae = self.expand(a, ra - 1, n)?;
        // b: [.., N, K] then broadcast to [.., M, N, K]
        let rb = sb.len();
        let mut perm: Vec<usize> = (0..rb).collect();
        perm.swap(rb - 1, rb - 2);
        let bt = self.permute(b, &perm)?;
        let be = self.expand(bt, rb - 2, m)?;
        let mut target = sa[..ra - 1].to_vec();
        target.push(n);
        target.push(sa[ra - 1]);
        let be = self.broadcast_to(be, &target)?;
        let p = self.mul(ae, be)?;
        self.sum_reduce(p, ra)
    }
}
