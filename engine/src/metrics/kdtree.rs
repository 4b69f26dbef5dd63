//! A k-d tree over 3D points for nearest-neighbour queries, the core of
//! Chamfer distance and F-score on large clouds.

/// Points per leaf: scanning a dozen points linearly is cheaper than splitting further.
const LEAF_SIZE: usize = 12;

#[derive(Clone, Copy, Debug)]
struct Node {
    /// Tight bounds of the node's points. Pruning by them rather than by the
    /// splitting planes matters for surface samples: a query off the surface
    /// then skips the empty space that plane cells would include.
    lo: [f32; 3],
    hi: [f32; 3],
    kind: Kind,
}

#[derive(Clone, Copy, Debug)]
enum Kind {
    /// Points `start..end` of the reordered arrays.
    Leaf { start: u32, end: u32 },
    /// Two children: the next node, and `right`.
    Split { right: u32 },
}

/// Static k-d tree (median splits on the widest axis) with a bounding box
/// per node. Points must be finite (the metrics check before building);
/// queries return indices into the slice the tree was built from.
#[derive(Clone, Debug)]
pub struct KdTree {
    /// The points, reordered so that every leaf is contiguous.
    points: Vec<[f32; 3]>,
    /// Original index of each reordered point.
    ids: Vec<u32>,
    nodes: Vec<Node>,
}

impl KdTree {
    pub fn new(points: &[[f32; 3]]) -> Self {
        let mut items: Vec<([f32; 3], u32)> = points.iter().enumerate().map(|(i, &p)| (p, i as u32)).collect();
        let mut nodes = Vec::with_capacity(2 * points.len() / LEAF_SIZE + 1);
        if !items.is_empty() {
            build(&mut items, 0, &mut nodes);
        }
        let (points, ids) = items.into_iter().unzip();
        KdTree { points, ids, nodes }
    }

    pub fn len(&self) -> usize {
        self.points.len()
    }

    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// Index of the point nearest to `q` and its squared distance; `None` for
    /// an empty tree. Ties go to whichever point the search meets first.
    pub fn nearest(&self, q: [f32; 3]) -> Option<(usize, f32)> {
        if self.nodes.is_empty() {
            return None;
        }
        let mut best = (usize::MAX, f32::INFINITY);
        self.search(0, q, &mut best);
        (best.0 != usize::MAX).then(|| (self.ids[best.0] as usize, best.1))
    }

    /// `nearest` for every query, split across the available cores.
    /// Empty when the tree is.
    pub fn nearest_all(&self, queries: &[[f32; 3]]) -> Vec<(usize, f32)> {
        if self.is_empty() {
            return Vec::new();
        }
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        // Below a few thousand queries a thread costs more than it saves.
        let chunk = queries.len().div_ceil(threads).max(4096);
        let run = |qs: &[[f32; 3]]| qs.iter().filter_map(|&q| self.nearest(q)).collect::<Vec<_>>();
        if chunk >= queries.len() {
            return run(queries);
        }
        std::thread::scope(|s| {
            let handles: Vec<_> = queries.chunks(chunk).map(|qs| s.spawn(move || run(qs))).collect();
            // A query cannot panic; if a thread did, its panic is passed on.
            handles.into_iter().flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))).collect()
        })
    }

    fn search(&self, node: usize, q: [f32; 3], best: &mut (usize, f32)) {
        match self.nodes[node].kind {
            Kind::Leaf { start, end } => {
                for i in start as usize..end as usize {
                    let d = dist2(self.points[i], q);
                    if d < best.1 {
                        *best = (i, d);
                    }
                }
            }
            Kind::Split { right } => {
                let (l, r) = (node + 1, right as usize);
                let (dl, dr) = (self.box_dist2(l, q), self.box_dist2(r, q));
                // Nearer box first, so the best shrinks before the other is tested.
                let ((first, d_first), (second, d_second)) = if dl <= dr { ((l, dl), (r, dr)) } else { ((r, dr), (l, dl)) };
                if d_first < best.1 {
                    self.search(first, q, best);
                }
                if d_second < best.1 {
                    self.search(second, q, best);
                }
            }
        }
    }

    /// Squared distance from `q` to node's bounding box (0 inside).
    fn box_dist2(&self, node: usize, q: [f32; 3]) -> f32 {
        let n = &self.nodes[node];
        let mut d = 0.0;
        for k in 0..3 {
            let o = (n.lo[k] - q[k]).max(q[k] - n.hi[k]).max(0.0);
            d += o * o;
        }
        d
    }
}

/// Build the subtree over `items` (whose first item has reordered index
/// `offset`) in preorder; returns its root's node index.
fn build(items: &mut [([f32; 3], u32)], offset: usize, nodes: &mut Vec<Node>) -> usize {
    let idx = nodes.len();
    let (lo, hi) = bounds(items);
    if items.len() <= LEAF_SIZE {
        nodes.push(Node { lo, hi, kind: Kind::Leaf { start: offset as u32, end: (offset + items.len()) as u32 } });
        return idx;
    }
    let axis = (0..3).max_by(|&a, &b| (hi[a] - lo[a]).total_cmp(&(hi[b] - lo[b]))).unwrap_or(0);
    let mid = items.len() / 2;
    items.select_nth_unstable_by(mid, |a, b| a.0[axis].total_cmp(&b.0[axis]));
    nodes.push(Node { lo, hi, kind: Kind::Split { right: 0 } });
    let (left, right) = items.split_at_mut(mid);
    build(left, offset, nodes);
    let right_idx = build(right, offset + mid, nodes);
    nodes[idx].kind = Kind::Split { right: right_idx as u32 };
    idx
}

fn bounds(items: &[([f32; 3], u32)]) -> ([f32; 3], [f32; 3]) {
    let mut lo = [f32::INFINITY; 3];
    let mut hi = [f32::NEG_INFINITY; 3];
    for (p, _) in items {
        for k in 0..3 {
            lo[k] = lo[k].min(p[k]);
            hi[k] = hi[k].max(p[k]);
        }
    }
    (lo, hi)
}

pub(crate) fn dist2(a: [f32; 3], b: [f32; 3]) -> f32 {
    let d = [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
    d[0] * d[0] + d[1] * d[1] + d[2] * d[2]
}

/// The nearest point by checking every one: the reference the tree is tested
/// and benchmarked against. `None` for no points.
pub fn brute_force_nearest(points: &[[f32; 3]], q: [f32; 3]) -> Option<(usize, f32)> {
    points.iter().map(|&p| dist2(p, q)).enumerate().min_by(|a, b| a.1.total_cmp(&b.1))
}
