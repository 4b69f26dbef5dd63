//! Every primitive op and view op: autograd against finite differences (f64
//! reference evaluator), and our CPU program against the reference, with a
//! dynamic batch dim at several sizes.

use vislab_engine::check::{Rng, compare_cpu, project, verify};
use vislab_engine::error::EngineError;
use vislab_engine::graph::{Dim, Graph, Tensor, batch_dim};

type Build = dyn Fn(&mut Graph) -> Result<(Tensor, Vec<Tensor>), EngineError>;

fn no_init(_: &str, _: usize, _: &mut Rng) -> Option<Vec<f64>> {
    None
}

fn check(name: &str, build: &Build) {
    let c = verify(name, build, &[(1, 1), (3, 2), (5, 3)], &no_init).unwrap_or_else(|e| panic!("{e}"));
    if name.contains("matmul") {
        assert!(c.gemms >= 2, "{name}: forward and gradient contractions should run as GEMM, got {}", c.gemms);
    }
    if name.contains("chain") {
        assert!(c.fused >= 2, "{name}: element-wise chains should fuse (forward and backward), got {}", c.fused);
    }
}

fn d(n: usize) -> Dim {
    n.into()
}

fn x2(g: &mut Graph, shape: &[Dim]) -> Result<Tensor, EngineError> {
    g.input("x", shape)
}

/// x*x + 0.5: strictly positive input for log/sqrt/recip.
fn positive(g: &mut Graph, x: Tensor) -> Result<Tensor, EngineError> {
    let s = g.mul(x, x)?;
    g.add_scalar(s, 0.5)
}

#[test]
fn unary_ops() {
    type U = fn(&mut Graph, Tensor) -> Tensor;
    let ops: [(&str, U); 5] = [("log2", |g, x| g.log2(x)), ("exp2", |g, x| g.exp2(x)), ("sin", |g, x| g.sin(x)), ("sqrt", |g, x| g.sqrt(x)), ("recip", |g, x| g.recip(x))];
    for (name, f) in ops {
        check(name, &move |g| {
            let x = x2(g, &[batch_dim(), d(5)])?;
            let p = positive(g, x)?;
            let y = f(g, p);
            Ok((project(g, y)?, vec![x]))
        });
        // Unary op straight on a leaf through a permuted view.
        check(name, &move |g| {
            let x = x2(g, &[batch_dim(), d(3)])?;
            let xt = g.permute(x, &[1, 0])?;
            let y = if name == "sin" || name == "exp2" {
                f(g, xt)
            } else {
                let p = positive(g, xt)?;
                f(g, p)
            };
            Ok((project(g, y)?, vec![x]))
        });
    }
}

fn chain(g: &mut Graph, width: usize) -> Result<(Tensor, Vec<Tensor>), EngineError> {
    let x = x2(g, &[batch_dim(), d(width)])?;
    let y = g.input("y", &[batch_dim(), d(width)])?;
    let a = g.mul(x, y)?;
    let b = g.sin(a);
    let c = g.add(b, x)?;
    let e = g.exp(c)?;
    Ok((project(g, e)?, vec![x, y]))
}

#[test]
fn binary_ops_with_broadcast() {
    check("add", &|g| {
        let x = x2(g, &[batch_dim(), d(3), d(4)])?;
        let b = g.param("b", &[4])?;
        let y = g.add(x, b)?;
        let y = g.mul(y, y)?;
        Ok((project(g, y)?, vec![x, b]))
    });
    check("mul", &|g| {
        let x = x2(g, &[batch_dim(), d(3), d(4)])?;
        let c = g.param("c", &[3, 1])?;
        let y = g.mul(x, c)?;
        Ok((project(g, y)?, vec![x, c]))
    });
    check("element-wise chain", &|g| chain(g, 7));
    // Wider than one fusion block (1024), through the CPU program only.
    for batch in [1, 3] {
        let c = compare_cpu(&|g| chain(g, 1500), batch, 9, &no_init).unwrap();
        assert!(c.max_rel_err < 2e-4, "wide chain: {:.2e} at {}", c.max_rel_err, c.worst);
        assert!(c.fused >= 2, "wide chain fused {}", c.fused);
    }
    check("mul self", &|g| {
        let x = x2(g, &[batch_dim(), d(7)])?;
        let y = g.mul(x, x)?;
        let y = g.mul(y, x)?;
        Ok((project(g, y)?, vec![x]))
    });
    check("mod", &|g| {
        let x = x2(g, &[batch_dim(), d(5)])?;
        let m = g.scalar(0.7);
        let y = g.modulo(x, m)?;
        Ok((project(g, y)?, vec![x]))
    });
    check("less_than", &|g| {
        let x = x2(g, &[batch_dim(), d(5)])?;
        let y = g.input("y", &[batch_dim(), d(5)])?;
        let m = g.less_than(x, y)?;
        let z = g.mul(m, x)?;
        let z = g.mul(z, y)?;
        Ok((project(g, z)?, vec![x, y]))
    });
}

#[test]
fn reductions() {
    for axis in 0..3 {
        check("sum_reduce", &move |g| {
            let x = x2(g, &[batch_dim(), d(4), d(3)])?;
            let s = g.sum_reduce(x, axis)?;
            let s = g.mul(s, s)?;
            Ok((project(g, s)?, vec![x]))
        });
        check("max_reduce", &move |g| {
            let x = x2(g, &[batch_dim(), d(4), d(3)])?;
            let s = g.max_reduce(x, axis)?;
            Ok((project(g, s)?, vec![x]))
        });
    }
    check("mean over batch", &|g| {
        let x = x2(g, &[batch_dim(), d(3)])?;
        let m = g.mean_axes(x, &[0])?;
        let m = g.mul(m, m)?;
        Ok((project(g, m)?, vec![x]))
    });
}

#[test]
fn view_ops() {
    check("permute+contiguous", &|g| {
        let x = x2(g, &[batch_dim(), d(3), d(5)])?;
        let p = g.permute(x, &[2, 0, 1])?;
        let c = g.contiguous(p);
        let s = g.sin(c);
        Ok((project(g, s)?, vec![x]))
    });
    check("slice start+end", &|g| {
        let x = x2(g, &[batch_dim(), d(9)])?;
        let s = g.slice(x, 1, 2, 7)?;
        let s = g.mul(s, s)?;
        Ok((project(g, s)?, vec![x]))
    });
    check("slice of permute", &|g| {
        let x = x2(g, &[batch_dim(), d(9), d(4)])?;
        let p = g.permute(x, &[2, 1, 0])?;
        let s = g.slice(p, 1, 3, 8)?;
        let s = g.slice(s, 0, 1, 3)?;
        let s = g.mul(s, s)?;
        Ok((project(g, s)?, vec![x]))
    });
    check("pad", &|g| {
        let x = x2(g, &[batch_dim(), d(3), d(5)])?;
        let p = g.pad(x, 2, 1, 2)?;
        let p = g.pad(p, 1, 2, 0)?;
        let e = g.exp(p)?;
        Ok((project(g, e)?, vec![x]))
    });
    check("pad of slice", &|g| {
        let x = x2(g, &[batch_dim(), d(8)])?;
        let s = g.slice(x, 1, 3, 6)?;
        let p = g.pad(s, 1, 2, 1)?;
        let y = g.mul(p, p)?;
        Ok((project(g, y)?, vec![x]))
    });
    check("slice of pad", &|g| {
        let x = x2(g, &[batch_dim(), d(5)])?;
        let p = g.pad(x, 1, 3, 2)?;
        let s = g.slice(p, 1, 1, 8)?;
        let y = g.mul(s, s)?;
        Ok((project(g, y)?, vec![x]))
    });
    check("expand", &|g| {
        let x = x2(g, &[batch_dim(), d(3)])?;
        let e = g.expand(x, 1, d(4))?;
        let w = g.param("w", &[4, 3])?;
        let y = g.mul(e, w)?;
        let y = g.mul(y, y)?;
        Ok((project(g, y)?, vec![x, w]))
    });
    check("sum of a reshaped product (not a GEMM)", &|g| {
        let x = x2(g, &[batch_dim(), d(6)])?;
        let y = g.input("y", &[batch_dim(), d(6)])?;
        let p = g.mul(x, y)?;
        let r = g.reshape(p, &[batch_dim(), d(2), d(3)])?;
        let s = g.sum_reduce(r, 2)?;
        Ok((project(g, s)?, vec![x, y]))
    });
    check("reshape", &|g| {
        let x = x2(g, &[batch_dim(), d(6)])?;
        let p = g.permute(x, &[1, 0])?;
        let r = g.reshape(p, &[d(2), d(3), batch_dim()])?;
        let r = g.sum_reduce(r, 1)?;
        let r = g.mul(r, r)?;
        Ok((project(g, r)?, vec![x]))
    });
}

#[test]
fn matmul_large_enough_for_sgemm() {
    // The op checks above are small enough for the naive path; these shapes
    // go through matrixmultiply (forward, dX and dW, transposed operands).
    for batch in [1, 33] {
        let c = compare_cpu(
            &|g| {
                let x = x2(g, &[batch_dim(), d(40)])?;
                let w = g.param("w", &[30, 40])?;
                let wt = g.permute(w, &[1, 0])?;
                let y = g.matmul(x, wt)?;
                let y = g.mul(y, y)?;
                Ok((project(g, y)?, vec![x, w]))
            },
            batch,
            5,
            &no_init,
        )
        .unwrap();
        assert!(c.max_rel_err < 2e-4, "batch {batch}: {:.2e} at {}", c.max_rel_err, c.worst);
        assert!(c.gemms >= 3);
    }
}

#[test]
fn matmul() {
    check("matmul", &|g| {
        let x = x2(g, &[batch_dim(), d(7)])?;
        let w = g.param("w", &[7, 5])?;
        let y = g.matmul(x, w)?;
        let y = g.mul(y, y)?;
        Ok((project(g, y)?, vec![x, w]))
    });
    check("batched matmul", &|g| {
        let x = x2(g, &[batch_dim(), d(3), d(4)])?;
        let w = g.input("w", &[batch_dim(), d(4), d(2)])?;
        let y = g.matmul(x, w)?;
        Ok((project(g, y)?, vec![x, w]))
    });
    check("matmul of transposed", &|g| {
        let x = x2(g, &[d(5), batch_dim()])?;
        let xt = g.permute(x, &[1, 0])?;
        let w = g.param("w", &[3, 5])?;
        let wt = g.permute(w, &[1, 0])?;
        let y = g.matmul(xt, wt)?;
        Ok((project(g, y)?, vec![x, w]))
    });
}
