//! The vertex graph of a triangle mesh: who neighbours whom, the unique
//! edges, and for every interior edge the two faces that share it.

use std::collections::{BTreeSet, HashMap};

use crate::geometry::Mesh;

use super::GcnError;

/// An edge shared by exactly two faces: `a -> b` as the first face winds
/// it, `c` the first face's third vertex, `d` the second's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EdgePair {
    pub a: u32,
    pub b: u32,
    pub c: u32,
    pub d: u32,
}

#[derive(Clone, Debug)]
pub struct VertexGraph {
    pub vertices: usize,
    /// Sorted neighbours of each vertex.
    pub neighbours: Vec<Vec<u32>>,
    /// Unique edges `(a, b)` with `a < b`.
    pub edges: Vec<(u32, u32)>,
    /// Interior edges with their two faces (boundary and non-manifold edges are left out).
    pub pairs: Vec<EdgePair>,
}

impl VertexGraph {
    /// The graph of `mesh`; errors on an out-of-range index or a mesh with no edge.
    pub fn new(mesh: &Mesh) -> Result<VertexGraph, GcnError> {
        let n = mesh.positions.len();
        let mut nb: Vec<BTreeSet<u32>> = vec![BTreeSet::new(); n];
        // Directed edge -> the third vertex of every face that winds it so.
        let mut half: HashMap<(u32, u32), Vec<u32>> = HashMap::new();
        for (f, t) in mesh.triangles.iter().enumerate() {
            if t.iter().any(|&v| v as usize >= n) {
                return Err(GcnError::Input(format!("triangle {f} refers to a vertex beyond the {n} there are")));
            }
            if t[0] == t[1] || t[1] == t[2] || t[0] == t[2] {
                continue;
            }
            for k in 0..3 {
                let (a, b, c) = (t[k], t[(k + 1) % 3], t[(k + 2) % 3]);
                nb[a as usize].insert(b);
                nb[b as usize].insert(a);
                half.entry((a, b)).or_default().push(c);
            }
        }
        let neighbours: Vec<Vec<u32>> = nb.into_iter().map(|s| s.into_iter().collect()).collect();
        let edges: Vec<(u32, u32)> = neighbours.iter().enumerate().flat_map(|(a, ns)| ns.iter().filter(move |&&b| b as usize > a).map(move |&b| (a as u32, b))).collect();
        if edges.is_empty() {
            return Err(GcnError::Input("the mesh has no edges".into()));
        }
        let mut pairs = Vec::new();
        for &(a, b) in &edges {
            let (ab, ba) = (half.get(&(a, b)), half.get(&(b, a)));
            // Manifold and consistently oriented: one face each way.
            if let (Some([c]), Some([d])) = (ab.map(|v| v.as_slice()), ba.map(|v| v.as_slice())) {
                pairs.push(EdgePair { a, b, c: *c, d: *d });
            }
        }
        Ok(VertexGraph { vertices: n, neighbours, edges, pairs })
    }

    /// Dense 0/1 adjacency `[n, n]` row-major.
    pub fn adjacency(&self) -> Vec<f32> {
        let n = self.vertices;
        let mut a = vec![0.0; n * n];
        for (i, ns) in self.neighbours.iter().enumerate() {
            for &j in ns {
                a[i * n + j as usize] = 1.0;
            }
        }
        a
    }

    /// Degree of each vertex.
    pub fn degrees(&self) -> Vec<f32> {
        self.neighbours.iter().map(|n| n.len() as f32).collect()
    }

    /// Mean degree (6 on an icosphere but for the 12 original vertices).
    pub fn mean_degree(&self) -> f32 {
        2.0 * self.edges.len() as f32 / self.vertices.max(1) as f32
    }
}
