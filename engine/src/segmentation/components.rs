//! Connected components of a class map: pixels of the same non-zero class
//! that touch (4- or 8-connected) form one component. Class 0 is
//! background and gets no component. Components are numbered from 1 in the
//! raster order of their first pixel.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Connectivity {
    /// Edge neighbours only.
    Four,
    /// Edge and corner neighbours.
    Eight,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Components {
    /// Component id per pixel (0 for background).
    pub ids: Vec<u32>,
    /// Class of component `k + 1`.
    pub class_of: Vec<u8>,
    /// Pixel count of component `k + 1`.
    pub sizes: Vec<usize>,
}

impl Components {
    pub fn count(&self) -> usize {
        self.class_of.len()
    }

    /// Components of class `c`.
    pub fn count_of(&self, c: u8) -> usize {
        self.class_of.iter().filter(|&&k| k == c).count()
    }
}

/// Label the components of `labels` (`width * height`, row-major); a map of
/// the wrong length gives no components.
pub fn components(labels: &[u8], width: usize, height: usize, conn: Connectivity) -> Components {
    let mut out = Components { ids: vec![0; labels.len()], class_of: vec![], sizes: vec![] };
    if labels.len() != width * height {
        return out;
    }
    let offsets: &[(isize, isize)] = match conn {
        Connectivity::Four => &[(1, 0), (-1, 0), (0, 1), (0, -1)],
        Connectivity::Eight => &[(1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (1, -1), (-1, 1), (-1, -1)],
    };
    let mut stack = Vec::new();
    for start in 0..labels.len() {
        let c = labels[start];
        if c == 0 || out.ids[start] != 0 {
            continue;
        }
        let id = out.class_of.len() as u32 + 1;
        out.class_of.push(c);
        out.ids[start] = id;
        stack.push(start);
        let mut size = 0;
        // Flood fill with an explicit stack (no recursion depth limit).
        while let Some(p) = stack.pop() {
            size += 1;
            let (x, y) = ((p % width) as isize, (p / width) as isize);
            for &(dx, dy) in offsets {
                let (nx, ny) = (x + dx, y + dy);
                if nx < 0 || ny < 0 || nx >= width as isize || ny >= height as isize {
                    continue;
                }
                let q = ny as usize * width + nx as usize;
                if labels[q] == c && out.ids[q] == 0 {
                    out.ids[q] = id;
                    stack.push(q);
                }
            }
        }
        out.sizes.push(size);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagonal_pixels_join_only_with_eight_connectivity() {
        // 5x4 map:
        // 1 1 0 2 2
        // 0 0 1 0 2
        // 3 0 0 0 0
        // 3 3 0 1 1
        #[rustfmt::skip]
        let m = [1, 1, 0, 2, 2,
                 0, 0, 1, 0, 2,
                 3, 0, 0, 0, 0,
                 3, 3, 0, 1, 1];
        let four = components(&m, 5, 4, Connectivity::Four);
        // {1 1}, {2 2 2}, {1 at (2,1)}, {3 3 3}, {1 1 at the bottom}
        assert_eq!(four.count(), 5);
        assert_eq!(four.class_of, vec![1, 2, 1, 3, 1]);
        assert_eq!(four.sizes, vec![2, 3, 1, 3, 2]);
        assert_eq!(four.ids[7], 3);
        let eight = components(&m, 5, 4, Connectivity::Eight);
        // The lone 1 touches the top pair at a corner: they merge. Class 2
        // touches it too but is another class, so it stays apart.
        assert_eq!(eight.count(), 4);
        assert_eq!(eight.class_of, vec![1, 2, 3, 1]);
        assert_eq!(eight.sizes, vec![3, 3, 3, 2]);
        assert_eq!((eight.ids[7], eight.ids[0]), (1, 1));
        assert_eq!(eight.count_of(1), 2);
        assert_eq!(eight.ids[2], 0);
    }

    #[test]
    fn wrong_sizes_give_nothing() {
        assert_eq!(components(&[1, 1, 1], 2, 2, Connectivity::Four).count(), 0);
    }
}
